"""Jobs queued on one REPL (`lean.pipeline_depth`): Lean finds the next job waiting when it
finishes a reply, and one job's timeout, crash or cancel costs the jobs in line nothing."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from harness.checker import open_checker, protocol
from harness.config import config_to_dict, load_config
from harness.errors import ReplInterrupted, ReplTimeout
from harness.types import LeanJob
from tests.checker.helpers import double_config, repl_process, requests_by_pid, started_pids
from tests.checker.test_pool import assert_all_reaped

pytestmark = pytest.mark.timeout(60)

# A REPL that reads raw bytes itself, so it can tell whether the next request was already
# waiting in its input when it finished a command (it says so in an info message). Commands
# containing SLOW take 0.4 s.
PEEKING_REPL = r"""
import json, os, select, sys, time
buffer, env = b"", 0
while True:
    while b"\n\n" not in buffer:
        chunk = os.read(0, 65536)
        if not chunk:
            sys.exit(0)
        buffer += chunk
    raw, buffer = buffer.split(b"\n\n", 1)
    request = json.loads(raw)
    if "SLOW" in request.get("cmd", ""):
        time.sleep(0.4)
    while True:  # whatever has arrived meanwhile, without blocking
        if not select.select([0], [], [], 0)[0]:
            break
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buffer += chunk
    queued = "next request waiting" if buffer.strip() else "nothing waiting"
    reply = {"env": env, "messages": [{"severity": "info", "pos": {"line": 1, "column": 0},
             "endPos": None, "data": queued}]}
    env += 1
    sys.stdout.write(json.dumps(reply, indent=2) + "\n\n")
    sys.stdout.flush()
"""


def peeking_config(tmp_path, **lean):
    config, _ = double_config(tmp_path, **lean)
    command = [sys.executable, "-c", PEEKING_REPL]
    data = config_to_dict(config)
    data["lean"]["repl_command"] = command
    data["lean"]["import_probes"] = {}
    return load_config(None, data)


def waiting_note(result) -> str:
    return result.commands[-1].messages[0].text


@pytest.mark.parametrize("depth", [1, 2])
def test_the_next_job_is_already_in_leans_input(tmp_path, depth):
    config = peeking_config(tmp_path, workers=1, pipeline_depth=depth)

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("warm up",)))  # import done before the two jobs
            return await asyncio.gather(
                checker.run(LeanJob("", ("theorem a : True := SLOW",))),
                checker.run(LeanJob("", ("theorem b : True := SLOW",))),
            )

    first, second = asyncio.run(go())
    assert first.outcome == second.outcome == "ok"
    if depth == 2:
        assert waiting_note(first) == "next request waiting"
    else:
        assert waiting_note(first) == "nothing waiting"
    assert waiting_note(second) == "nothing waiting"


def test_time_in_line_is_not_charged_to_the_job(tmp_path):
    """Job b waits 0.4 s behind job a; its own 0.3 s limit counts from when Lean reaches it."""
    config = peeking_config(tmp_path, workers=1, pipeline_depth=2)

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("warm up",)))
            return await asyncio.gather(
                checker.run(LeanJob("", ("theorem a : True := SLOW",))),
                checker.run(LeanJob("", ("theorem b : True := trivial",), timeout_s=0.3)),
            )

    first, second = asyncio.run(go())
    assert first.outcome == "ok" and waiting_note(first) == "next request waiting"
    assert second.outcome == "ok"
    assert second.seconds < 0.3 <= first.seconds


def test_a_timeout_ahead_sends_the_job_in_line_to_a_fresh_process(tmp_path):
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, workers=1, pipeline_depth=2
    )

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            hung, after = await asyncio.gather(
                checker.run(LeanJob("", ("theorem h : True := HANG",), timeout_s=1.0)),
                checker.run(LeanJob("", ("theorem ok : True := trivial",))),
            )
            return hung, after, dict(checker.stats)

    hung, after, stats = asyncio.run(go())
    assert hung.outcome == "timeout"
    assert after.outcome == "ok" and protocol.classify(after.commands[0]) == "accepted"
    assert stats["interruptions"] == 1 and stats["retries"] == 0
    pids = started_pids(log)
    assert len(pids) == 2
    # the job in line reached Lean only on the second process
    by_pid = requests_by_pid(log)
    assert not any("theorem ok" in r["cmd"] for r in by_pid[pids[0]])
    assert any("theorem ok" in r["cmd"] for r in by_pid[pids[1]])
    assert_all_reaped(log)


def test_a_crash_ahead_costs_the_job_in_line_nothing(tmp_path):
    once = tmp_path / "crashed-once"
    config, log = double_config(
        tmp_path,
        {"rules": [{"match": "FLAKY", "crash": True, "once_file": str(once)}]},
        workers=1,
        pipeline_depth=2,
    )

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            results = await asyncio.gather(
                checker.run(LeanJob("", ("theorem f : True := FLAKY",))),
                checker.run(LeanJob("", ("theorem ok : True := trivial",))),
            )
            return results, dict(checker.stats)

    (flaky, after), stats = asyncio.run(go())
    assert flaky.outcome == after.outcome == "ok"  # the crash's retry, and the job in line
    assert stats["retries"] == 1 and stats["interruptions"] == 1
    assert stats["checker_errors"] == 0
    assert_all_reaped(log)


def test_a_cancelled_job_ahead_does_not_cancel_the_job_in_line(tmp_path):
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, workers=1, pipeline_depth=2
    )

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            hung = asyncio.create_task(checker.run(LeanJob("", ("theorem h : True := HANG",))))
            await asyncio.sleep(0.2)
            behind = asyncio.create_task(checker.run(LeanJob("", ("theorem ok : True := rfl",))))
            await asyncio.sleep(0.2)
            hung.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hung
            return await asyncio.wait_for(behind, timeout=20)

    after = asyncio.run(go())
    assert after.outcome == "ok"
    assert len(started_pids(log)) == 2
    assert_all_reaped(log)


def test_process_exchanges_from_two_tasks_get_their_own_replies(tmp_path):
    """At the process level: replies go to callers in the order their requests were written;
    a caller in line behind a timeout is interrupted, not timed out."""
    config, _ = double_config(tmp_path, {"rules": [{"match": "HANG", "hang": True}]})

    async def go():
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            base = await process.request(protocol.encode_command("import Mathlib"), 10)
            env = base["env"]
            texts = [f"theorem t{i} : True := trivial" for i in range(6)]
            replies = await asyncio.gather(
                *(process.exchange([protocol.encode_command(t, env)], 10) for t in texts)
            )
            envs = [r[0][0]["env"] for r in replies]
            started = time.monotonic()
            outcomes = await asyncio.gather(
                process.request(protocol.encode_command("HANG", env), 0.5),
                process.request(protocol.encode_command("theorem x : True := trivial", env), 30),
                return_exceptions=True,
            )
            return envs, outcomes, time.monotonic() - started
        finally:
            await process.close()

    envs, (hung, behind), elapsed = asyncio.run(go())
    assert envs == sorted(envs) and len(set(envs)) == 6  # each caller its own reply, in order
    assert isinstance(hung, ReplTimeout)
    assert isinstance(behind, ReplInterrupted)
    assert elapsed < 5
