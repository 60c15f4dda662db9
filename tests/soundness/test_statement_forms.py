"""Suite statements whose own text holds `:=` or brackets splice exactly once (issue 11's bug:
`theorem t : let m := 2; m = 2 := by` was cut at `let m :=`, the spliced file repeated
`:= 2; m = 2`, and a correct proof became lean_error).

The path a run takes: suite record -> load -> model answer -> extract -> splice -> verify, against
the REPL double (which accepts well-formed text; Lean's judgement is not what is tested here).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from harness.checker.pool import ReplPool
from harness.extract import extract_proof
from harness.soundness.splice import STANDARD_HEADER, splice
from harness.soundness.verify import verify
from harness.suites.loaders import load_jsonl
from harness.types import VerdictKind
from tests.checker.helpers import double_config

STATEMENTS = {
    "let": "theorem t : let m := 2; m = 2 :=",
    "named_argument": "theorem t (f : ℕ → ℕ) (h : ∀ n, f n = n) : f (n := 5) = 5 :=",
    "structure_instance": "theorem t (p : ℕ × ℕ) (h : p = { fst := 1, snd := 2 }) : p.1 = 1 :=",
    "fun": "theorem t : (fun x : ℕ => x + 1) 1 = 2 :=",
    "set_builder": "theorem t : {x : ℕ | x < 2} = {0, 1} :=",
    "show_from": "theorem t : (show 1 = 1 from rfl) = rfl :=",
    "have": "theorem t : (have h : 1 = 1 := rfl; h) = rfl :=",
}


@pytest.mark.parametrize("form", list(STATEMENTS))
def test_the_suite_statement_is_checked_once_followed_by_the_proof(tmp_path, form):
    statement = STATEMENTS[form]
    suite = tmp_path / "suite.jsonl"
    record = {"name": "t", "header": STANDARD_HEADER, "formal_statement": statement + " by\n"}
    suite.write_text(json.dumps(record) + "\n", encoding="utf-8")
    (problem,) = load_jsonl(suite)
    assert problem.statement.strip() == statement
    answer = f"Here it is.\n```lean4\n{STANDARD_HEADER}{statement} by\n  simp\n```\n"
    candidate = extract_proof(answer, problem.decl_name)
    assert candidate.proof == "by\n  simp"
    spliced = splice(problem, candidate)
    assert spliced.file.count(statement) == 1
    assert spliced.file.endswith(statement + " by\n  simp\n")

    config, _ = double_config(tmp_path, {})

    async def check():
        async with ReplPool(config) as pool:
            return await verify(problem, candidate, pool, config)

    assert asyncio.run(check()).kind is VerdictKind.PROVED
