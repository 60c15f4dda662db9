"""The REPL pool against the REPL double: header reuse, timeouts, crashes, caps, environment,
and jobs waiting for a free process (each process runs one job at a time)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from harness.checker import open_checker, protocol
from harness.checker.pool import ReplPool
from harness.config import config_to_dict, load_config
from harness.errors import CheckerError
from harness.types import LeanJob
from tests.checker.helpers import (
    double_config,
    live_doubles,
    process_state,
    read_log,
    requests_by_pid,
    started_pids,
    zombie_children,
)

pytestmark = pytest.mark.timeout(60)

MATHLIB = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat\n"
OTHER_OPENS = "import Mathlib\nimport Aesop\n\nopen Topology\n"
OTHER = "import Other\n"


def run_jobs(config, jobs):
    async def go():
        async with ReplPool(config) as checker:
            return [await checker.run(j) for j in jobs], dict(checker.stats)

    return asyncio.run(go())


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


def assert_all_reaped(log):
    pids = started_pids(log)
    assert pids, "the double never started"
    for pid in pids:
        assert process_state(pid) is None, f"process {pid} still exists ({process_state(pid)})"
    assert zombie_children() == []


def test_imports_sent_once_per_process_and_headers_share_it(tmp_path):
    config, log = double_config(tmp_path)
    jobs = [
        LeanJob(MATHLIB, ("theorem a : 1 + 1 = 2 := by norm_num",)),
        LeanJob(OTHER_OPENS, ("theorem b : 2 = 2 := rfl",)),
        LeanJob(MATHLIB, ("theorem c : 3 = 3 := rfl",), ("#print axioms c",)),
        LeanJob(OTHER_OPENS, ("theorem d : 4 = 4 := rfl",)),
    ]
    results, stats = run_jobs(config, jobs)
    assert [r.outcome for r in results] == ["ok"] * 4
    assert [protocol.classify(r.commands[0]) for r in results] == ["accepted"] * 4
    by_pid = requests_by_pid(log)
    assert len(by_pid) == 1, "two headers with the same imports must share one process"
    sent = next(iter(by_pid.values()))
    imports = [r for r in sent if "import" in r["cmd"]]
    assert len(imports) == 1 and "env" not in imports[0]
    assert imports[0]["cmd"].startswith("import Mathlib\nimport Aesop")
    # each distinct options/opens part is sent once, in the import env
    rests = [r for r in sent if r["cmd"].lstrip().startswith(("set_option", "open"))]
    assert [r["cmd"].strip() for r in rests] == [
        "set_option maxHeartbeats 400000\n\nopen BigOperators Real Nat",
        "open Topology",
    ]
    # probes ran once: Mathlib's constant and Aesop's tactic
    assert sum("#check Real.pi" in r["cmd"] for r in sent) == 1
    assert sum("aesop" in r["cmd"] for r in sent) == 1
    # the audit ran in the env the command left, and its answer came back
    audit = results[2].audits[0]
    assert (
        audit.messages[0].text == "'c' depends on axioms: [propext, Classical.choice, Quot.sound]"
    )
    theorem_c = next(r for r in sent if r["cmd"].startswith("theorem c"))
    audit_req = next(r for r in sent if r["cmd"].startswith("#print axioms c"))
    assert audit_req["env"] == results[2].commands[0].env != theorem_c["env"]
    assert stats["processes_started"] == 1 and stats["imports"] == 1
    assert_all_reaped(log)


def test_empty_header_and_command_chaining(tmp_path):
    config, log = double_config(tmp_path)
    job = LeanJob(
        "",
        ("theorem __ref : 1 = 1 := sorry", "theorem t : 1 = 1 := by\n  exact sorry"),
        ("#print axioms t",),
    )
    (result,), _ = run_jobs(config, [job])
    assert result.outcome == "ok"
    ref, body = result.commands
    assert protocol.classify(ref) == "sorry" and protocol.classify(body) == "sorry"
    # positions are relative to each command's own text
    assert body.sorries[0].line == 2 and body.sorries[0].column == 8
    sent = next(iter(requests_by_pid(log).values()))
    assert sent[0] == {"cmd": "#check Nat"}  # no imports: the probe opens the environment
    assert sent[1]["env"] == 0 and sent[2]["env"] == ref.env
    assert "sorryAx" in result.audits[0].messages[0].text
    assert_all_reaped(log)


def test_errors_positions_and_repl_errors_come_back(tmp_path):
    script = {
        "rules": [
            {"match": "nlinarith", "error": "linarith failed to find a contradiction"},
            {"match": "BROKEN", "repl_error": "Unknown environment."},
        ]
    }
    config, log = double_config(tmp_path, script)
    job = LeanJob(
        MATHLIB,
        (
            "theorem x : a < b := by\n  intro h\n  nlinarith [sq_nonneg a]",
            "BROKEN",
            "theorem y : 1 = 1 := rfl",
        ),
    )
    (result,), _ = run_jobs(config, [job])
    first, broken, last = result.commands
    assert protocol.classify(first) == "lean_error"
    assert (first.errors[0].line, first.errors[0].column) == (3, 2)
    assert broken.repl_error == "Unknown environment." and protocol.classify(broken) == "lean_error"
    sent = next(iter(requests_by_pid(log).values()))
    # after a REPL-level error, the next command runs in the last environment Lean gave
    assert sent[-1]["env"] == first.env
    assert protocol.classify(last) == "accepted"


def test_hang_becomes_timeout_and_the_job_waiting_gets_a_fresh_process(tmp_path):
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, timeout_s=1.5
    )

    async def go():
        async with ReplPool(config) as checker:
            await checker.run(LeanJob(MATHLIB, ("theorem warm : True := trivial",)))
            t0 = time.monotonic()
            hung, after = await asyncio.gather(
                checker.run(LeanJob(MATHLIB, ("theorem h : True := HANG",))),
                checker.run(LeanJob(MATHLIB, ("theorem ok : True := trivial",))),
            )
            return hung, time.monotonic() - t0, after, dict(checker.stats)

    (hung, elapsed, after, stats), seen = run_loop(go)
    assert hung.outcome == "timeout" and "did not answer within" in hung.error
    assert 1.5 <= elapsed < 1.5 + 3 and stats["timeouts"] == 1 and stats["retries"] == 0
    assert after.outcome == "ok" and protocol.classify(after.commands[0]) == "accepted"
    first, second = started_pids(log)  # the hung process was replaced
    by_pid = requests_by_pid(log)
    assert not any("theorem ok" in r["cmd"] for r in by_pid[first])
    assert any("theorem ok" in r["cmd"] for r in by_pid[second])
    assert seen == []
    assert_all_reaped(log)


def test_job_timeout_overrides_config(tmp_path):
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, timeout_s=30
    )
    t0 = time.monotonic()
    (result,), _ = run_jobs(config, [LeanJob("", ("HANG",), timeout_s=0.5)])
    assert result.outcome == "timeout" and time.monotonic() - t0 < 10


@pytest.mark.parametrize("how", [{"crash": True}, {"exit": 3}])
def test_crash_is_checker_error_after_one_retry_then_fresh_process(tmp_path, how):
    config, log = double_config(tmp_path, {"rules": [{"match": "CRASH", **how}]})
    jobs = [
        LeanJob(MATHLIB, ("theorem c : True := CRASH",)),
        LeanJob(MATHLIB, ("theorem ok : True := trivial",)),
    ]
    (crashed, after), stats = run_jobs(config, jobs)
    assert crashed.outcome == "checker_error"
    assert "after a retry" in crashed.error and "\n" not in crashed.error
    assert ("partial reply" in crashed.error) == ("crash" in how)
    assert after.outcome == "ok" and protocol.classify(after.commands[0]) == "accepted"
    by_pid = requests_by_pid(log)
    crashed_pids = [pid for pid, reqs in by_pid.items() if any("CRASH" in r["cmd"] for r in reqs)]
    assert len(crashed_pids) == 2  # the first try and the retry, each on its own process
    assert len(by_pid) == 3  # ... and a fresh process took the next check
    assert stats["retries"] == 1 and stats["checker_errors"] == 1
    assert_all_reaped(log)


def test_unparsable_output_is_checker_error(tmp_path):
    config, log = double_config(tmp_path, {"rules": [{"match": "GARBAGE", "raw": "PANIC at Lean"}]})
    (result,), _ = run_jobs(config, [LeanJob("", ("GARBAGE",))])
    assert result.outcome == "checker_error"
    assert "unparsable REPL output: 'PANIC at Lean'" in result.error
    assert len(started_pids(log)) == 2
    assert_all_reaped(log)


def test_bad_import_is_caught_by_the_probe_and_paid_for_once(tmp_path):
    """Jobs already waiting for a process when the import block is found bad are told so at
    once, and so are later ones, instead of paying for the failed import again; a job of
    another import block is not affected."""
    config, log = double_config(tmp_path, {"bad_imports": ["Mathlib"]})

    async def go():
        async with ReplPool(config) as checker:
            jobs = [LeanJob(MATHLIB, (f"theorem t{i} : True := trivial",)) for i in range(4)]
            jobs.append(LeanJob("", ("theorem core : True := trivial",)))
            results = await asyncio.gather(*(checker.run(j) for j in jobs))
            later = await checker.run(LeanJob(MATHLIB, ("theorem u : True := trivial",)))
            return [*results, later], dict(checker.stats)

    (results, stats), seen = run_loop(go)
    assert [r.outcome for r in results] == ["checker_error"] * 4 + ["ok", "checker_error"]
    bad = [r.error for i, r in enumerate(results) if i != 4]
    assert len(set(bad)) == 1 and "import Mathlib did not load" in bad[0] and "Real.pi" in bad[0]
    assert stats["crashes"] == 0 and stats["retries"] == 0 and seen == []
    imports = [p for p, reqs in requests_by_pid(log).items() if "Mathlib" in reqs[0]["cmd"]]
    assert len(imports) == 1 and len(started_pids(log)) == 2
    assert_all_reaped(log)


def test_workers_cap_under_concurrency_and_eviction(tmp_path):
    config, log = double_config(tmp_path, {"latency_s": 0.2}, workers=2)
    jobs = [LeanJob(MATHLIB, (f"theorem t{i} : True := trivial",)) for i in range(6)]
    jobs += [LeanJob("import Other\n", (f"theorem u{i} : True := trivial",)) for i in range(3)]
    alive_counts: list[int] = []

    async def go():
        async with ReplPool(config) as checker:
            done = asyncio.Event()

            async def monitor():
                while not done.is_set():
                    alive_counts.append(len(live_doubles()))
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(monitor())
            results = await asyncio.gather(*(checker.run(j) for j in jobs))
            done.set()
            await watcher
            return results, dict(checker.stats)

    results, stats = asyncio.run(go())
    assert all(r.outcome == "ok" for r in results)
    # counted from /proc, not from the pool's own bookkeeping
    assert max(alive_counts) == 2 and stats["max_processes"] == 2
    assert len(started_pids(log)) >= 3  # an idle Mathlib process made way for "import Other"
    # the other import block got its own process (an idle Mathlib one was evicted)
    imports = [
        r["cmd"].split("\n")[0]
        for reqs in requests_by_pid(log).values()
        for r in reqs
        if "env" not in r
    ]
    assert "import Other" in imports and "import Mathlib" in imports
    assert_all_reaped(log)


def test_the_prover_key_is_withheld_even_when_an_allow_rule_would_pass_it(tmp_path, monkeypatch):
    # A key variable named like an allowed prefix, and listed in env_passthrough by mistake.
    monkeypatch.setenv("LAKE_PROVER_KEY", "sk-secret-never-to-lean")
    config, log = double_config(tmp_path, env_passthrough=["LAKE_PROVER_KEY"])
    config = load_config(
        None, {**config_to_dict(config), "prover": {"api_key_env": "LAKE_PROVER_KEY"}}
    )
    run_jobs(config, [LeanJob("", ("theorem t : True := trivial",))])
    start = next(e for e in read_log(log) if e["event"] == "start")
    assert "LAKE_PROVER_KEY" not in start["environ"]
    assert "sk-secret-never-to-lean" not in str(start["environ"])


def test_lean_gets_an_allow_listed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMLAPI_KEY", "sk-secret-never-to-lean")
    monkeypatch.setenv("SOME_OTHER_TOKEN", "x")
    monkeypatch.setenv("LAKE_HOME", "/opt/lake")
    config, log = double_config(tmp_path, env_passthrough=["SOME_OTHER_TOKEN"])
    run_jobs(config, [LeanJob("", ("theorem t : True := trivial",))])
    start = next(e for e in read_log(log) if e["event"] == "start")
    environ = start["environ"]
    assert "AIMLAPI_KEY" not in environ
    assert "sk-secret-never-to-lean" not in str(environ)
    assert environ["SOME_OTHER_TOKEN"] == "x" and environ["LAKE_HOME"] == "/opt/lake"
    assert environ["PATH"] == os.environ["PATH"]
    assert environ["TMPDIR"] != os.environ.get("TMPDIR")
    assert start["cwd"] == config.lean.project_dir
    # resource limits and a process group of its own, set before Lean starts
    assert start["limits"] == {
        "as": config.lean.memory_mb * 1024 * 1024,
        "fsize": config.lean.file_size_mb * 1024 * 1024,
        "session_leader": True,
    }


def test_missing_project_dir_is_a_clear_error(tmp_path):
    config, _ = double_config(tmp_path, project_dir=str(tmp_path / "nope"))

    async def go():
        async with ReplPool(config):
            pass

    with pytest.raises(CheckerError, match="lean.project_dir"):
        asyncio.run(go())


def test_missing_repl_command_is_checker_error(tmp_path):
    config, _ = double_config(tmp_path, repl_command=[str(tmp_path / "no-such-repl")])
    (result,), _ = run_jobs(config, [LeanJob("", ("theorem t : True := trivial",))])
    assert result.outcome == "checker_error" and "cannot start the REPL" in result.error


def test_versions_read_from_the_project(tmp_path):
    config, _ = double_config(tmp_path)
    checker = open_checker(config)
    assert checker.versions() == {"lean_toolchain": "unknown", "mathlib_rev": "unknown"}

    main_project = Path(__file__).resolve().parents[2] / "lean_project"
    config2, _ = double_config(tmp_path, project_dir=str(main_project))
    assert open_checker(config2).versions() == {
        "lean_toolchain": "leanprover/lean4:v4.24.0",
        "mathlib_rev": "f897ebcf72cd16f89ab4577d0c826cd14afaafc7",
    }


def test_a_repeated_first_command_is_elaborated_once_and_audits_share_one_env(tmp_path):
    """Every sample of a problem starts with the same reference statement: one process
    elaborates it once and runs each body in the environment it left; the audits all run in
    the environment the commands left, sent together."""
    config, log = double_config(tmp_path)
    reference = "theorem __harness_ref : 5 = 5 := sorry\n"
    jobs = [
        LeanJob(
            MATHLIB, (reference, f"theorem e{i} : 5 = 5 := rfl"), ("#print axioms e", "#check e")
        )
        for i in range(3)
    ]
    results, _ = run_jobs(config, jobs)
    assert [r.outcome for r in results] == ["ok"] * 3
    (sent,) = requests_by_pid(log).values()
    assert sum(r["cmd"] == reference for r in sent) == 1
    ref_env = results[0].commands[0].env
    assert all(r.commands[0] == results[0].commands[0] for r in results)  # the same answer
    assert protocol.classify(results[0].commands[0]) == "sorry"  # Lean's own reply, kept
    for i, result in enumerate(results):
        body = next(r for r in sent if r["cmd"].startswith(f"theorem e{i} "))
        assert body["env"] == ref_env
        audits = [r for r in sent if r["cmd"] in ("#print axioms e", "#check e")][2 * i : 2 * i + 2]
        assert [a["env"] for a in audits] == [result.commands[1].env] * 2
        assert len(result.audits) == 2


def test_audits_are_not_run_after_a_failed_command(tmp_path):
    config, log = double_config(
        tmp_path, {"rules": [{"match": "broken_marker", "error": "unknown identifier"}]}
    )
    job = LeanJob(
        MATHLIB, ("theorem f : 6 = 6 := by exact broken_marker",), ("#print axioms f", "#check f")
    )
    (result,), _ = run_jobs(config, [job])
    assert result.outcome == "ok"
    assert protocol.classify(result.commands[0]) == "lean_error"
    assert [a.repl_error for a in result.audits] == ["not run: the last command has errors"] * 2
    (sent,) = requests_by_pid(log).values()
    assert not any(r["cmd"] in ("#print axioms f", "#check f") for r in sent)


# -- jobs waiting for a free process -------------------------------------------------------------


def test_a_time_limit_starts_when_the_job_gets_its_process(tmp_path):
    """Two jobs whose reference statement hangs, one process: the second waits for the first
    to time out, then has its own full limit (the wait is not charged)."""
    config, log = double_config(tmp_path, {"rules": [{"match": "HANGREF", "hang": True}]})
    ref = "theorem __harness_ref : True := HANGREF"

    async def go():
        async with ReplPool(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            t0 = time.monotonic()
            results = await asyncio.gather(
                checker.run(LeanJob("", (ref, "theorem a : True := trivial"), timeout_s=0.6)),
                checker.run(LeanJob("", (ref, "theorem b : True := trivial"), timeout_s=0.6)),
            )
            return results, time.monotonic() - t0, dict(checker.stats)

    (results, elapsed, stats), seen = run_loop(go)
    assert [r.outcome for r in results] == ["timeout", "timeout"]
    assert stats["timeouts"] == 2 and stats["crashes"] == 0
    assert elapsed > 1.1 and seen == []  # 0.6 s each, one after the other
    assert len(started_pids(log)) == 2
    assert_all_reaped(log)


def test_a_crash_is_blamed_on_its_own_job(tmp_path):
    """The job that crashed Lean is retried on a fresh process; the job waiting for the
    process meanwhile is not charged (no retry, no error)."""
    once = tmp_path / "crashed-once"
    config, log = double_config(
        tmp_path, {"rules": [{"match": "FLAKY", "crash": True, "once_file": str(once)}]}
    )

    async def go():
        async with ReplPool(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            results = await asyncio.gather(
                checker.run(LeanJob("", ("theorem f : True := FLAKY",))),
                checker.run(LeanJob("", ("theorem ok : True := trivial",))),
            )
            return results, dict(checker.stats)

    ((flaky, after), stats), seen = run_loop(go)
    assert flaky.outcome == after.outcome == "ok"
    assert stats["crashes"] == stats["retries"] == 1 and stats["checker_errors"] == 0
    by_pid = requests_by_pid(log)
    flaky_pids = [pid for pid, reqs in by_pid.items() if any("FLAKY" in r["cmd"] for r in reqs)]
    assert len(flaky_pids) == 2 and seen == []
    assert_all_reaped(log)


def test_recycling_under_concurrency_never_exceeds_the_workers(tmp_path):
    config, log = double_config(tmp_path, {"latency_s": 0.03}, workers=2, recycle_after=2)
    alive: list[int] = []

    async def go():
        async with ReplPool(config) as checker:
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
    served = [
        sum("theorem t" in r.get("cmd", "") for r in reqs) for reqs in requests_by_pid(log).values()
    ]
    assert sum(served) == 13 and max(served) <= 2 and len(started_pids(log)) == 7
    assert seen == []
    assert_all_reaped(log)


def test_a_job_of_another_import_block_is_served_in_its_turn(tmp_path):
    """A steady stream of one import block's jobs on the only process: a job of another block
    gets the process as soon as the jobs that were waiting before it are done."""
    config, log = double_config(tmp_path, {"latency_s": 0.04})
    total = 60
    finished: list[str] = []

    async def go():
        async with ReplPool(config) as checker:
            await checker.run(LeanJob("", ("theorem warm : True := trivial",)))
            numbers = iter(range(total))

            async def check_task():  # as search.py's check workers: one job after another
                for i in numbers:
                    await checker.run(LeanJob("", (f"theorem t{i} : True := trivial",)))
                    finished.append("K1")

            loops = [asyncio.create_task(check_task()) for _ in range(3)]
            await asyncio.sleep(0.2)  # the stream is running
            arrived = len(finished)
            other = await checker.run(LeanJob(OTHER, ("theorem o : True := trivial",)))
            finished.append("K2")
            await asyncio.gather(*loops)
            return other, arrived

    (other, arrived), seen = run_loop(go)
    assert other.outcome == "ok" and seen == []
    # one job on the process and two waiting when it came: at most three before it
    assert finished.index("K2") - arrived <= 3, finished
    assert_all_reaped(log)


def test_cancelled_jobs_free_their_slot_and_process(tmp_path):
    """Cancelled mid-request, a job's process goes (its state is unknown); cancelled while
    waiting, a job leaves its place; a job still waiting gets a fresh process."""
    config, log = double_config(tmp_path, {"rules": [{"match": "SLOW", "hang": True}]})

    async def go():
        async with ReplPool(config) as checker:
            slow = asyncio.create_task(checker.run(LeanJob("", ("SLOW",))))
            await asyncio.sleep(0.5)
            leaving = asyncio.create_task(
                checker.run(LeanJob("", ("theorem w : True := trivial",)))
            )
            staying = asyncio.create_task(
                checker.run(LeanJob("", ("theorem s : True := trivial",)))
            )
            await asyncio.sleep(0.1)
            leaving.cancel()  # cancelled while waiting for the only slot
            slow.cancel()  # cancelled mid-request: its process must go
            for task in (slow, leaving):
                with pytest.raises(asyncio.CancelledError):
                    await task
            return await asyncio.wait_for(staying, timeout=10)

    after, seen = run_loop(go)
    assert after.outcome == "ok" and seen == []
    assert len(started_pids(log)) == 2
    assert not any("theorem w" in r["cmd"] for reqs in requests_by_pid(log).values() for r in reqs)
    assert_all_reaped(log)


def test_cancelling_every_job_at_once_leaves_nothing_behind(tmp_path):
    """A run's shutdown cancels all checks together: running ones and waiting ones."""
    config, log = double_config(tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, workers=2)

    async def go():
        async with ReplPool(config) as checker:
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
            return await asyncio.gather(*tasks, return_exceptions=True)

    outcomes, seen = run_loop(go)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert seen == []
    assert_all_reaped(log)
    assert live_doubles() == []


