"""verify() end to end: the real REPL pool driving the REPL double (tests/doubles/fake_repl.py)."""

from __future__ import annotations

import asyncio
import re

import pytest

from harness.checker import open_checker
from harness.config import load_config
from harness.soundness.verify import verify
from harness.types import Candidate, NoProof, Problem, VerdictKind
from tests.checker.helpers import double_config, read_log

pytestmark = pytest.mark.timeout(60)

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n"
STATEMENT = "theorem amc_demo (x : ℝ) (h₀ : 0 < x) :\n    x < x ^ 2 + 1 :="
PROBLEM = Problem(name="amc_demo", header=HEADER, statement=STATEMENT, theorem_name="amc_demo")
HONEST = Candidate(proof="by\n  nlinarith [sq_nonneg (x - 1)]")


def run_verify(config, items):
    async def go():
        async with open_checker(config) as checker:
            return [await verify(p, c, checker, config) for p, c in items]

    return asyncio.run(go())


def commands_sent(log) -> list[str]:
    return [e["request"].get("cmd", "") for e in read_log(log) if e["event"] == "request"]


def with_soundness(config, **soundness):
    from harness.config import config_to_dict

    data = config_to_dict(config)
    data["soundness"].update(soundness)
    return load_config(None, data)


def test_honest_answer_is_proved_and_job_has_reference_first(tmp_path):
    config, log = double_config(tmp_path)
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert verdict.kind == VerdictKind.PROVED, verdict
    assert not verdict.native
    sent = commands_sent(log)
    ref = next(i for i, c in enumerate(sent) if "__harness_ref" in c and "sorry" in c)
    body = next(i for i, c in enumerate(sent) if STATEMENT in c)
    axioms = next(i for i, c in enumerate(sent) if c == "#print axioms amc_demo")
    fidelity = next(i for i, c in enumerate(sent) if c.endswith("exact @amc_demo"))
    assert ref < body < axioms and body < fidelity  # reference before any model text
    assert sent[ref].startswith(
        "theorem __harness_ref (x : ℝ) (h₀ : 0 < x) :\n    x < x ^ 2 + 1 := sorry"
    )
    assert verdict.checked_file.startswith(HEADER)
    assert STATEMENT + " by\n  nlinarith" in verdict.checked_file


def test_changed_statement_is_checked_against_the_suites(tmp_path):
    """The model restates a weaker theorem; Lean sees the suite's statement, verbatim."""
    config, log = double_config(tmp_path)
    answer = (
        "```lean4\nimport Mathlib\nimport Aesop\n\ntheorem amc_demo (x : ℝ) (h₀ : 1 < x) :\n"
        "    x < x ^ 2 := by\n  nlinarith\n```"
    )
    from harness.extract import extract_proof

    candidate = extract_proof(answer, "amc_demo")
    assert isinstance(candidate, Candidate)
    run_verify(config, [(PROBLEM, candidate)])
    body = [c for c in commands_sent(log) if "nlinarith" in c]
    assert len(body) == 1
    assert STATEMENT + " by\n  nlinarith" in body[0]  # the original statement, byte for byte
    assert "(h₀ : 1 < x)" not in body[0] and "x < x ^ 2 :=" not in body[0]


def test_screen_refusal_never_reaches_lean(tmp_path):
    config, log = double_config(tmp_path)
    cheat = Candidate(proof="by\n  norm_num", aux="axiom cheat : False\n")
    sorry = Candidate(proof="by\n  -- sorry in a comment is fine\n  sorry")
    v1, v2 = run_verify(config, [(PROBLEM, cheat), (PROBLEM, sorry)])
    assert (v1.kind, v1.rule) == (VerdictKind.REJECTED, "axiom")
    assert v1.where == "7:0 axiom"  # line:col in the checked file, then the offending text
    assert verdict_line(v1.checked_file, 7) == "axiom cheat : False"
    assert (v2.kind, v2.rule) == (VerdictKind.SORRY, "sorry")
    line = int(v2.where.split(":")[0])
    assert verdict_line(v2.checked_file, line).strip() == "sorry"
    assert not any("cheat" in c or "sorry in a comment" in c for c in commands_sent(log))


def verdict_line(text: str, line: int) -> str:
    return text.split("\n")[line - 1]


def test_lean_error_positions_are_in_the_users_file(tmp_path):
    script = {"rules": [{"match": "nlinarith", "error": "linarith failed", "at": "nlinarith"}]}
    config, _ = double_config(tmp_path, script)
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert verdict.kind == VerdictKind.LEAN_ERROR
    (error,) = [m for m in verdict.messages if m.severity == "error"]
    assert verdict_line(verdict.checked_file, error.line)[error.column :].startswith("nlinarith")


def audit_reply(*texts: str) -> dict:
    """A double rule answering `#print axioms amc_demo` with exactly these info messages."""
    messages = [
        {"severity": "info", "pos": {"line": 1, "column": 0}, "endPos": None, "data": t}
        for t in texts
    ]
    return {"rules": [{"match": "#print axioms amc_demo", "reply": {"messages": messages}}]}


def test_sorry_from_lean_and_from_the_axiom_audit(tmp_path):
    # a sorry Lean did not flag in the command (e.g. through a helper) still shows in the audit
    config, _ = double_config(tmp_path, {"axioms": ["propext", "sorryAx"]})
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.SORRY, "sorry_axiom")


def test_two_audit_messages_are_a_surprise(tmp_path):
    ok = "'amc_demo' depends on axioms: [propext]"
    config, _ = double_config(tmp_path, audit_reply(ok, "spoofed: all fine"))
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "audit_output")


