"""Commands run on uvloop's event loop where it is installed (less CPU per attempt)."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from harness import eventloop


async def loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed")
def test_commands_run_on_uvloop_when_installed():
    assert eventloop.run(loop_module()).startswith("uvloop")


def test_without_uvloop_asyncio_runs_it(monkeypatch):
    monkeypatch.setattr(eventloop, "loop_factory", lambda: None)
    assert eventloop.run(loop_module()).startswith("asyncio")
