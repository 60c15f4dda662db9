"""Checking proofs outside a run: the items to check and how verdicts read.
(The commands over it, against the REPL double: tests/soundness/test_check_cli.py.)"""

from __future__ import annotations

import json

import pytest

from harness.check import (
    CheckItem,
    candidate_from_answer,
    explain,
    file_items,
    proved_items,
    suite_items,
    verdict_json,
)
from harness.config import load_config
from harness.errors import HarnessError
from harness.record import RunRecord
from harness.types import (
    Attempt,
    Candidate,
    LeanMessage,
    NoProof,
    Problem,
    Suite,
    SuiteSource,
    Verdict,
    VerdictKind,
)

PROBLEM = Problem(
    name="t#2", header="", statement="theorem t (n : Nat) : n + 0 = n :=", theorem_name="t"
)
SUITE = Suite(SuiteSource("mine"), (PROBLEM,))


def test_an_answer_may_be_a_theorem_or_only_its_proof():
    whole = candidate_from_answer("theorem t (n : Nat) : n + 0 = n := by\n  simp", PROBLEM)
    assert isinstance(whole, Candidate) and whole.proof.strip() == "by\n  simp"
    bare = candidate_from_answer(":= by\n  simp", PROBLEM)
    assert isinstance(bare, Candidate) and "simp" in bare.proof
    assert isinstance(candidate_from_answer("", PROBLEM), NoProof)


def test_a_file_gives_each_theorem_with_the_text_before_it(tmp_path):
    path = tmp_path / "a.lean"
    path.write_text(
        "lemma h : True := trivial\n\ntheorem a : True := h\n\ntheorem b : True := by\n  trivial\n"
    )
    items = file_items(str(path))
    assert [(i.name, i.problem.statement) for i in items] == [
        ("a", "theorem a : True :="),
        ("b", "theorem b : True :="),
    ]
    assert "lemma h" in items[1].candidate.aux and "theorem a" in items[1].candidate.aux
    path.write_text("lemma h : True := trivial\n")
    with pytest.raises(HarnessError, match="no `theorem"):
        file_items(str(path))


def test_answers_are_matched_to_the_suite_by_name_or_declaration(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"name": "smoke_add_zero", "proof": "by\n  simp"}) + "\n\n")
    ((name, problem, candidate, refused),) = suite_items(str(path), "smoke", load_config(), None)
    assert name == problem.name == "smoke_add_zero" and candidate.proof.strip() == "by\n  simp"
    assert refused is None  # a suite's header is trusted
    path.write_text(json.dumps({"name": "smoke_add_zero", "proof": 3}) + "\n")
    with pytest.raises(HarnessError, match="`proof` must be a string"):
        suite_items(str(path), "smoke", load_config(), None)
    path.write_text("\n")
    with pytest.raises(HarnessError, match="no proofs"):
        suite_items(str(path), "smoke", load_config(), None)


def test_a_run_s_proofs_come_from_the_answer_or_else_the_checked_file(tmp_path):
    rec = RunRecord(tmp_path)
    with rec:
        rec.append(Attempt("t#2", 0, 0, "proved", answer=":= by\n  simp"))
        rec.append(Attempt("t#2", 1, 0, "lean_error", answer=":= by\n  rfl"))
        rec.append(
            Attempt("t#2", 2, 1, "proved", proof="theorem t (n : Nat) : n + 0 = n := by omega")
        )
    items = proved_items(rec, SUITE)
    assert [key for key, _ in items] == [("t#2", 0, 0), ("t#2", 2, 1)]
    assert all(isinstance(i, CheckItem) and i.problem is PROBLEM for _, i in items)
    assert "simp" in items[0][1].candidate.proof and "omega" in items[1][1].candidate.proof
    with rec:
        rec.append(Attempt("other", 0, 0, "proved", answer="by simp"))
    with pytest.raises(HarnessError, match="'other' is not in suite mine"):
        proved_items(rec, SUITE)


def test_a_verdict_is_explained_by_its_rule_its_first_error_or_its_detail():
    rejected = Verdict(VerdictKind.REJECTED, rule="axiom", where="3:0")
    assert explain(rejected) == "axiom at 3:0"
    assert explain(Verdict(VerdictKind.SORRY, rule="sorry")) == "sorry"
    messages = (
        LeanMessage("warning", 1, 0, "unused"),
        LeanMessage("error", 4, 2, "unknown tactic\nmore"),
    )
    assert explain(Verdict(VerdictKind.LEAN_ERROR, messages=messages)) == "4:2: unknown tactic"
    assert explain(Verdict(VerdictKind.TIMEOUT, detail="120 s")) == "120 s"
    assert explain(Verdict(VerdictKind.SORRY, goals=("⊢ False\nmore",))) == "goal: ⊢ False"
    assert explain(Verdict(VerdictKind.PROVED)) == ""


def test_a_verdict_as_a_json_line():
    v = Verdict(VerdictKind.PROVED, seconds=1.23456, native=True)
    assert verdict_json("t", v) == {
        "name": "t",
        "verdict": "proved",
        "rule": None,
        "where": None,
        "messages": [],
        "time_s": 1.235,
        "native": True,
        "detail": None,
    }
