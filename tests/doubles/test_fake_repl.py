"""The REPL double (tests/doubles/fake_repl.py) as a process: its goals for `sorry` and its tactic
mode, against the real REPL's recorded replies (../shared/fixtures/lean-repl)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.lean_text import parse_goal
from tests.conftest import shared_path
from tests.doubles.fake_repl import read_reply_texts, read_requests

FAKE_REPL = Path(__file__).resolve().parent / "fake_repl.py"


def run_double(
    requests: list[Any], tmp_path: Path, script: dict[str, Any] | None = None, log: bool = False
) -> list[dict[str, Any]]:
    """Start the double, send the requests (blank lines between them), read its replies."""
    argv = [sys.executable, str(FAKE_REPL)]
    if script is not None:
        path = tmp_path / "script.json"
        path.write_text(json.dumps(script, ensure_ascii=False), encoding="utf-8")
        argv += ["--script", str(path)]
    if log:
        argv += ["--log", str(tmp_path / "log.jsonl")]
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n\n" for r in requests)
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(reply) for reply in read_reply_texts(done.stdout)]


def recorded(name: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """A fixture's requests and the real REPL's replies."""
    source = shared_path("fixtures", "lean-repl", f"{name}.in")
    expected = source.with_name(f"{name}.expected.out")
    requests = [json.loads(r) for r in read_requests(source.read_text(encoding="utf-8"))]
    replies = [json.loads(r) for r in read_reply_texts(expected.read_text(encoding="utf-8"))]
    return requests, replies


def shape(reply: dict[str, Any]) -> dict[str, Any]:
    """What must agree with the real REPL: the keys, each sorry's keys and proof state, the
    reply's proof state."""
    return {
        "keys": sorted(reply),
        "sorries": [(sorted(s), s["proofState"]) for s in reply.get("sorries", [])],
        "proofState": reply.get("proofState"),
    }


