"""The event loop every command runs on: uvloop's where it is installed, else asyncio's.

A run spends most of its own CPU in event-loop machinery (socket and pipe callbacks, timers,
task switches): uvloop does that work in C, about a tenth less CPU per attempt in
`benchmarks/bench_pipeline.py`. Nothing in the harness depends on which loop runs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run", "loop_factory"]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's `new_event_loop` when importable, else None (asyncio's default)."""
    try:
        import uvloop
    except ImportError:  # not installed (e.g. Windows, where it does not exist)
        return None
    return uvloop.new_event_loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)` on the loop `loop_factory()` names."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coro)
