"""A cancelled request always ends cancelled (never swallowed), whatever the moment of the
cancel relative to Lean's reply: Python 3.11's `asyncio.wait_for` returned the result instead
when the reply and the cancel met (CPython gh-86296), sending a cancelled check back to work."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from harness.checker import protocol
from harness.checker.process import ReplProcess
from tests.checker.helpers import double_config, repl_process

pytestmark = pytest.mark.timeout(60)


async def cancel_after(process: ReplProcess, steps: int) -> tuple[bool, str]:
    """Start a request, let the reply reach the pipe, run `steps` loop iterations, cancel.
    Returns (whether cancel() found the request unfinished, how the request ended)."""
    task = asyncio.create_task(process.request(protocol.encode_command("#check Nat"), 10.0))
    for _ in range(3):  # the request is written
        await asyncio.sleep(0)
    time.sleep(0.2)  # block the loop: the reply is waiting in the pipe, so what follows is fixed
    for _ in range(steps):
        await asyncio.sleep(0)
    pending = task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return pending, "cancelled"
    return pending, "returned"


@pytest.mark.parametrize("steps", range(12))
def test_a_cancel_racing_the_reply_is_never_swallowed(tmp_path, steps):
    config, _ = double_config(tmp_path)

    async def scenario() -> tuple[bool, str]:
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            return await cancel_after(process, steps)
        finally:
            await process.close()

    pending, ended = asyncio.run(scenario())
    if pending:
        assert ended == "cancelled"
    else:
        assert ended == "returned"  # it had finished before the cancel: nothing to cancel


STRAY_BLANKS_REPL = r"""
import sys
for line in sys.stdin:
    if line.strip():
        # blank lines before the reply, a multi-line reply, then the blank line that ends it
        sys.stdout.write('\n\n{\n  "env": 7,\n  "messages": []\n}\n\n')
        sys.stdout.flush()
"""


def test_replies_are_read_whole_and_pipelined_in_order(tmp_path):
    async def scenario() -> list[dict]:
        process = repl_process(tmp_path, [sys.executable, "-c", STRAY_BLANKS_REPL])
        await process.start()
        try:
            one = await process.request(protocol.encode_command("a"), 10.0)
            two = await process.requests_pipelined(
                [protocol.encode_command("b"), protocol.encode_command("c")], 10.0
            )
            return [one, *two]
        finally:
            await process.close()

    assert asyncio.run(scenario()) == [{"env": 7, "messages": []}] * 3