# (fixture, the goals of its sorries the double can know (by reply), what the fixture shows)
FIXTURES = [
    ("have_by_sorry", [["x : Int\n⊢ x = 1"], ["x : Int\n⊢ x = x"], ["x : Int\n⊢ x = 1"]],
     "`have h : T := by sorry`: hypotheses ⊢ T; a tactic sorry: ⊢ the theorem's type"),
    ("tactic_sorry", [["⊢ Nat"]], "no binders: only the `⊢` line"),
    ("readme", [["x : Unit\n⊢ Nat"], [], []], "proof states count on across commands and tactics"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "goals", "lean"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_replies_have_the_recorded_shape(tmp_path, name, goals, lean):
    requests, want = recorded(name)
    got = run_double(requests, tmp_path)
    assert [shape(r) for r in got] == [shape(r) for r in want], lean
    assert [[s["goal"] for s in r.get("sorries", [])] for r in got] == goals, lean
    for reply, real in zip(got, want, strict=True):
        for mine, theirs in zip(reply.get("sorries", []), real.get("sorries", []), strict=True):
            assert (mine.get("pos"), mine.get("endPos")) == (
                theirs.get("pos"),
                theirs.get("endPos"),
            )
            if "pos" in mine:
                assert mine["endPos"]["column"] == mine["pos"]["column"] + len("sorry")


def test_a_have_tactic_leaves_the_goal_open_as_recorded(tmp_path):
    requests, want = recorded("have_by_sorry")
    assert run_double(requests, tmp_path)[2] == want[2]  # every field, goals included


def test_a_parse_error_in_tactic_mode_as_recorded(tmp_path):
    requests, want = recorded("unknown_tactic")
    got = run_double(requests, tmp_path, {"rules": [{"match": "exat", "error": "unknown tactic"}]})
    assert got[1] == want[1]


PROOF = """theorem t {α : Type} [Fintype α] [DecidableEq α] (s : Finset α) (x y : ℕ)
    (h : x = y) : x + 0 = y := by
  have h₁ : y = x := by sorry
  have h₂ : y = x := by
    have h₃ : x = x := by sorry
    sorry
  sorry"""
HYPS = "α : Type\ninst✝¹ : Fintype α\ninst✝ : DecidableEq α\ns : Finset α\nx y : ℕ\nh : x = y\n"

# (command, the goal of each of its sorries, the rule of the double shown)
DEFAULT_GOALS = [
    (PROOF, [HYPS + "⊢ y = x", HYPS + "h₁ : y = x\n⊢ x = x", HYPS + "h₁ : y = x\nh₃ : x = x\n⊢ y = x",
             HYPS + "h₁ h₂ : y = x\n⊢ x + 0 = y"],
     "binders (anonymous instances inst✝¹ inst✝), then the haves whose proof is over and not "
     "inside another finished proof; the innermost open have gives the target; same types share "
     "a line"),
    ("theorem u : 1 + 1 = 2 := sorry", ["⊢ 1 + 1 = 2"], "a term-mode sorry: the theorem's type"),
    ("example : True := by\n  have : 1 = 1 := by\n    sorry\n  sorry", ["⊢ 1 = 1", "this : 1 = 1\n⊢ True"],
     "`have : T` is `this`; a sorry on the line under `:= by` closes the have"),
    ("theorem v : ∀ x : ℕ, x = x := by sorry", ["⊢ ∀ x : ℕ, x = x"],
     "the type starts at the first `:` at depth 0 after the name"),
    ("theorem w (a b : ℝ)\n    (h : a < b) :\n    a ≤ b := by\n  sorry", ["a b : ℝ\nh : a < b\n⊢ a ≤ b"],
     "statements over several lines, squashed"),
    ("#eval (sorry : Nat)", ["⊢ False"], "no declaration: `⊢ False`"),
]  # fmt: skip


def test_default_goals_of_sorries(tmp_path):
    replies = run_double([{"cmd": cmd} for cmd, _, _ in DEFAULT_GOALS], tmp_path)
    numbers = []
    for reply, (_, goals, rule) in zip(replies, DEFAULT_GOALS, strict=True):
        assert [s["goal"] for s in reply["sorries"]] == goals, rule
        numbers += [s["proofState"] for s in reply["sorries"]]
        for goal in goals:
            parse_goal(goal)  # what the double reports is what the harness can read
    assert numbers == list(range(len(numbers)))  # one count per process, across commands


def test_sorry_goals_dictate_goals_by_the_last_text_before_the_sorry(tmp_path):
    script = {
        "sorry_goals": [
            {"after": "have h₁", "goal": "x✝¹ x✝ : ℕ\n⊢ x✝¹ + x✝ = x✝ + x✝¹"},
            {"after": "have h₂", "goal": "n : ℕ\ninst✝ : NeZero n\n⊢ ↑n ^ 2 = ↑n * ↑n"},
            {"after": "never in the text", "goal": "⊢ unused"},
        ]
    }
    cmd = (
        "theorem t (n : ℕ) : True := by\n  have h₁ : ∀ a b : ℕ, a + b = b + a := by sorry\n"
        "  have h₂ : (n : ℝ) ^ 2 = n * n := by sorry\n  sorry"
    )
    (reply,) = run_double([{"cmd": cmd}], tmp_path, script)
    assert [s["goal"] for s in reply["sorries"]] == [
        "x✝¹ x✝ : ℕ\n⊢ x✝¹ + x✝ = x✝ + x✝¹",
        "n : ℕ\ninst✝ : NeZero n\n⊢ ↑n ^ 2 = ↑n * ↑n",
        "n : ℕ\ninst✝ : NeZero n\n⊢ ↑n ^ 2 = ↑n * ↑n",  # `have h₂` is still the last match
    ]


def test_tactic_mode(tmp_path):
    script = {
        "sorry_goals": [{"after": "theorem s", "goal": "case succ\nn✝ : Nat\n⊢ n✝ + 1 = 0"}],
        "rules": [
            {"match": "exact?", "tactic_error": "`exact?` could not close the goal."},
            {"match": "induction", "goals": ["case zero\n⊢ 0 = 0", "case succ\n⊢ n + 1 = 0"]},
            {"match": "exact h", "info": "Try this: exact h"},
        ],
    }
    requests = [
        {"cmd": "theorem s : 1 = 0 := by sorry"},  # proof state 0
        {"tactic": "have: true := sorry", "proofState": 0},  # sorry 1, reply 2
        {"tactic": "sorry", "proofState": 0},  # sorry 3, reply 4
        {"tactic": "exact?", "proofState": 0},
        {"tactic": "induction n", "proofState": 0},  # reply 5
        {"tactic": "exact h", "proofState": 0},  # reply 6
        {"tactic": "rfl", "proofState": 99},
    ]
    _, have, sorry, exact, induction, info, unknown = run_double(requests, tmp_path, script, True)
    # app_type_mismatch2: the have's goal has no case tag; the open goal keeps it
    assert have == {
        "sorries": [{"proofState": 1, "goal": "n✝ : Nat\n⊢ true"}],
        "proofStatus": "Incomplete: open goals remain",
        "proofState": 2,
        "goals": ["case succ\nn✝ : Nat\nthis : true\n⊢ n✝ + 1 = 0"],
    }
    assert sorry == {
        "sorries": [{"proofState": 3, "goal": "n✝ : Nat\n⊢ n✝ + 1 = 0"}],
        "proofStatus": "Incomplete: contains sorry",
        "proofState": 4,
        "goals": [],
    }
    assert exact == {"message": "Lean error:\n`exact?` could not close the goal."}
    assert induction["goals"] == ["case zero\n⊢ 0 = 0", "case succ\n⊢ n + 1 = 0"]
    assert (induction["proofStatus"], induction["proofState"]) == (
        "Incomplete: open goals remain",
        5,
    )
    assert info["proofStatus"] == "Completed" and info["goals"] == []
    assert info["messages"][0]["pos"] == {"line": 0, "column": 0}
    assert unknown == {"message": "Unknown proof state."}
    logged = [
        json.loads(line)["request"]
        for line in (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["event"] == "request"
    ]
    assert logged == requests