@pytest.mark.parametrize("where", ["command", "header", "imports"])
def test_a_lone_surrogate_is_an_outcome_not_an_exception(tmp_path, where):
    """Text UTF-8 cannot encode (a lone surrogate: json.loads accepts '\\ud83d' in a suite or a
    reply) is a checker_error naming the problem, not an exception that stops the run; nothing
    was sent, so a process that had finished its import goes on serving."""
    config, log = double_config(tmp_path)
    header, command = "", "theorem t : True := trivial"
    if where == "command":
        command += " -- \ud83d"
    elif where == "header":
        header = "open Nat -- \ud83d\n"
    else:
        header = "import «Math\ud83dlib»\n"

    async def go():
        async with ReplPool(config) as checker:
            bad = await checker.run(LeanJob(header, (command,)))
            good = await checker.run(LeanJob("", ("theorem t : True := trivial",)))
            return bad, good, dict(checker.stats)

    (bad, good, stats), seen = run_loop(go)
    assert bad.outcome == "checker_error" and "surrogate" in bad.error and "\n" not in bad.error
    assert good.outcome == "ok" and seen == []
    assert stats["processes_started"] == (2 if where == "imports" else 1)
    assert_all_reaped(log)


def test_a_job_finding_slots_idle_goes_to_the_process_with_its_imports(tmp_path):
    config, log = double_config(tmp_path, workers=2)
    jobs = [
        LeanJob(MATHLIB, ("theorem a : True := trivial",)),
        LeanJob(OTHER, ("theorem b : True := trivial",)),
        LeanJob(OTHER, ("theorem c : True := trivial",)),
        LeanJob(MATHLIB, ("theorem d : True := trivial",)),
    ]
    results, stats = run_jobs(config, jobs)
    assert all(r.outcome == "ok" for r in results)
    assert stats["processes_started"] == 2
    for pid, reqs in requests_by_pid(log).items():
        theorems = {r["cmd"].split()[1] for r in reqs if r["cmd"].startswith("theorem")}
        assert theorems in ({"a", "d"}, {"b", "c"}), (pid, theorems)
    assert_all_reaped(log)


