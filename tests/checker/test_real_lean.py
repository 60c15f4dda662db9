"""Real Lean (skipped where `lake` is not on PATH): the smoke suite's reference proofs pass,
and a wrong proof fails at the right line, with both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.checker import open_checker, protocol
from harness.config import load_config
from harness.types import LeanJob

pytestmark = [pytest.mark.lean, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "lean_project"
REPL = PROJECT / ".lake" / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"

WRONG = "theorem harness_wrong : (2 : Nat) + 2 = 5 := by\n  decide"


def config_for(backend: str):
    if backend == "repl" and not REPL.is_file():
        pytest.skip(f"{REPL} is not built (run `harness setup`)")
    return load_config(None, {"lean": {"project_dir": str(PROJECT), "backend": backend}})


def smoke_jobs(config):
    try:
        from harness.suites import load_suite, smoke_reference_proofs
    except ImportError as exc:  # written by another part of the project
        pytest.skip(f"harness.suites is not available yet ({exc})")
    suite = load_suite("smoke", config)
    proofs = smoke_reference_proofs()
    return [
        (p.name, LeanJob(p.header, (p.context + p.statement + " " + proofs[p.name],)))
        for p in suite.problems
        if p.name in proofs
    ]


@pytest.mark.parametrize("backend", ["repl", "oneshot"])
def test_smoke_reference_proofs_are_accepted(backend):
    config = config_for(backend)
    jobs = smoke_jobs(config)
    assert jobs

    async def go():
        async with open_checker(config) as checker:
            return [(name, await checker.run(job)) for name, job in jobs]

    for name, result in asyncio.run(go()):
        assert result.outcome == "ok", (name, result.error)
        assert protocol.classify(result.commands[0]) == "accepted", (name, result.commands[0])


@pytest.mark.parametrize("backend", ["repl", "oneshot"])
def test_wrong_proof_is_a_lean_error_at_its_line(backend):
    config = config_for(backend)

    async def go():
        async with open_checker(config) as checker:
            return await checker.run(LeanJob("", (WRONG,), ("#print axioms harness_wrong",)))

    result = asyncio.run(go())
    assert result.outcome == "ok", result.error
    (command,) = result.commands
    assert protocol.classify(command) == "lean_error"
    assert command.errors[0].line == 2  # the `decide` line, relative to the command


def test_jobs_queued_on_one_repl_get_their_own_answers():
    """lean.pipeline_depth: with one process and 2 jobs in line at a time, Lean reads the next
    request while the harness reads a reply; each job still gets its own answer."""
    config_for("repl")  # skips where the REPL is not built
    config = load_config(
        None, {"lean": {"project_dir": str(PROJECT), "workers": 1, "pipeline_depth": 2}}
    )
    jobs = [
        LeanJob("", (f"theorem harness_ok_{i} : {i} + {i} = {2 * i} := by decide",))
        for i in range(6)
    ]
    jobs.insert(3, LeanJob("", (WRONG,)))

    async def go():
        async with open_checker(config) as checker:
            results = await asyncio.gather(*(checker.run(job) for job in jobs))
            return results, dict(checker.stats)

    results, stats = asyncio.run(go())
    assert all(r.outcome == "ok" for r in results), [r.error for r in results]
    kinds = [protocol.classify(r.commands[0]) for r in results]
    assert kinds == ["accepted"] * 3 + ["lean_error"] + ["accepted"] * 3
    assert stats["processes_started"] == 1 and stats["interruptions"] == 0
