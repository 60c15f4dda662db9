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
from harness.soundness.audit import axioms_command, fidelity_command, judge_axioms, judge_fidelity
from harness.soundness.verify import verify
from harness.types import Candidate, LeanJob, VerdictKind

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


@pytest.mark.parametrize("backend", ["repl", "oneshot"])
def test_fidelity_audit_accepts_the_same_statement_only(backend):
    """The audit's Lean-facing claims (audit.py), observed on real Lean: `type_of%`, the
    theorem form, reducible-only unification, and rigid universes of the reference."""

    config = config_for(backend)
    reference = "theorem __harness_ref.{u} (α : Sort u) (a : α) : a = a := sorry"
    cases = {
        "same": ("theorem t.{v} (β : Sort v) (b : β) : b = b := rfl", True),
        "smaller_universe": ("theorem t (β : Type) (b : β) : b = b := rfl", False),
        "other_statement": ("theorem t : True := trivial", False),
    }
    plain = "theorem __harness_ref : 2 + 2 = 4 := sorry"
    unfolded = ("def four : Nat := 4\ntheorem t : 2 + 2 = four := rfl", False)

    jobs = {
        name: LeanJob("", (reference, text), audits=(axioms_command("t"), fidelity_command("t")))
        for name, (text, _) in cases.items()
    }
    jobs["needs_unfolding"] = LeanJob(
        "", (plain, unfolded[0]), audits=(axioms_command("t"), fidelity_command("t"))
    )
    expected = {name: ok for name, (_, ok) in cases.items()} | {"needs_unfolding": False}

    async def go():
        async with open_checker(config) as checker:
            return {name: await checker.run(job) for name, job in jobs.items()}

    for name, result in asyncio.run(go()).items():
        assert result.outcome == "ok", (name, result.error)
        assert not result.commands[1].errors, (name, result.commands[1])
        assert judge_axioms(result.audits[0], "t", False).ok, (name, result.audits[0])
        fidelity = judge_fidelity(result.audits[1])
        assert fidelity.ok == expected[name], (name, result.audits[1])


@pytest.mark.parametrize("backend", ["repl"])
def test_corpus_cases_left_to_lean_are_not_proved_and_honest_ones_are(backend):
    """The exploit corpus's `needs_lean` cases (a model instance redefining `+` on ℕ, a local
    notation redefining `≤`, ...: the statement comparison and Lean must stop them) and its
    must-accept cases, through the whole chain with the fresh-process confirmation."""
    from harness.extract import extract_proof
    from tests.soundness.corpus_cases import cases

    config = config_for(backend)
    left_to_lean = [c for c in cases("reject") if c.outcome == "needs_lean"]
    honest = cases("accept")
    items = [(c.problem, extract_proof(c.answer, "t")) for c in left_to_lean + honest]
    verdicts = run(config, items)
    got = {c.name: v.kind.value for c, v in zip(left_to_lean + honest, verdicts, strict=True)}
    assert [
        name for name in got if name in {c.name for c in left_to_lean} and got[name] == "proved"
    ] == []
    assert {c.name: got[c.name] for c in honest} == {c.name: "proved" for c in honest}


def test_a_sketch_is_decomposed_filled_in_place_and_composed():
    """Decomposition on real Lean: the REPL's goals at each `sorry` (an inaccessible `m✝`
    among the hypotheses), hole proofs that use the lemma's fresh name for it (`rename_i` in
    place), and the composed proof through the whole chain."""
    from harness.decompose import compose, fill_one, subgoal_problem
    from harness.soundness.verify import check_sketch, verify_hole
    from harness.types import Problem

    config = config_for("repl")
    problem = Problem(
        name="t", header="", statement="theorem t (n : Nat) (h : 0 < n) : ∀ m : Nat, m < m + n :="
    )
    sketch = Candidate(proof="by\n  intro\n  have h1 : 0 < n := by sorry\n  sorry")

    async def go():
        async with open_checker(config) as checker:
            sketched = await check_sketch(problem, sketch, checker, config)
            assert (sketched.kind, sketched.rule, len(sketched.holes)) == (
                VerdictKind.SORRY,
                "sketch",
                2,
            ), sketched
            subgoals = [subgoal_problem(problem, i, h.goal) for i, h in enumerate(sketched.holes)]
            assert subgoals[1].renames == ("m_1",), subgoals[1]
            proofs = [
                Candidate(proof="by\n  exact h"),
                Candidate(proof="by\n  show m_1 < m_1 + n\n  omega"),
            ]
            for hole, sub, own in zip(sketched.holes, subgoals, proofs, strict=True):
                filled, span = fill_one(sketch, hole, own, sub)
                verdict = await verify_hole(problem, filled, span, 2, own, checker, config)
                assert verdict.kind is VerdictKind.PROVED, (verdict, filled.proof)
            fills = {i: (proofs[i], subgoals[i]) for i in range(2)}
            composed = compose(sketch, sketched.holes, fills)
            return await verify(problem, composed, checker, config)

    assert asyncio.run(go()).kind is VerdictKind.PROVED
