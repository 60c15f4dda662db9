"""Sketches and holes (search.strategy: decompose) through the checker: the exploit corpus's
cheats, offered as a hole's proof or as a sketch, never pass (the REPL double as Lean)."""

from __future__ import annotations

import asyncio

from harness.checker.pool import ReplPool
from harness.extract import extract_proof
from harness.soundness.splice import fill_hole, proof_lines
from harness.soundness.verify import check_sketch, verify_hole
from harness.types import Candidate, VerdictKind
from tests.checker.helpers import double_config
from tests.soundness.corpus_cases import cases

# what the screen or extraction must stop; `needs_lean` cases need real Lean (the real-Lean
# tests run them) and `dropped` text never reaches Lean at all
SCREENED = [c for c in cases("reject") if c.outcome in ("sorry", "rejected", "no_proof")]
SKETCH = "by\n  have h : True := by\n    sorry\n  sorry"


def test_corpus_cheats_never_pass_as_hole_proofs_or_sketches(tmp_path):
    config, _ = double_config(tmp_path)
    assert len(SCREENED) >= 30

    async def go() -> list[str]:
        wrong = []
        async with ReplPool(config) as pool:
            for case in SCREENED:
                problem = case.problem
                own = extract_proof(case.answer, problem.decl_name)
                sketch = Candidate(proof=SKETCH)
                start = SKETCH.rindex("sorry")
                if isinstance(own, Candidate):
                    proof, a, b = fill_hole(SKETCH, start, start + 5, proof_lines(own.proof))
                    filled = Candidate(proof=proof, aux=own.aux, preamble=own.preamble)
                else:
                    filled, a, b = sketch, start, start + 5
                as_hole = await verify_hole(problem, filled, (a, b), 2, own, pool, config)
                if as_hole.kind is VerdictKind.PROVED:
                    wrong.append(f"{case.name}: proved as a hole's proof")
                as_sketch = await check_sketch(problem, own, pool, config)
                plain_holes = case.rule == "sorry" and as_sketch.rule == "sketch"
                if as_sketch.rule == "sketch" and not plain_holes:
                    wrong.append(f"{case.name}: accepted as a sketch")
        return wrong

    assert asyncio.run(go()) == []


def test_a_hole_proof_that_leaves_its_goal_open_is_not_proved(tmp_path):
    config, _ = double_config(tmp_path)
    problem = SCREENED[0].problem

    async def go():
        async with ReplPool(config) as pool:
            start = SKETCH.rindex("sorry")
            # the prover's text is clean, but its proof in place still leaves a hole there
            proof, a, b = fill_hole(SKETCH, start, start + 5, ["skip", "sorry"])
            own = Candidate(proof="by\n  simp")
            return await verify_hole(problem, Candidate(proof=proof), (a, b), 2, own, pool, config)

    verdict = asyncio.run(go())
    assert verdict.kind is VerdictKind.SORRY
