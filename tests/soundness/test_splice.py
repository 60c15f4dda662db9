"""Building the checked file: statement verbatim, preamble handling, answer holes, positions."""

from __future__ import annotations

from harness.soundness.splice import (
    declaration_name,
    filter_preamble,
    reference_statement,
    splice,
    split_lean_file,
)
from harness.types import Candidate, LeanMessage, Problem

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
STATEMENT = "theorem p (x : ℝ) (h : 0 < x) :\n    0 < x ^ 2 :="
PROBLEM = Problem(name="p", header=HEADER, statement=STATEMENT, theorem_name="p")


def test_file_is_header_aux_statement_verbatim_proof():
    cand = Candidate(proof="by\n  positivity", aux="lemma helper : True := trivial\n")
    s = splice(PROBLEM, cand)
    assert s.file == HEADER + "lemma helper : True := trivial\n" + STATEMENT + " by\n  positivity\n"
    assert s.body == s.file[len(HEADER) :]
    assert s.model_text == s.body  # no context


def test_positions_map_to_the_users_file():
    s = splice(PROBLEM, Candidate(proof="by\n  positivity", aux="lemma helper : True := trivial\n"))
    lines = s.file.split("\n")
    # Lean reports positions relative to the model's command
    (m,) = s.map_messages("model", (LeanMessage("error", 4, 2, "boom"),))
    assert lines[m.line - 1][m.column :] == "positivity"
    assert s.part_to_file("proof", 2, 2) == (m.line, 2)
    assert lines[s.part_to_file("aux", 1, 6)[0] - 1] == "lemma helper : True := trivial"
    line, col = s.part_to_file("proof", 1, 0)
    assert lines[line - 1][col:] == "by"


def test_preamble_lines_the_header_provides_are_dropped():
    pre = (
        "import Mathlib\nimport Aesop\nimport Mathlib.Tactic.Ring\nimport Batteries.Data.List.Basic\n"
        "set_option maxHeartbeats 0\nset_option maxRecDepth 100000\nopen BigOperators Real Nat\n"
        "open Real Set\nset_option linter.unusedVariables false\nopen scoped BigOperators\n"
    )
    split = filter_preamble(pre, HEADER)
    assert split.refused_import is None
    assert split.kept == "open Real Set\nset_option linter.unusedVariables false\n"
    assert len(split.dropped) == 8


def test_other_imports_are_refused():
    for module in ("Lean", "Bench.Solutions", "Mathlib"):
        split = filter_preamble(f"import {module}\n", "import Mathlib.Data.Real.Basic\n")
        assert split.refused_import is not None and split.refused_import.module == module
    header = "import Mathlib.Data.Real.Basic\n"
    assert filter_preamble(header, header).refused_import is None
    assert filter_preamble("import Init.Data.List\n", "").refused_import is None  # Init: always


def test_models_own_declaration_of_the_theorem_is_dropped():
    aux = (
        "lemma helper : True := trivial\n\n"
        "/-- a sketch -/\ntheorem p (x : ℝ) (h : 0 < x) : 0 < x ^ 2 := by\n  sorry\n\n"
        "lemma helper2 : True := trivial\n"
    )
    s = splice(PROBLEM, Candidate(proof="by positivity", aux=aux))
    assert "sorry" not in s.model_text and "a sketch" not in s.model_text
    assert "helper :" in s.aux and "helper2" in s.aux
    assert s.dropped and "theorem p" in s.dropped[0]


def test_open_in_lemmas_stay_whole():
    aux = "open Finset in\ntheorem p : True := trivial\n\nopen Real in\nlemma q : True := trivial\n"
    s = splice(PROBLEM, Candidate(proof="by positivity", aux=aux))
    assert s.aux == "open Real in\nlemma q : True := trivial\n"


def test_answer_hole_only_the_value_is_taken():
    problem = Problem(
        name="h",
        header=HEADER,
        context="/-- the answer -/\nabbrev h_solution : ℕ := sorry\n",
        statement="theorem h : h_solution = 4 :=",
        answer_hole=True,
        theorem_name="h",
    )
    # the model also changes the abbrev's type: ignored, only its value is used
    aux = "abbrev h_solution : ℤ := 2 + 2\n\nlemma k : True := trivial\n"
    s = splice(problem, Candidate(proof="by rfl", aux=aux))
    assert s.context == "/-- the answer -/\nabbrev h_solution : ℕ := 2 + 2\n"
    assert s.fill == "2 + 2" and "abbrev" not in s.model_text
    kept = splice(problem, Candidate(proof="by rfl", aux=aux), answer_holes="skip")
    assert kept.context == problem.context
    filled = splice(problem, Candidate(proof="by rfl", answer_fill="4"))
    assert "abbrev h_solution : ℕ := 4\n" in filled.context


def test_reference_statement_renames_only_the_declaration():
    assert declaration_name(STATEMENT)[0] == "p"
    ref = reference_statement(STATEMENT)
    assert ref == "theorem __harness_ref (x : ℝ) (h : 0 < x) :\n    0 < x ^ 2 := sorry"
    doc = reference_statement("/-- p is about p -/\ntheorem p : p_def = 1 :=")
    assert doc == "/-- p is about p -/\ntheorem __harness_ref : p_def = 1 := sorry"


def test_reference_statement_drops_attributes_but_keeps_prefixes_and_positions():
    # a `@[simp]` reference (proved by sorry) would be a lemma the model's `simp` could use
    ref = reference_statement("open Real in\n@[simp, aesop safe] theorem p : π > 0 := by")
    assert ref == "open Real in\n" + " " * 19 + " theorem __harness_ref : π > 0 := sorry"


def test_split_lean_file():
    text = (
        HEADER
        + "lemma helper (n : ℕ) : n + 0 = n := by simp\n\n"
        + "/-- doc -/\ntheorem a (n : ℕ) : n + 0 = n := by\n  exact helper n\n\n"
        + "open Real in\ntheorem b : (1 : ℝ) + 1 = 2 := by norm_num\n"
    )
    header, theorems = split_lean_file(text)
    assert header == HEADER
    assert [t.problem.name for t in theorems] == ["a", "b"]
    a, b = theorems
    assert a.problem.statement == "theorem a (n : ℕ) : n + 0 = n :="
    assert a.candidate.proof == "by\n  exact helper n"
    assert a.candidate.aux.endswith("/-- doc -/\n") and "lemma helper" in a.candidate.aux
    assert b.candidate.aux.endswith("open Real in\n") and "theorem a" in b.candidate.aux
