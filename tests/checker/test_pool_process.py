"""The "repl" backend as `harness run` opens it: the REPL pool in a child process of its own,
against the REPL double. What the pool itself does is tests/checker/test_pool.py's."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from pathlib import Path

import pytest

from harness.checker import PoolProcess, ReplPool, open_checker
from harness.errors import CheckerError
from harness.types import LeanJob
from tests.checker.helpers import children, double_config, live_doubles, zombie_children

pytestmark = pytest.mark.timeout(60)

JOBS = [
    LeanJob("", ("theorem a : True := trivial",), ("#print axioms a",)),
    LeanJob("", ("theorem b : True := by\n  linarith",)),  # the script makes this fail
    LeanJob("import Mathlib\n", ("example : Real.pi > 3 := sorry",)),
]
SCRIPT = {"rules": [{"match": "linarith", "error": "linarith failed"}]}


def checker_processes() -> list[int]:
    return [pid for pid, state, cmd in children() if b"harness.checker" in cmd and state != "Z"]


HANGS = {"rules": [{"match": "HANG", "hang": True}]}


async def start_a_hanging_job(checker: PoolProcess) -> tuple[asyncio.Task, int]:
    """A job Lean never answers, once its REPL process is up: (its task, that process)."""
    hung = asyncio.create_task(checker.run(LeanJob("", ("theorem h : HANG := x",))))
    await until(lambda: len(live_doubles()) == 1)
    return hung, live_doubles()[0]


async def until(condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_jobs_get_the_pools_results_from_a_process_that_is_not_ours(tmp_path):
    config, _ = double_config(tmp_path, SCRIPT, workers=2)

    async def through(checker_type):
        async with checker_type(config) as checker:
            results = await asyncio.gather(*(checker.run(job) for job in JOBS))
            if checker_type is PoolProcess:
                # the doubles are the child's children, not ours
                (child,) = checker_processes()
                ours = {pid for pid, _, _ in children() if pid != child}
                assert live_doubles() and set(live_doubles()) <= ours
                assert all(_parent(pid) == child for pid in live_doubles())
            return results, dict(checker.stats)

    here, _ = asyncio.run(through(ReplPool))
    there, stats = asyncio.run(through(PoolProcess))
    same = [dataclasses.replace(r, seconds=0.0, waited_s=0.0) for r in here]
    assert [dataclasses.replace(r, seconds=0.0, waited_s=0.0) for r in there] == same
    assert [r.outcome for r in there] == ["ok"] * 3
    assert there[1].commands[-1].errors[0].text == "linarith failed"
    assert stats["checks"] == 3 and stats["backend"] == "repl"  # the child's pool's figures
    assert isinstance(open_checker(config), PoolProcess)
    assert not checker_processes() and not live_doubles() and not zombie_children()


def _parent(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid")))


def test_the_prover_key_does_not_reach_the_checker_process(tmp_path, monkeypatch):
    config, _ = double_config(tmp_path)
    monkeypatch.setenv(config.prover.api_key_env, "sk-secret-for-the-prover-only")

    async def go():
        async with PoolProcess(config) as checker:
            await checker.run(JOBS[0])
            (child,) = checker_processes()
            return Path(f"/proc/{child}/environ").read_bytes()

    environ = asyncio.run(go())
    assert b"sk-secret-for-the-prover-only" not in environ and b"PYTHONPATH=" in environ


def test_a_cancelled_job_stops_its_lean_process_and_the_checker_goes_on(tmp_path):
    config, _ = double_config(tmp_path, HANGS)

    async def go():
        async with PoolProcess(config) as checker:
            hung, pid = await start_a_hanging_job(checker)
            hung.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hung
            await until(lambda: pid not in live_doubles())  # the child's pool killed it
            return await checker.run(JOBS[0])

    assert asyncio.run(go()).outcome == "ok"
    assert not live_doubles() and not zombie_children()


def test_a_dead_checker_process_fails_its_jobs_as_checker_errors_and_is_replaced(tmp_path):
    config, _ = double_config(tmp_path, HANGS)

    async def go():
        async with PoolProcess(config) as checker:
            hung, orphan = await start_a_hanging_job(checker)
            (child,) = checker_processes()
            os.kill(child, signal.SIGKILL)
            lost = await hung
            os.kill(orphan, signal.SIGKILL)  # unsandboxed, the double outlives its parent
            after = await checker.run(JOBS[0])
            return lost, after, child, checker_processes()

    lost, after, dead, now = asyncio.run(go())
    assert lost.outcome == "checker_error"
    assert lost.error == "the Lean checker process ended (signal 9)"
    assert after.outcome == "ok" and now and dead not in now
    assert not checker_processes()


def test_closing_ends_the_child_and_tells_callers_still_waiting(tmp_path):
    config, _ = double_config(tmp_path, HANGS)

    async def go():
        checker = PoolProcess(config)
        hung, _ = await start_a_hanging_job(checker)
        await checker.aclose()
        with pytest.raises(CheckerError, match="closed"):
            await hung
        with pytest.raises(CheckerError, match="closed"):
            await checker.run(JOBS[0])

    asyncio.run(go())
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_a_failure_inside_the_child_reaches_the_caller_as_one_line(tmp_path):
    """A bug in the pool (here: a job without a header) is the caller's CheckerError, in one
    line naming it, and the child goes on serving other jobs."""
    config, _ = double_config(tmp_path)

    async def go():
        async with PoolProcess(config) as checker:
            with pytest.raises(CheckerError) as failed:
                await checker.run(LeanJob(None, ("theorem t : True := trivial",)))  # type: ignore[arg-type]
            return str(failed.value), await checker.run(JOBS[0])

    message, after = asyncio.run(go())
    assert message.startswith("the Lean checker failed: TypeError: ") and "\n" not in message
    assert after.outcome == "ok"
