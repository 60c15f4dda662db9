"""Review of the REPL pipelining (`lean.pipeline_depth`): interleavings the other checker tests
do not reach. Each found a bug or guards an interleaving that works."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from harness.checker import open_checker, protocol
from harness.errors import ReplCrashed, ReplInterrupted
from harness.types import LeanJob
from tests.checker.helpers import (
    double_config,
    live_doubles,
    repl_process,
    requests_by_pid,
    started_pids,
)
from tests.checker.test_pool import assert_all_reaped

pytestmark = pytest.mark.timeout(30)

OTHER = "import Other\n"


def run_loop(go: Any) -> tuple[Any, list[str]]:
    """asyncio.run(go()), collecting what the loop's exception handler saw (e.g. "Future
    exception was never retrieved", "Task was destroyed but it is pending")."""
    seen: list[str] = []

    async def main() -> Any:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: seen.append(context.get("message", ""))
        )
        return await go()

    return asyncio.run(main()), seen


def bad_import_jobs(tmp_path, depth, bad_jobs):
    config, log = double_config(tmp_path, {"bad_imports": ["Mathlib"]}, pipeline_depth=depth)
    header = "import Mathlib\nimport Aesop\n"

    async def go():
        async with open_checker(config) as checker:
            jobs = [LeanJob(header, (f"theorem t{i} : True := trivial",)) for i in range(bad_jobs)]
            jobs.append(LeanJob("", ("theorem core : True := trivial",)))
            return await asyncio.gather(*(checker.run(j) for j in jobs)), dict(checker.stats)

    (results, stats), seen = run_loop(go)
    assert [r.outcome for r in results] == ["checker_error"] * bad_jobs + ["ok"]
    assert len({r.error for r in results[:bad_jobs]}) == 1 and "did not load" in results[0].error
    assert stats["crashes"] == 0 and stats["retries"] == 0 and seen == []
    assert_all_reaped(log)
    imports = [p for p, reqs in requests_by_pid(log).items() if "Mathlib" in reqs[0]["cmd"]]
    return len(imports)


def test_a_bad_import_with_a_job_in_line_on_the_fresh_process(tmp_path):
    """The job in line waits on the setup lock while the first job's probe fails: it is told
    the REPL failed for another job, then reports the known-bad header without a new import
    (the core job meanwhile waits for the only slot)."""
    assert bad_import_jobs(tmp_path, 2, bad_jobs=2) == 1


@pytest.mark.parametrize("depth", [1, 2])
def test_a_bad_import_is_paid_once_by_the_jobs_waiting_for_a_slot(tmp_path, depth):
    """Jobs already waiting for a process when the import block is found bad are told so
    instead of starting a process and paying the failed import again."""
    assert bad_import_jobs(tmp_path, depth, bad_jobs=4) == 1


def test_recycling_with_jobs_in_line_never_exceeds_the_workers(tmp_path):
    config, log = double_config(
        tmp_path, {"latency_s": 0.03}, workers=2, pipeline_depth=2, recycle_after=2
    )
    alive: list[int] = []

    async def go():
        async with open_checker(config) as checker:
            done = asyncio.Event()

            async def monitor():
                while not done.is_set():
                    alive.append(len(live_doubles()))
                    await asyncio.sleep(0.01)

            watcher = asyncio.create_task(monitor())
            jobs = [LeanJob("", (f"theorem t{i} : True := trivial",)) for i in range(13)]
            results = await asyncio.gather(*(checker.run(j) for j in jobs))
            done.set()
            await watcher
            return results, dict(checker.stats)

    (results, stats), seen = run_loop(go)
    assert all(r.outcome == "ok" for r in results)
    assert max(alive) <= 2 and stats["max_processes"] == 2
    # jobs in line count toward recycle_after: no process serves more than 2 checks
    served = [
        sum("theorem t" in r.get("cmd", "") for r in reqs) for reqs in requests_by_pid(log).values()
    ]
    assert sum(served) == 13 and max(served) <= 2 and len(started_pids(log)) >= 7
    assert stats["interruptions"] == 0 and seen == []
    assert_all_reaped(log)


def test_a_cancelled_job_in_line_costs_the_job_ahead_only_a_free_retry(tmp_path):
    """Cancelling the job BEHIND kills the process (its request is in Lean's input): the job
    ahead is interrupted, put back, and still answers."""
    config, log = double_config(tmp_path, {"latency_s": 0.5}, workers=1, pipeline_depth=2)

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            ahead = asyncio.create_task(checker.run(LeanJob("", ("theorem a : True := rfl",))))
            await asyncio.sleep(0.1)
            behind = asyncio.create_task(checker.run(LeanJob("", ("theorem b : True := rfl",))))
            await asyncio.sleep(0.1)
            behind.cancel()
            with pytest.raises(asyncio.CancelledError):
                await behind
            return await asyncio.wait_for(ahead, 20), dict(checker.stats)

    (result, stats), seen = run_loop(go)
    assert result.outcome == "ok" and protocol.classify(result.commands[0]) == "accepted"
    assert stats["interruptions"] == 1 and stats["retries"] == 0 and stats["crashes"] == 0
    assert len(started_pids(log)) == 2 and seen == []
    assert_all_reaped(log)


