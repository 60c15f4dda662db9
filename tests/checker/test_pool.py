"""The REPL pool against the REPL double: header reuse, timeouts, crashes, caps, environment."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

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
    repl_process,
    requests_by_pid,
    started_pids,
    zombie_children,
)
from tests.conftest import shared_path

pytestmark = pytest.mark.timeout(60)

MATHLIB = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat\n"
OTHER_OPENS = "import Mathlib\nimport Aesop\n\nopen Topology\n"


def run_jobs(config, jobs, concurrent=False):
    async def go():
        async with open_checker(config) as checker:
            if concurrent:
                results = await asyncio.gather(*(checker.run(j) for j in jobs))
            else:
                results = [await checker.run(j) for j in jobs]
            return results, dict(checker.stats)

    return asyncio.run(go())


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
    rests = [r for r in sent if r["cmd"].startswith(("set_option", "open"))]
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


def test_hang_becomes_timeout_and_pool_keeps_working(tmp_path):
    config, log = double_config(
        tmp_path, {"rules": [{"match": "HANG", "hang": True}]}, timeout_s=1.5
    )

    async def go():
        async with open_checker(config) as checker:
            t0 = time.monotonic()
            hung = await checker.run(LeanJob(MATHLIB, ("theorem h : True := HANG",)))
            elapsed = time.monotonic() - t0
            after = await checker.run(LeanJob(MATHLIB, ("theorem ok : True := trivial",)))
            return hung, elapsed, after

    hung, elapsed, after = asyncio.run(go())
    assert hung.outcome == "timeout" and "did not answer within" in hung.error
    assert elapsed < 1.5 + 2
    assert after.outcome == "ok" and protocol.classify(after.commands[0]) == "accepted"
    assert len(started_pids(log)) == 2  # the hung process was replaced
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


def test_crash_once_then_ok(tmp_path):
    once = tmp_path / "crashed-once"
    config, log = double_config(
        tmp_path, {"rules": [{"match": "FLAKY", "crash": True, "once_file": str(once)}]}
    )
    (result,), stats = run_jobs(config, [LeanJob("", ("theorem f : True := FLAKY",))])
    assert result.outcome == "ok" and stats["retries"] == 1
    assert len(started_pids(log)) == 2


def test_unparsable_output_is_checker_error(tmp_path):
    config, log = double_config(tmp_path, {"rules": [{"match": "GARBAGE", "raw": "PANIC at Lean"}]})
    (result,), _ = run_jobs(config, [LeanJob("", ("GARBAGE",))])
    assert result.outcome == "checker_error"
    assert "unparsable REPL output: 'PANIC at Lean'" in result.error
    assert len(started_pids(log)) == 2
    assert_all_reaped(log)


def test_bad_import_is_caught_by_the_probe(tmp_path):
    config, log = double_config(tmp_path, {"bad_imports": ["Mathlib"]})
    jobs = [LeanJob(MATHLIB, ("theorem t : True := trivial",))] * 3
    jobs.append(LeanJob("", ("theorem core : True := trivial",)))
    results, _ = run_jobs(config, jobs)
    assert [r.outcome for r in results] == ["checker_error"] * 3 + ["ok"]
    assert "import Mathlib did not load" in results[0].error and "Real.pi" in results[0].error
    assert results[1].error == results[0].error
    assert len(started_pids(log)) == 2  # the failed import is not paid for again
    assert_all_reaped(log)


def test_workers_cap_under_concurrency_and_eviction(tmp_path):
    config, log = double_config(tmp_path, {"latency_s": 0.2}, workers=2)
    jobs = [LeanJob(MATHLIB, (f"theorem t{i} : True := trivial",)) for i in range(6)]
    jobs += [LeanJob("import Other\n", (f"theorem u{i} : True := trivial",)) for i in range(3)]
    alive_counts: list[int] = []

    async def go():
        async with open_checker(config) as checker:
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


def test_recycle_after_n_checks(tmp_path):
    config, log = double_config(tmp_path, recycle_after=2)
    jobs = [LeanJob("", (f"theorem t{i} : True := trivial",)) for i in range(5)]
    results, stats = run_jobs(config, jobs)
    assert all(r.outcome == "ok" for r in results)
    assert len(started_pids(log)) == 3
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


def test_replayed_fixtures_through_the_real_driver(tmp_path):
    """Recorded REPL transcripts replayed by the double, sent by the real process driver."""
    from tests.doubles.fake_repl import read_requests

    root = shared_path("fixtures", "lean-repl")
    ins = sorted(p for p in root.rglob("*.in"))
    config, log = double_config(tmp_path, replay=ins)

    async def go():
        seen = 0
        for source in ins:
            process = repl_process(tmp_path, config=config)
            await process.start()
            try:
                expected = protocol.split_replies(
                    source.with_name(source.name[:-3] + ".expected.out").read_text()
                )
                import json

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


def test_cancelled_jobs_free_their_slot_and_process(tmp_path):
    config, log = double_config(tmp_path, {"rules": [{"match": "SLOW", "hang": True}]})

    async def go():
        async with open_checker(config) as checker:
            slow = asyncio.create_task(checker.run(LeanJob("", ("SLOW",))))
            await asyncio.sleep(0.5)
            waiting = asyncio.create_task(
                checker.run(LeanJob("", ("theorem w : True := trivial",)))
            )
            await asyncio.sleep(0.1)
            waiting.cancel()  # cancelled while queued for the only slot
            slow.cancel()  # cancelled mid-request: its process must go
            for task in (slow, waiting):
                with pytest.raises(asyncio.CancelledError):
                    await task
            return await asyncio.wait_for(
                checker.run(LeanJob("", ("theorem ok : True := trivial",))), timeout=10
            )

    after = asyncio.run(go())
    assert after.outcome == "ok"
    assert len(started_pids(log)) == 2
    assert_all_reaped(log)


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
