"""Real Lean (skipped where `lake` is not on PATH): the whole chain on the smoke suite.

The smoke reference proofs must come out `proved` (screen, splice, reference statement, the
model's command, `#print axioms`, the fidelity check), and exploits that only Lean can judge must
not. The DeepSeek/Kimina corpora were written for Lean v4.9 / v4.15 and run only against a
`lean.project_dir` at their own toolchain, so they are not run here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.checker import open_checker
from harness.config import load_config
from harness.soundness.verify import verify
from harness.types import Candidate, VerdictKind

pytestmark = [pytest.mark.lean, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "lean_project"
REPL = PROJECT / ".lake" / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"


def config_for(backend: str):
    if backend == "repl" and not REPL.is_file():
        pytest.skip(f"{REPL} is not built (run `harness setup`)")
    return load_config(None, {"lean": {"project_dir": str(PROJECT), "backend": backend}})


def run(config, items):
    async def go():
        async with open_checker(config) as checker:
            return [await verify(p, c, checker, config) for p, c in items]

    return asyncio.run(go())


@pytest.mark.parametrize("backend", ["repl", "oneshot"])
def test_smoke_reference_proofs_are_proved_through_the_whole_chain(backend):
    from harness.suites import smoke_reference_proofs, smoke_suite

    config = config_for(backend)
    proofs = smoke_reference_proofs()
    items = [(p, Candidate(proof=proofs[p.name])) for p in smoke_suite().problems]
    verdicts = run(config, items)
    bad = {
        p.name: (v.kind.value, v.rule, v.where, v.detail)
        for (p, _), v in zip(items, verdicts, strict=True)
        if v.kind != VerdictKind.PROVED
    }
    assert bad == {}


@pytest.mark.parametrize("backend", ["repl", "oneshot"])
def test_lean_only_exploits_are_refused(backend):
    from harness.suites import smoke_suite

    config = config_for(backend)
    problem = next(p for p in smoke_suite().problems if p.name == "smoke_two_plus_two")
    cases = {
        # the theorem cites itself (REPL tactic mode once accepted this: repl#44)
        "self_reference": Candidate(proof="smoke_two_plus_two"),
        # a proof with an error after the goal is closed: Lean's error, not `proved`
        "error_after_proof": Candidate(proof="by\n  decide\n  exact 0"),
    }
    verdicts = run(config, [(problem, c) for c in cases.values()])
    for name, verdict in zip(cases, verdicts, strict=True):
        assert verdict.kind != VerdictKind.PROVED, name
