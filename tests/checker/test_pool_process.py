"""The "repl" backend as `harness run` opens it: the REPL pool in a child process of its own
(pool_process.py), against the REPL double: results, the child's environment, cancellation,
closing (and its races), the child dying, large and odd payloads, signals. What the pool
itself does is tests/checker/test_pool.py's."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.checker import PoolProcess, ReplPool, open_checker
from harness.errors import CheckerError
from harness.types import Confirmation, ConfirmJob, LeanJob
from tests.checker.helpers import children, double_config, live_doubles, zombie_children

pytestmark = pytest.mark.timeout(60)

OK_JOB = LeanJob("", ("theorem a : True := trivial",), ("#print axioms a",))
HANG_JOB = LeanJob("", ("theorem h : HANG := x",))
HANGS = {"rules": [{"match": "HANG", "hang": True}]}
JOBS = [
    OK_JOB,
    LeanJob("", ("theorem b : True := by\n  linarith",)),  # the script makes this fail
    LeanJob("import Mathlib\n", ("example : Real.pi > 3 := sorry",)),
]
SCRIPT = {"rules": [{"match": "linarith", "error": "linarith failed"}]}


def checker_processes() -> list[int]:
    return [pid for pid, state, cmd in children() if b"harness.checker" in cmd and state != "Z"]


async def until(condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


def kill_leftovers() -> None:
    """Whatever a failing test left behind: the child (and its doubles, unsandboxed here)."""
    for pid in [*live_doubles(), *checker_processes()]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def reap_leftovers(checker: PoolProcess) -> None:
    """Kill and reap, inside the loop, a child a failing test left running (so no subprocess
    transport is left for the garbage collector once the loop is closed)."""
    kill_leftovers()
    proc = checker._proc
    if proc is not None:
        proc.stdin.close()
        await proc.wait()
    if checker._reader is not None:
        await asyncio.gather(checker._reader, return_exceptions=True)


def hanging_confirm_job() -> LeanJob:
    spec = ConfirmJob(
        context="", statement="theorem c : HANG := sorry", audits=(), compare="#check c"
    )
    return LeanJob("", ("theorem m : True := trivial",), confirm=spec)


async def start_a_hanging_job(checker: PoolProcess) -> tuple[asyncio.Task, int]:
    """A job Lean never answers, once its REPL process is up: (its task, that process)."""
    hung = asyncio.create_task(checker.run(HANG_JOB))
    await until(lambda: len(live_doubles()) == 1)
    return hung, live_doubles()[0]


# -- results and the child's environment ------------------------------------------------------


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


# -- closing -------------------------------------------------------------------------------------


def test_close_while_the_first_job_starts_the_child_leaves_no_child_running(tmp_path):
    """aclose() while run() is starting the child (Ctrl-C during the first jobs): once aclose
    has returned no checker process may be left, and the job must not go on in Lean."""
    config, _ = double_config(tmp_path)

    async def go():
        checker = PoolProcess(config)
        job = asyncio.create_task(checker.run(OK_JOB))
        await asyncio.sleep(0)  # the job is past the `closed` check, starting the child
        try:
            await checker.aclose()
            left = checker_processes()
            outcome = await asyncio.gather(job, return_exceptions=True)
            return left, outcome[0]
        finally:
            await reap_leftovers(checker)

    left, outcome = asyncio.run(go())
    assert left == [], f"aclose() returned with the checker process {left} still running"
    assert isinstance(outcome, CheckerError), f"the job ran after close: {outcome!r}"


def test_close_while_jobs_wait_for_the_child_to_start(tmp_path):
    """Several jobs arriving together (they queue on the start lock) and aclose() at once."""
    config, _ = double_config(tmp_path, workers=2)

    async def go():
        checker = PoolProcess(config)
        jobs = [asyncio.create_task(checker.run(OK_JOB)) for _ in range(3)]
        await asyncio.sleep(0)
        try:
            await checker.aclose()
            left = checker_processes()
            outcomes = await asyncio.gather(*jobs, return_exceptions=True)
            return left, outcomes
        finally:
            await reap_leftovers(checker)

    left, outcomes = asyncio.run(go())
    assert left == [], f"aclose() returned with the checker process {left} still running"
    assert all(isinstance(o, CheckerError) for o in outcomes), outcomes


def test_a_job_caught_by_close_while_starting_does_not_wait_for_ever(tmp_path):
    """The same race with a job Lean does not answer: after aclose() its caller must be told
    (CheckerError), not left waiting on a child nobody will close."""
    config, _ = double_config(tmp_path, HANGS)

    async def go():
        checker = PoolProcess(config)
        job = asyncio.create_task(checker.run(HANG_JOB))
        await asyncio.sleep(0)
        try:
            await checker.aclose()
            done, _ = await asyncio.wait({job}, timeout=3)
            return bool(done), live_doubles()
        finally:
            await reap_leftovers(checker)
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)

    ended, doubles = asyncio.run(go())
    assert ended, "the job was still waiting 3 s after aclose() returned"
    assert doubles == []


def test_close_twice_and_close_before_any_job(tmp_path):
    config, _ = double_config(tmp_path)

    async def go():
        unused = PoolProcess(config)
        await unused.aclose()
        await unused.aclose()
        with pytest.raises(CheckerError, match="closed"):
            await unused.run(OK_JOB)
        used = PoolProcess(config)
        assert (await used.run(OK_JOB)).outcome == "ok"
        await used.aclose()
        await used.aclose()
        await asyncio.gather(used.aclose(), used.aclose())
        with pytest.raises(CheckerError, match="closed"):
            await used.confirm(hanging_confirm_job(), b"{}")

    asyncio.run(go())
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_two_concurrent_closes_with_a_job_hanging(tmp_path):
    config, _ = double_config(tmp_path, HANGS)

    async def go():
        checker = PoolProcess(config)
        hung = asyncio.create_task(checker.run(HANG_JOB))
        await until(lambda: len(live_doubles()) == 1)
        await asyncio.gather(checker.aclose(), checker.aclose())
        with pytest.raises(CheckerError, match="closed"):
            await hung

    asyncio.run(go())
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_async_with_left_by_an_exception_closes_everything(tmp_path):
    config, _ = double_config(tmp_path, HANGS, workers=2)

    async def go():
        with pytest.raises(ZeroDivisionError):
            async with PoolProcess(config) as checker:
                assert (await checker.run(OK_JOB)).outcome == "ok"
                asyncio.create_task(checker.run(HANG_JOB))
                asyncio.create_task(checker.run(HANG_JOB))
                await until(lambda: len(live_doubles()) == 2)
                raise ZeroDivisionError("the caller failed")

    asyncio.run(go())
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_the_parent_dying_ends_the_child_and_its_lean_processes(tmp_path):
    """The harness killed outright: EOF on the child's stdin closes its pool and ends it."""
    config, _ = double_config(tmp_path, HANGS)
    script = textwrap.dedent(
        f"""
        import asyncio, os, sys, pickle
        from harness.checker import PoolProcess
        from harness.types import LeanJob
        config = pickle.loads({pickle.dumps(config)!r})
        async def go():
            checker = PoolProcess(config)
            asyncio.create_task(checker.run(LeanJob("", ("theorem h : HANG := x",))))
            while checker._proc is None:
                await asyncio.sleep(0.01)
            print(checker._proc.pid, flush=True)
            await asyncio.sleep(60)
        asyncio.run(go())
        """
    )
    root = Path(__file__).resolve().parents[2]
    harness = subprocess.Popen(
        [sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True
    )
    ours: list[int] = []  # the child and its double, which stop being our descendants
    try:
        child = int(harness.stdout.readline())
        ours.append(child)

        async def go():
            await until(lambda: len(live_doubles()) == 1)
            double = live_doubles()[0]
            ours.append(double)
            harness.kill()
            harness.wait()
            await until(lambda: not Path(f"/proc/{child}").exists() or _state(child) == "Z")
            await until(lambda: not Path(f"/proc/{double}").exists() or _state(double) == "Z")

        asyncio.run(go())
    finally:
        harness.kill()
        harness.wait()
        kill_pids([pid for pid in ours if _state(pid) not in (None, "Z")])


def _state(pid: int) -> str | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next(line.split()[1] for line in text.splitlines() if line.startswith("State:"))


# -- the child dying -----------------------------------------------------------------------------


def test_jobs_in_flight_go_to_a_new_child_once_then_fail_including_a_confirmation(tmp_path):
    config, _ = double_config(tmp_path, HANGS, workers=2)

    async def go():
        async with PoolProcess(config) as checker:
            runs = [asyncio.create_task(checker.run(HANG_JOB)) for _ in range(3)]  # 2 + 1 in line
            confirm = asyncio.create_task(checker.confirm(hanging_confirm_job(), b"{}"))
            dead: list[int] = []
            for _ in range(2):  # the second child gets them all again, and dies too
                await until(lambda: len(live_doubles()) == 3)  # two slots and the confirmer
                (child,) = checker_processes()
                orphans.extend(live_doubles())  # unsandboxed, the doubles outlive their parent
                os.kill(child, signal.SIGKILL)
                kill_pids(orphans)
                dead.append(child)
                await until(lambda gone=child: checker_processes() != [gone])
            results = await asyncio.gather(*runs, confirm)
            after = await checker.run(OK_JOB)
            return results, after

    orphans: list[int] = []
    try:
        results, after = asyncio.run(go())
    finally:
        kill_pids(orphans)
        kill_leftovers()
    *lost, confirmation = results
    assert [r.outcome for r in lost] == ["checker_error"] * 3
    assert isinstance(confirmation, Confirmation)
    assert confirmation.outcome == "checker_error"
    assert confirmation.error == (
        "the Lean checker process ended (signal 9) (also after a retry in a new checker process)"
    )
    assert after.outcome == "ok"
    assert not checker_processes() and not zombie_children()


def test_a_job_cancelled_after_the_child_died_raises_cancelled_and_the_checker_goes_on(tmp_path):
    config, _ = double_config(tmp_path, HANGS)
    orphans: list[int] = []

    async def go():
        async with PoolProcess(config) as checker:
            hung = asyncio.create_task(checker.run(HANG_JOB))
            await until(lambda: len(live_doubles()) == 1)
            (child,) = checker_processes()
            orphans.extend(live_doubles())  # unsandboxed, the double outlives its parent
            os.kill(child, signal.SIGKILL)
            await until(lambda: _state(child) in (None, "Z"))
            hung.cancel()  # before, or while, the parent sees the death
            (outcome,) = await asyncio.gather(hung, return_exceptions=True)
            # CancelledError, or the death's checker_error when it was settled first
            assert isinstance(outcome, asyncio.CancelledError) or (
                outcome.outcome == "checker_error"
            ), outcome
            await until(lambda: checker._proc.returncode is not None)  # the death is noticed
            return await checker.run(OK_JOB), dict(checker._pending)

    try:
        after, pending = asyncio.run(go())
    finally:
        kill_pids(orphans)
        kill_leftovers()
    assert pending == {}
    assert after.outcome == "ok", f"{after.outcome}: {after.error}"


def test_a_job_cancelled_while_its_child_starts_leaves_no_child(tmp_path):
    """The first job starts the child; cancelled before the child is ready, the job takes the
    half-started child with it (nobody else would ever close it)."""
    config, _ = double_config(tmp_path)

    async def go():
        checker = PoolProcess(config)
        job = asyncio.create_task(checker.run(OK_JOB))
        await until(lambda: checker_processes() != [])
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        left = checker_processes()
        await checker.aclose()
        return left

    assert asyncio.run(go()) == [] and not zombie_children()


def test_a_job_submitted_right_after_the_child_died_is_run_by_a_new_child(tmp_path):
    """The child is SIGKILLed between two jobs; the next job is submitted at once (the death
    not yet reaped). It was never given to the dead child, so it should run, not fail."""
    config, _ = double_config(tmp_path)

    async def go():
        async with PoolProcess(config) as checker:
            assert (await checker.run(OK_JOB)).outcome == "ok"
            (child,) = checker_processes()
            orphans.extend(live_doubles())  # unsandboxed, the double outlives its parent
            os.kill(child, signal.SIGKILL)  # the next job comes before the death is noticed
            return await checker.run(OK_JOB)

    orphans: list[int] = []
    try:
        result = asyncio.run(go())
    finally:
        kill_pids(orphans)
        kill_leftovers()
    assert result.outcome == "ok", f"{result.outcome}: {result.error}"


# -- cancellation ---------------------------------------------------------------------------------


def test_many_jobs_cancelled_at_once(tmp_path):
    config, _ = double_config(tmp_path, HANGS, workers=2)

    async def go():
        async with PoolProcess(config) as checker:
            hung = [asyncio.create_task(checker.run(HANG_JOB)) for _ in range(12)]
            await until(lambda: len(live_doubles()) == 2)
            for task in hung:
                task.cancel()
            outcomes = await asyncio.gather(*hung, return_exceptions=True)
            await until(lambda: not live_doubles())
            after = await asyncio.gather(*(checker.run(OK_JOB) for _ in range(3)))
            return outcomes, after, dict(checker._pending)

    outcomes, after, pending = asyncio.run(go())
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert [r.outcome for r in after] == ["ok"] * 3 and pending == {}
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_jobs_cancelled_around_the_moment_their_results_arrive(tmp_path):
    """Each job is cancelled about when Lean answers it: every one ends either with its result
    or CancelledError, nothing is left waiting, and the checker goes on."""
    config, _ = double_config(tmp_path, {"latency_s": 0.05}, workers=2)

    async def go():
        async with PoolProcess(config) as checker:
            await checker.run(OK_JOB)  # processes up
            outcomes = []
            for i in range(16):
                task = asyncio.create_task(checker.run(OK_JOB))
                await asyncio.sleep(0.04 + 0.0025 * i)
                task.cancel()
                outcomes += await asyncio.gather(task, return_exceptions=True)
            after = await checker.run(OK_JOB)
            return outcomes, after, dict(checker._pending)

    outcomes, after, pending = asyncio.run(go())
    for o in outcomes:
        assert isinstance(o, asyncio.CancelledError) or o.outcome == "ok", o
    assert after.outcome == "ok" and pending == {}
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_a_cancelled_confirmation_frees_the_confirmer_for_the_next(tmp_path):
    config, _ = double_config(tmp_path, HANGS)

    async def go():
        async with PoolProcess(config) as checker:
            confirm = asyncio.create_task(checker.confirm(hanging_confirm_job(), b"{}"))
            await until(lambda: len(live_doubles()) == 1)
            confirm.cancel()
            with pytest.raises(asyncio.CancelledError):
                await confirm
            return await checker.run(OK_JOB)

    assert asyncio.run(go()).outcome == "ok"
    assert not checker_processes() and not live_doubles() and not zombie_children()


# -- payloads -------------------------------------------------------------------------------------


def test_a_job_and_a_result_of_several_megabytes_cross_the_pipe(tmp_path):
    big_answer = "y" * (3 * 1024 * 1024)
    config, _ = double_config(tmp_path, {"rules": [{"match": "BIG", "info": big_answer}]})
    text = "theorem big : True := trivial -- BIG " + "x" * (4 * 1024 * 1024)

    async def go():
        async with PoolProcess(config) as checker:
            results = await asyncio.gather(checker.run(LeanJob("", (text,))), checker.run(OK_JOB))
            return results

    big, small = asyncio.run(go())
    assert big.outcome == "ok" and small.outcome == "ok"
    assert big.commands[0].messages[0].text == big_answer
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_a_lone_surrogate_is_a_checker_error_as_in_the_pool(tmp_path):
    config, _ = double_config(tmp_path)
    bad = LeanJob("", ("theorem s : True := trivial -- \ud800",))

    async def through(checker_type):
        async with checker_type(config) as checker:
            result = await checker.run(bad)
            return result, await checker.run(OK_JOB)

    here, _ = asyncio.run(through(ReplPool))
    there, after = asyncio.run(through(PoolProcess))
    assert here.outcome == there.outcome == "checker_error"
    assert there.error == here.error and "lone surrogate" in there.error
    assert after.outcome == "ok"
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_a_lone_surrogate_in_a_confirmation_is_a_checker_error_as_in_the_pool(tmp_path):
    config, _ = double_config(tmp_path)
    spec = ConfirmJob(
        context="", statement="theorem c : True := sorry -- \udfff", audits=(), compare="#check c"
    )
    job = LeanJob("", ("theorem m : True := trivial",), confirm=spec)

    async def through(checker_type):
        async with checker_type(config) as checker:
            return await checker.confirm(job, b"{}"), await checker.run(OK_JOB)

    here, _ = asyncio.run(through(ReplPool))
    there, after = asyncio.run(through(PoolProcess))
    assert isinstance(there, Confirmation)
    assert here.outcome == there.outcome == "checker_error" and there.error == here.error
    assert after.outcome == "ok"
    assert not checker_processes() and not live_doubles() and not zombie_children()


# -- signals and sessions --------------------------------------------------------------------------


def test_the_child_has_its_own_session_and_ignores_sigint(tmp_path):
    config, _ = double_config(tmp_path)

    async def go():
        async with PoolProcess(config) as checker:
            assert (await checker.run(OK_JOB)).outcome == "ok"
            (child,) = checker_processes()
            assert os.getsid(child) == child != os.getsid(0)
            assert os.getpgid(child) != os.getpgid(0)
            os.kill(child, signal.SIGINT)
            await asyncio.sleep(0.2)
            assert _state(child) not in (None, "Z")
            return await checker.run(OK_JOB)

    assert asyncio.run(go()).outcome == "ok"
    assert not checker_processes() and not live_doubles() and not zombie_children()


def test_close_with_jobs_on_both_slots_leaves_no_zombie_or_orphan(tmp_path):
    config, _ = double_config(tmp_path, HANGS, workers=2)

    async def go():
        checker = PoolProcess(config)
        await checker.run(OK_JOB)
        hung = [asyncio.create_task(checker.run(HANG_JOB)) for _ in range(3)]
        await until(lambda: len(live_doubles()) == 2)
        doubles = live_doubles()
        await checker.aclose()
        outcomes = await asyncio.gather(*hung, return_exceptions=True)
        return doubles, outcomes

    doubles, outcomes = asyncio.run(go())
    assert all(isinstance(o, CheckerError) for o in outcomes)
    assert not any(Path(f"/proc/{pid}").exists() for pid in doubles)
    assert not checker_processes() and not live_doubles() and not zombie_children()


# -- a child that cannot open its pool -------------------------------------------------------------


def test_a_child_that_cannot_open_its_pool_says_why(tmp_path):
    """ReplPool raises at `async with` when its scratch directory cannot be made (preflight does
    not check lean.scratch_dir). Through the child the caller must still learn the cause, not
    only "the Lean checker process ended (exit code 1)" once per job."""
    (tmp_path / "a-file").write_text("x")
    config, _ = double_config(tmp_path, scratch_dir=str(tmp_path / "a-file" / "scratch"))

    async def direct():
        async with ReplPool(config) as pool:
            await pool.run(OK_JOB)

    with pytest.raises(OSError) as direct_failure:
        asyncio.run(direct())
    cause = direct_failure.value.strerror  # "Not a directory"

    async def through_the_child():
        try:
            async with PoolProcess(config) as checker:
                return (await checker.run(OK_JOB)).error
        except Exception as exc:  # raising at once would do too
            return str(exc)

    said = asyncio.run(through_the_child())
    assert cause in said, f"the caller was told only: {said!r}"
    assert not checker_processes() and not zombie_children()
