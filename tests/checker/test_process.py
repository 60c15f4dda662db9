"""One REPL process (`checker/process.py`): requests and replies, failures, cancellation."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest

from harness.checker import protocol
from harness.checker.process import ReplProcess
from harness.errors import ReplCrashed, ReplTimeout
from tests.checker.helpers import double_config, repl_process, zombie_children
from tests.conftest import shared_path

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
    """A cancelled request always ends cancelled, whatever the moment of the cancel relative
    to Lean's reply: Python 3.11's `asyncio.wait_for` returned the result instead when the
    reply and the cancel met (CPython gh-86296), sending a cancelled check back to work. A
    request cancelled with its reply unread leaves a process that cannot go on: it is killed."""
    config, _ = double_config(tmp_path)

    async def scenario() -> tuple[bool, str, bool]:
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            pending, ended = await cancel_after(process, steps)
            return pending, ended, process.alive
        finally:
            await process.close()

    pending, ended, alive = asyncio.run(scenario())
    if pending:
        assert ended == "cancelled" and not alive
    else:
        assert ended == "returned" and alive  # it had finished before the cancel


STRAY_BLANKS_REPL = r"""
import sys
for line in sys.stdin:
    if line.strip():
        # blank lines before the reply, a multi-line reply, then the blank line that ends it
        sys.stdout.write('\n\n{\n  "env": 7,\n  "messages": []\n}\n\n')
        sys.stdout.flush()
"""


def test_replies_are_read_whole_and_in_order(tmp_path):
    async def scenario() -> list[dict]:
        process = repl_process(tmp_path, [sys.executable, "-c", STRAY_BLANKS_REPL])
        await process.start()
        try:
            one = await process.request(protocol.encode_command("a"), 10.0)
            two = await process.exchange(
                [protocol.encode_command("b"), protocol.encode_command("c")], 10.0
            )
            return [one, *two]
        finally:
            await process.close()

    assert asyncio.run(scenario()) == [{"env": 7, "messages": []}] * 3


def test_one_request_at_a_time_and_a_timeout_kills_the_process(tmp_path):
    config, _ = double_config(tmp_path, {"rules": [{"match": "HANG", "hang": True}]})

    async def scenario():
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            env = (await process.request(protocol.encode_command("#check Nat"), 10))["env"]
            hung = asyncio.create_task(process.request(protocol.encode_command("HANG", env), 0.5))
            await asyncio.sleep(0.1)
            with pytest.raises(RuntimeError, match="already in progress"):
                await process.request(protocol.encode_command("theorem x : True := rfl", env), 5)
            with pytest.raises(ReplTimeout, match="did not answer within"):
                await hung
            assert not process.alive
            with pytest.raises(ReplCrashed, match="not running"):
                await process.request(protocol.encode_command("theorem x : True := rfl", env), 5)
        finally:
            await process.close()

    asyncio.run(scenario())
    assert zombie_children() == []


def test_a_lone_surrogate_is_refused_before_anything_is_sent(tmp_path):
    config, log = double_config(tmp_path)

    async def scenario():
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            with pytest.raises(UnicodeEncodeError):
                await process.exchange(
                    [protocol.encode_command("#check Nat"), protocol.encode_command("\ud83d")], 5
                )
            return await process.request(protocol.encode_command("#check Nat"), 5)
        finally:
            await process.close()

    assert asyncio.run(scenario())["env"] == 0  # the first request Lean saw


def test_a_crash_is_reported_by_the_request_it_happened_under(tmp_path):
    config, _ = double_config(tmp_path, {"rules": [{"match": "EXIT", "exit": 3}]})

    async def scenario():
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            env = (await process.request(protocol.encode_command("#check Nat"), 10))["env"]
            with pytest.raises(ReplCrashed, match=r"the REPL exited \(exit code 3\)"):
                await process.request(protocol.encode_command("EXIT", env), 10)
            with pytest.raises(ReplCrashed, match="not running"):
                await process.request(protocol.encode_command("theorem x : True := rfl", env), 10)
        finally:
            await process.close()

    asyncio.run(scenario())
    assert zombie_children() == []


def test_replayed_fixtures_through_the_real_driver(tmp_path):
    """Recorded REPL transcripts replayed by the double, sent by the real process driver."""
    from tests.doubles.fake_repl import read_requests

    root = shared_path("fixtures", "lean-repl")
    ins = sorted(p for p in root.rglob("*.in"))
    config, _ = double_config(tmp_path, replay=ins)

    async def go():
        seen = 0
        for source in ins:
            process = repl_process(tmp_path, config=config)
            await process.start()
            try:
                expected = protocol.split_replies(
                    source.with_name(source.name[:-3] + ".expected.out").read_text()
                )
                for raw, want in zip(read_requests(source.read_text()), expected, strict=True):
                    got = await process.request(json.loads(raw), timeout=10)
                    assert got == want, source.name
                    protocol.classify(protocol.decode_reply(got))
                    seen += 1
            finally:
                await process.close()
        return seen

    assert asyncio.run(go()) >= 50
    assert zombie_children() == []