def test_a_shared_first_command_that_hangs_times_out_each_job_on_its_own_clock(tmp_path):
    """The job in line waits for the reference statement the job ahead is computing; when that
    times out, the job in line is put back (no retry used) and times out on its own."""
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANGREF", "hang": True}]}, workers=1, pipeline_depth=2
    )
    ref = "theorem __harness_ref : True := HANGREF"

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            first = asyncio.create_task(
                checker.run(LeanJob("", (ref, "theorem a : True := trivial"), timeout_s=0.6))
            )
            await asyncio.sleep(0.1)
            second = asyncio.create_task(
                checker.run(LeanJob("", (ref, "theorem b : True := trivial"), timeout_s=0.6))
            )
            t0 = time.monotonic()
            results = await asyncio.gather(first, second)
            return results, time.monotonic() - t0, dict(checker.stats)

    (results, elapsed, stats), seen = run_loop(go)
    assert [r.outcome for r in results] == ["timeout", "timeout"]
    assert stats["timeouts"] == 2 and stats["interruptions"] == 1 and stats["crashes"] == 0
    assert elapsed > 1.0  # the second job had its own 0.6 s after the first's
    assert seen == []  # no "Future exception was never retrieved"
    assert_all_reaped(log)


def test_cancelling_every_job_at_once_leaves_nothing_behind(tmp_path):
    """A run's shutdown cancels all checks together: leaders, jobs in line and waiters."""
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, workers=2, pipeline_depth=2
    )

    async def go():
        async with open_checker(config) as checker:
            await asyncio.gather(
                checker.run(LeanJob("", ("theorem w1 : True := trivial",))),
                checker.run(LeanJob("", ("theorem w2 : True := trivial",))),
            )
            tasks = [
                asyncio.create_task(checker.run(LeanJob(h, (f"theorem h{i} : True := HANG",))))
                for i, h in enumerate(["", "", "", "", OTHER, OTHER])
            ]
            await asyncio.sleep(0.3)
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            return outcomes

    outcomes, seen = run_loop(go)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert seen == []
    assert_all_reaped(log)
    assert live_doubles() == []


@pytest.mark.parametrize("depth", [1, 2])
def test_a_job_of_another_import_block_is_not_starved(tmp_path, depth):
    """A steady stream of one import block's jobs never leaves its process idle by itself;
    while a job of another block waits (it can only take over an idle process), no job
    queues behind a busy process, so the process drains and the other block gets it."""
    config, log = double_config(tmp_path, {"latency_s": 0.04}, workers=1, pipeline_depth=depth)
    total = 60
    finished: list[str] = []

    async def go():
        async with open_checker(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            numbers = iter(range(total))

            async def check_task():  # as search.py's check workers: one job after another
                for i in numbers:
                    await checker.run(LeanJob("", (f"theorem t{i} : True := trivial",)))
                    finished.append("K1")

            loops = [asyncio.create_task(check_task()) for _ in range(3)]
            await asyncio.sleep(0.2)  # the stream is running
            other = await checker.run(LeanJob(OTHER, ("theorem o : True := trivial",)))
            finished.append("K2")
            await asyncio.gather(*loops)
            return other

    other, seen = run_loop(go)
    assert other.outcome == "ok" and seen == []
    before = finished.index("K2")
    # with depth 1 the other block's job gets the process within a job or two
    assert before < total // 2, f"{before} of {total} jobs of the busy block ran first"
    assert_all_reaped(log)


def test_blame_for_a_crash_stays_with_the_request_ahead(tmp_path):
    """A request made after Lean died under the request ahead, before that caller has read
    the EOF, is interrupted (a free retry); the crash stays with the request that caused it."""
    config, _ = double_config(tmp_path, {"rules": [{"match": "EXIT", "exit": 3}]})

    async def go():
        process = repl_process(tmp_path, config=config)
        await process.start()
        try:
            env = (await process.request(protocol.encode_command("#check Nat"), 10))["env"]
            ahead = asyncio.create_task(process.request(protocol.encode_command("EXIT", env), 10))
            for _ in range(5):
                await asyncio.sleep(0)  # written; the caller ahead waits for its reply
            time.sleep(0.5)  # Lean dies meanwhile; the loop runs nothing
            for _ in range(100):  # until the child watcher has reported the exit
                if process._proc.returncode is not None:
                    break
                await asyncio.sleep(0)
            if process._closed or ahead.done():
                pytest.skip("the exit was not seen before the EOF on this machine")
            behind: BaseException | None = None
            try:
                await process.request(protocol.encode_command("theorem x : True := rfl", env), 10)
            except (ReplCrashed, ReplInterrupted) as exc:
                behind = exc
            results = await asyncio.gather(ahead, return_exceptions=True)
            return results[0], behind
        finally:
            await process.close()

    (ahead, behind), _ = run_loop(go)
    assert isinstance(ahead, ReplCrashed) and not isinstance(ahead, ReplInterrupted)
    assert isinstance(behind, ReplInterrupted)


def test_a_lone_surrogate_in_a_proof_is_an_outcome_not_an_exception(tmp_path):
    """Text UTF-8 cannot encode (a lone surrogate: json.loads accepts '\\ud83d' in a suite or a
    reply) is a checker_error naming the problem, not an exception that stops the run; the
    process goes on serving."""
    config, _ = double_config(tmp_path)

    async def go():
        async with open_checker(config) as checker:
            bad = await checker.run(LeanJob("", ("theorem t : True := trivial -- \ud83d",)))
            good = await checker.run(LeanJob("", ("theorem t : True := trivial",)))
            return bad, good, dict(checker.stats)

    (bad, good, stats), _ = run_loop(go)
    assert bad.outcome == "checker_error" and "surrogate" in bad.error and "\n" not in bad.error
    assert good.outcome == "ok" and stats["processes_started"] == 1