def test_a_process_that_died_while_idle_is_replaced_without_blame(tmp_path):
    config, log = double_config(tmp_path)

    async def go():
        async with ReplPool(config) as checker:
            await checker.run(LeanJob("", ("theorem a : True := trivial",)))
            (pid,) = checker.pids
            os.kill(pid, signal.SIGKILL)  # e.g. the kernel's OOM killer
            for _ in range(200):  # until reaped, and the loop has heard of it
                if process_state(pid) is None:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            after = await checker.run(LeanJob("", ("theorem b : True := trivial",)))
            return after, dict(checker.stats)

    (after, stats), seen = run_loop(go)
    assert after.outcome == "ok" and seen == []
    assert stats["crashes"] == 0 and stats["processes_started"] == 2
    assert_all_reaped(log)


def test_closing_the_checker_under_jobs_tells_their_callers(tmp_path):
    config, log = double_config(tmp_path, {"rules": [{"match": "HANG", "hang": True}]})

    async def go():
        checker = ReplPool(config)
        await checker.__aenter__()
        running = asyncio.create_task(checker.run(LeanJob("", ("theorem h : True := HANG",))))
        waiting = asyncio.create_task(checker.run(LeanJob("", ("theorem w : True := rfl",))))
        await asyncio.sleep(0.5)
        await checker.aclose()
        return await asyncio.gather(running, waiting, return_exceptions=True)

    outcomes, seen = run_loop(go)
    assert [str(o) for o in outcomes] == ["the Lean checker is closed"] * 2
    assert all(isinstance(o, CheckerError) for o in outcomes) and seen == []
    assert_all_reaped(log)


def test_a_bug_reaches_its_caller_and_the_slot_goes_on(tmp_path, monkeypatch):
    config, log = double_config(tmp_path)
    run_on = ReplPool._run_on

    async def buggy(self, worker, parts, job, timeout):
        if "BUG" in job.commands[0]:
            raise RuntimeError("a bug")
        return await run_on(self, worker, parts, job, timeout)

    monkeypatch.setattr(ReplPool, "_run_on", buggy)

    async def go():
        async with ReplPool(config) as checker:
            with pytest.raises(RuntimeError, match="a bug"):
                await checker.run(LeanJob("", ("BUG",)))
            return await checker.run(LeanJob("", ("theorem t : True := trivial",)))

    after, seen = run_loop(go)
    assert after.outcome == "ok" and seen == []
    assert_all_reaped(log)