@pytest.mark.parametrize(
    "info, rule",
    [
        ("'amc_demo' depends on axioms: [propext, cheat]", "axioms"),
        ("'amc_demo' depends on axioms: [propext, Lean.ofReduceBool]", "native_decide"),
        ("'other' depends on axioms: [propext]", "audit_output"),
        ("something else entirely", "audit_output"),
        (
            "'amc_demo' depends on axioms: [propext]\n'amc_demo' depends on axioms: [cheat]",
            "audit_output",
        ),
    ],
)
def test_axiom_audit_surprises_are_rejected(tmp_path, info, rule):
    config, _ = double_config(tmp_path, audit_reply(info))
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, rule)


def test_native_allowed_marks_the_verdict(tmp_path):
    info = "'amc_demo' depends on axioms: [propext,\n Classical.choice,\n Lean.ofReduceBool]"
    config, _ = double_config(tmp_path, audit_reply(info))
    config = with_soundness(config, allow_native_decide=True)
    native = Candidate(proof="by\n  native_decide")
    (verdict,) = run_verify(config, [(PROBLEM, native)])
    assert verdict.kind == VerdictKind.PROVED and verdict.native


def test_statement_fidelity_failure_is_rejected(tmp_path):
    script = {"rules": [{"match": "type_of%", "error": "type mismatch\n  rfl\nhas type ..."}]}
    config, _ = double_config(tmp_path, script)
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "statement_changed")


def test_missing_name_is_rejected(tmp_path):
    script = {"rules": [{"match": "#print axioms", "error": "unknown constant 'amc_demo'"}]}
    config, _ = double_config(tmp_path, script)
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "name_missing")


def test_broken_suite_statement_is_reported_distinctly(tmp_path):
    script = {
        "rules": [{"match": "__harness_ref", "error": "unknown identifier 'foo'", "at": "x ^ 2"}]
    }
    config, _ = double_config(tmp_path, script)
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.LEAN_ERROR, "suite_statement")
    assert "suite's statement" in verdict.detail
    (error,) = verdict.messages  # placed on the statement's line in the user's file
    assert "x ^ 2" in verdict_line(verdict.checked_file, error.line)


def test_timeout_and_crash_are_infrastructure(tmp_path):
    config, _ = double_config(
        tmp_path, {"rules": [{"match": "nlinarith", "hang": True}]}, timeout_s=1
    )
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert verdict.kind == VerdictKind.TIMEOUT
    config, _ = double_config(tmp_path, {"rules": [{"match": "nlinarith", "crash": True}]})
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert verdict.kind == VerdictKind.CHECKER_ERROR and verdict.detail


def test_no_proof_is_passed_through(tmp_path):
    config, log = double_config(tmp_path)
    (verdict,) = run_verify(config, [(PROBLEM, NoProof("no Lean code block"))])
    assert verdict.kind == VerdictKind.NO_PROOF
    assert not read_log(log)  # nothing started


HOLE_PROBLEM = Problem(
    name="hole_demo",
    header=HEADER,
    context="abbrev hole_demo_solution : ℕ := sorry\n",
    answer_hole=True,
    statement="theorem hole_demo : hole_demo_solution = 4 :=",
    theorem_name="hole_demo",
)


def test_answer_hole_filled_from_the_models_abbrev(tmp_path):
    config, log = double_config(tmp_path)
    problem = HOLE_PROBLEM
    candidate = Candidate(
        proof="by\n  rfl",
        aux="abbrev hole_demo_solution : ℕ := 2 + 2\n\n",
    )
    (verdict,) = run_verify(config, [(problem, candidate)])
    assert verdict.kind == VerdictKind.PROVED, verdict
    sent = commands_sent(log)
    ref = next(c for c in sent if "__harness_ref" in c)
    assert ref.startswith("abbrev hole_demo_solution : ℕ := 2 + 2\n")  # the suite's abbrev, filled
    body = next(c for c in sent if "theorem hole_demo" in c)
    assert "abbrev" not in body  # the model's own abbrev is not sent twice


def test_api_key_never_reaches_the_lean_process(tmp_path, monkeypatch):
    monkeypatch.setenv("AIMLAPI_KEY", "sk-test-secret-1234")
    config, log = double_config(tmp_path)
    assert config.prover.api_key_env == "AIMLAPI_KEY" and config.api_key() == "sk-test-secret-1234"
    (verdict,) = run_verify(config, [(PROBLEM, HONEST)])
    assert verdict.kind == VerdictKind.PROVED
    starts = [e for e in read_log(log) if e["event"] == "start"]
    assert starts
    for start in starts:
        assert "AIMLAPI_KEY" not in start["environ"]
        assert not re.search("sk-test-secret", str(start["environ"]))


def test_refused_import_is_reported_in_the_answers_coordinates(tmp_path):
    config, log = double_config(tmp_path)
    cand = Candidate(proof="by\n  positivity", preamble="import Mathlib\nimport Lean\n")
    (verdict,) = run_verify(config, [(PROBLEM, cand)])
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "import")
    assert verdict.where == "answer preamble 2:0 import Lean"
    assert not read_log(log)


def test_a_bad_answer_hole_value_is_the_models_error(tmp_path):
    script = {"rules": [{"match": "__harness_ref", "error": "type mismatch", "at": '"four"'}]}
    config, _ = double_config(tmp_path, script)
    problem = HOLE_PROBLEM
    bad = Candidate(proof="by\n  rfl", answer_fill='("four".length)')
    (verdict,) = run_verify(config, [(problem, bad)])
    assert verdict.kind == VerdictKind.LEAN_ERROR and verdict.rule is None
    (error,) = [m for m in verdict.messages if m.severity == "error"]
    assert error.line == 7  # the context's line in the checked file, after the 6-line header
