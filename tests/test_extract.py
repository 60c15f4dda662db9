"""Extraction: synthetic edge cases, hand-checked real answers, and every corpus answer."""

from __future__ import annotations

import functools
import glob
import gzip
import json
from pathlib import Path

import pytest

from harness.extract import extract_proof
from harness.types import Candidate, NoProof
from tests.conftest import shared_path

ANSWERS = Path(__file__).parent / "fixtures" / "answers"


def candidate(text: str, name: str | None = None) -> Candidate:
    found = extract_proof(text, name)
    assert isinstance(found, Candidate), found
    return found


def no_proof(text: str, name: str | None = None) -> str:
    found = extract_proof(text, name)
    assert isinstance(found, NoProof), found
    return found.reason


# ---------------------------------------------------------------------------------------------
# Synthetic answers (our own, one behaviour each)


def test_empty_answers():
    assert no_proof("") == "answer is empty"
    assert no_proof("  \n\t\n") == "answer is empty"


def test_prose_without_code():
    reason = no_proof("I could not find a proof of this theorem. The theorem is hard.")
    assert reason == "no Lean code block in the answer"


def test_cot_answer_takes_final_block_not_the_sorry_sketch():
    found = candidate((ANSWERS / "dsv2_cot.md").read_text(), "amgm_two")
    assert found.proof == (
        "by\n  have h₁ : 0 ≤ (a - b) ^ 2 := by\n"
        "    -- squares are nonnegative; note `:=` in a comment\n"
        "    exact sq_nonneg (a - b)\n"
        "  nlinarith [h₁, sq_nonneg (a + b)]"
    )
    assert "sorry" not in found.proof
    assert found.aux == "" and found.preamble == ""
    assert found.note == "last code block of 2 blocks"
    assert found.statement == "theorem amgm_two (a b : ℝ) : 2 * a * b ≤ a ^ 2 + b ^ 2 :="


def test_kimina_answer_ignores_tactics_snippets_in_the_thinking():
    found = candidate((ANSWERS / "kimina_think.md").read_text(), "mathd_algebra_440")
    assert found.proof == "by\n  field_simp at h₀\n  linarith"
    assert found.preamble == (
        "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
        "open BigOperators Real Nat Topology Rat"
    )
    assert found.aux == ""


def test_truncated_answer_never_falls_back_to_the_sketch():
    reason = no_proof((ANSWERS / "truncated_cot.md").read_text(), "t")
    assert "cut off" in reason


def test_unclosed_final_block_is_read_to_the_end():
    text = "Plan.\n```lean4\ntheorem t (n : ℕ) : n + 0 = n := by\n  simp\n  omega"
    found = candidate(text, "t")
    assert found.proof == "by\n  simp\n  omega"
    assert "never closed" in found.note


def test_statement_cut_off_has_no_proof():
    assert "has no `:=`" in no_proof("```lean4\ntheorem t (n : ℕ) (h : n > 0)\n  : n", "t")


def test_whole_file_with_aux_lemmas():
    text = (
        "Here it is.\n\n```lean4\nimport Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\n"
        "open Real\n\n-- a helper\n@[simp] lemma helper (x : ℝ) : x + 0 = x := by simp\n\n"
        "open Finset in\nprivate theorem helper2 : ∑ i in range 3, i = 3 := by decide\n\n"
        "/-- The main theorem. -/\ntheorem main_thm (x : ℝ) : x + 0 = x := by\n  exact helper x\n```"
    )
    found = candidate(text, "main_thm")
    assert found.proof == "by\n  exact helper x"
    assert found.preamble == (
        "import Mathlib\nimport Aesop\nset_option maxHeartbeats 400000\nopen Real\n\n-- a helper"
    )
    assert found.aux == (
        "@[simp] lemma helper (x : ℝ) : x + 0 = x := by simp\n\n"
        "open Finset in\nprivate theorem helper2 : ∑ i in range 3, i = 3 := by decide"
    )


def test_only_the_theorem_without_imports():
    found = candidate("```lean4\ntheorem t : 2 + 2 = 4 := by norm_num\n```", "t")
    assert (found.proof, found.aux, found.preamble) == ("by norm_num", "", "")


def test_term_mode_proof():
    found = candidate("```lean\ntheorem t : 2 + 2 = 4 :=\n  rfl\n```", "t")
    assert found.proof == "rfl"


@pytest.mark.parametrize(
    ("block", "proof"),
    [
        ("nlinarith [sq_nonneg (a - b)]", "by\n  nlinarith [sq_nonneg (a - b)]"),
        ("by\n  simp\n  ring", "by\n  simp\n  ring"),
        ("  intro x\n  simp", "by\n  intro x\n  simp"),
        (":= by\n  simp", "by\n  simp"),
    ],
)
def test_block_with_only_the_proof(block, proof):
    found = candidate(f"The proof:\n```lean4\n{block}\n```\n", "t")
    assert found.proof == proof
    assert "only a proof" in found.note


def test_prose_that_mentions_theorem_is_not_code():
    text = (
        "theorem t is a classic. We prove the theorem with `simp`; lemma names such as\n"
        "theorem foo := bar appear in prose only.\n\n"
        "```lean4\ntheorem t : True := by\n  trivial\n```\nThis theorem is now proved."
    )
    # The prose even starts with a command word; the code is still the fenced block.
    assert candidate(text, "t").proof == "by\n  trivial"
    prose_first = "The theorem t is a classic; theorem foo := bar.\n\n" + text.split("\n\n", 1)[1]
    assert candidate(prose_first, "t").proof == "by\n  trivial"


def test_main_theorem_by_name_and_by_default_the_last():
    text = "```lean4\ntheorem main : 1 = 1 := by\n  rfl\n\ntheorem extra : 2 = 2 := by\n  rfl\n```"
    named = candidate(text, "main")
    assert named.proof == "by\n  rfl"
    assert "ignored 1 command" in named.note
    assert candidate(text).statement == "theorem extra : 2 = 2 :="
    assert no_proof(text, "missing") == "no theorem named missing in the code"


def test_lemma_keyword_and_qualified_names():
    assert candidate("```lean4\nlemma foo : 1 = 1 := rfl\n```", "foo").proof == "rfl"
    assert candidate("```lean4\ntheorem Ns.foo : 1 = 1 := rfl\n```", "foo").proof == "rfl"
    assert candidate("```lean4\ntheorem «foo» : 1 = 1 := rfl\n```", "foo").proof == "rfl"
    assert candidate("```lean4\ntheorem _root_.foo : 1 = 1 := rfl\n```", "foo").proof == "rfl"
    assert candidate("```lean4\ntheorem Ns.«foo» : 1 = 1 := rfl\n```", "Ns.foo").proof == "rfl"
    # a name part is compared whole: `my_foo` is not `foo`
    assert "no theorem named foo" in no_proof("```lean4\ntheorem my_foo : 1 = 1 := rfl\n```", "foo")


def test_assignments_in_comments_strings_and_binders_are_skipped():
    text = (
        '```lean4\ntheorem t /- not here := -/ (s : String := ":= no") -- nor := here\n'
        "    (h : s = \":=\") (c : Char := '\"') (h' : True) : s.length = 2 := by\n  simp_all\n```"
    )
    found = candidate(text, "t")
    assert found.proof == "by\n  simp_all"
    assert found.statement.endswith("s.length = 2 :=")


@pytest.mark.parametrize(
    ("statement", "proof"),
    [
        # `let`/`have` in the statement take their own `:=`
        ("theorem t : let m := 2; m = 2 :=", "by\n  simp"),
        ("theorem t : have h : 1 = 1 := rfl; 1 = 1 :=", "by\n  simp"),
        ("theorem t :\n    let f := fun (x : ℕ) => x + 1\n    f 1 = 2 :=", "by\n  intro f\n  rfl"),
        ("theorem t : ∃ x : ℕ, let y := x; y = 0 :=", "⟨0, rfl⟩"),
        # named arguments, structure instances, auto-params: `:=` inside brackets
        ("theorem t (f : (n : ℕ) → ℕ) (h : f (n := 5) = 6) : f 5 = 6 :=", "by\n  simpa using h"),
        ("theorem t : ({ fst := 1, snd := 2 } : ℕ × ℕ).1 = 1 :=", "rfl"),
        ("theorem t (x : ℕ) (hx : x ≠ 1 := by decide) : x ≠ 1 :=", "hx"),
        # terms that take no `:=` of their own
        ("theorem t : (fun x => x + 1) 1 = 2 :=", "rfl"),
        ("theorem t : {x : ℕ | x < 2} = {0, 1} :=", "by\n  ext x\n  simp\n  omega"),
        ("theorem t (h : 1 = 1) : (show 1 = 1 from h) = h :=", "rfl"),
        ("theorem t : ∀ n : ℕ, n ∣ n * 2 :=", "fun n => ⟨2, rfl⟩"),
    ],
)
def test_statement_ends_at_its_own_assignment(statement, proof):
    found = candidate(f"```lean4\n{statement} {proof}\n```", "t")
    assert (found.statement, found.proof) == (statement, proof)


def test_absolute_value_bars_in_the_statement():
    # 52 theorem statements in ../shared/benchmarks (formalmath-lite, proofnet, putnam, ...)
    found = candidate("```lean4\ntheorem t (x : ℝ) : |x| ≥ 0 := by\n  positivity\n```", "t")
    assert found.proof == "by\n  positivity"


def test_scoped_prefix_doc_and_attributes_belong_to_the_main_theorem():
    text = (
        "```lean4\nimport Mathlib\n/-! Notes. -/\nopen Real\n\nlemma h1 : True := trivial\n\n"
        "set_option maxRecDepth 1000 in\n/-- The main theorem. -/\n@[simp] theorem t : 1 = 1 := by\n"
        "  rfl\n/-! More notes. -/\n```"
    )
    found = candidate(text, "t")
    assert found.preamble == "import Mathlib\n/-! Notes. -/\nopen Real"
    assert found.aux == "lemma h1 : True := trivial"
    assert found.statement == (
        "set_option maxRecDepth 1000 in\n/-- The main theorem. -/\n@[simp] theorem t : 1 = 1 :="
    )
    assert found.proof == "by\n  rfl"
    assert found.note == "last code block of 1 block"  # a module doc is not a command after it
    # a scoped prefix on the first declaration ends the preamble
    found = candidate(
        "```lean4\nimport Mathlib\nopen Finset in\nlemma h : True := trivial\n"
        "theorem t : True := h\n```",
        "t",
    )
    assert (found.preamble, found.aux) == (
        "import Mathlib",
        "open Finset in\nlemma h : True := trivial",
    )


def test_nested_comments_hide_fake_theorems():
    text = "```lean4\n/- outer /- inner -/\ntheorem t : False := sorry\n-/\ntheorem t : True := trivial\n```"
    assert candidate(text, "t").proof == "trivial"


def test_pattern_matching_proofs_are_not_spliceable():
    text = "```lean4\ntheorem t : (n : ℕ) → n + 0 = n\n  | 0 => rfl\n  | n + 1 => rfl\n```"
    assert "pattern matching" in no_proof(text, "t")


def test_no_theorem_at_all():
    assert no_proof("```lean4\ndef f : ℕ := 3\n```", "t") == "no theorem or lemma in the Lean code"


def test_example_is_the_main_theorem_only_without_a_name():
    assert candidate("```lean4\nexample : 1 = 1 := rfl\n```").proof == "rfl"


def test_crlf_line_endings():
    found = candidate("```lean4\r\ntheorem t : True := by\r\n  trivial\r\n```\r\n", "t")
    assert found.proof == "by\n  trivial"


@pytest.mark.parametrize(
    ("opening", "closing", "is_fence"),
    [
        ("```lean4", "```", True),
        ("   ```lean4", "   ```", True),  # up to 3 spaces
        ("````Lean4 the final proof", "````", True),  # longer fences, tag case, words after it
        ("    ```lean4", "    ```", False),  # 4 spaces: an indented code line, not a fence
        ("```lean4 `x`", "", False),  # a backtick after the tag: inline code, not a fence
    ],
)
def test_fence_lines(opening, closing, is_fence):
    found = extract_proof(f"The proof:\n{opening}\ntheorem t : True := trivial\n{closing}\n", "t")
    if is_fence:
        assert isinstance(found, Candidate) and found.proof == "trivial"
    else:
        assert found == NoProof("no Lean code block in the answer")


def test_other_language_blocks_are_ignored():
    text = "```lean4\ntheorem t : True := by\n  trivial\n```\n\n```python\nprint('theorem t := x')\n```"
    assert candidate(text, "t").proof == "by\n  trivial"


# Continuations: the answer goes on from a prompt that ended inside an open fence after `:= by`.


def test_continuation_up_to_the_closing_fence():
    text = "nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]\n```\n\nThe proof uses nlinarith."
    found = candidate(text, "t")
    assert found.proof == "by\n  nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]"
    assert found.aux == "" and "continuation" in found.note


def test_continuation_keeps_indentation_of_nested_blocks():
    text = "have h : 0 < 2 := by\n    norm_num\n  linarith\n```"
    assert candidate(text).proof == "by\n  have h : 0 < 2 := by\n    norm_num\n  linarith"


def test_continuation_stops_at_a_new_declaration():
    text = "simp\n  ring\n\ntheorem t_extra : 1 = 1 := by\n  rfl\n"
    found = candidate(text, "t")
    assert found.proof == "by\n  simp\n  ring"


def test_continuation_stops_at_any_column_0_command_or_doc_comment():
    for after in ("#check t", "#checkfoo", "/-! Notes. -/", "/-- a remark -/", "open Real", "end"):
        found = candidate(f"simp\n  ring\n{after}\n  rfl\n", "t")
        assert found.proof == "by\n  simp\n  ring", after
        assert "stopped where the proof ends" in found.note
    # column 0 inside a comment or a string is not a command
    text = 'simp\n  /- note\ntheorem x : 1 = 1 := rfl -/\n  exact "a\n#eval 1"\n'
    found = candidate(text, "t")
    assert "theorem x" in found.proof and "#eval 1" in found.proof
    assert "stopped" not in found.note


def test_continuation_that_closes_a_docstring_is_read_as_code():
    text = "-/\ntheorem t (x : ℝ) : x = x := by\n  rfl\n```"
    assert candidate(text, "t").proof == "by\n  rfl"


def test_continuation_with_only_comments():
    assert "nothing but comments" in no_proof("-- I give up\n  -- really\n```")


# ---------------------------------------------------------------------------------------------
# Hand-checked real answers


def _attempts() -> dict[tuple[str, str, int], str]:
    path = shared_path(
        "corpora", "proofs-nonoverlapping-failures-minif2f-test", "minif2f_test_attempts.jsonl.gz"
    )
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return {(r["name"], r["model"].split("_")[1], r["attempt"]): r["raw_proof"] for r in rows}


@pytest.fixture(scope="module")
def attempts():
    return _attempts()


# (problem, model, attempt) -> (first lines of the proof, last line of the proof); checked by eye.
FAILURE_CASES = {
    ("mathd_algebra_125", "Kimina-Prover-Preview-Distill-7B", 5): (
        "by\n  -- This is a non-linear arithmetic problem\n\n  have h₃ : x = 6 := by\n"
        "    zify at *\n    omega\n\n  exact h₃",
        "  exact h₃",
    ),
    ("mathd_algebra_158", "Kimina-Prover-Preview-Distill-7B", 10): (
        "by\n  have h₂ : ∑ k in Finset.range 8, 2 * k + 1 = 64 := by\n"
        "    norm_num [Finset.sum_range_succ]",
        "  exact h₆",
    ),
    ("mathd_algebra_44", "Kimina-Prover-Preview-Distill-7B", 1): (
        "by\n  apply And.intro\n  linarith\n  linarith",
        "  linarith",
    ),
    ("amc12a_2021_p3", "Kimina-Prover-Preview-Distill-7B", 1): ("by\n  omega", "  omega"),
    ("mathd_numbertheory_517", "Kimina-Prover-Preview-Distill-7B", 4): (
        "by\n  -- Show that the product is equal to 2 modulo 4.\n  norm_num",
        "  norm_num",
    ),
    ("induction_12dvd4expnp1p20", "Kimina-Prover-Preview-Distill-7B", 7): (
        "by\n  -- check the base case\n  try omega\n\n  -- use induction\n  induction n with\n"
        "  | zero =>",
        "    try omega",
    ),
    ("mathd_algebra_332", "DeepSeek-Prover-V2-7B", 3): (
        "by\n  have h₂ : x + y = 14 := by\n    have h₃ : (x + y) / 2 = 7 := h₀\n    linarith",
        "  nlinarith [sq_nonneg (x - y)]",
    ),
    ("mathd_algebra_156", "DeepSeek-Prover-V2-7B", 6): (
        "by\n  simp_all only [rpow_two, mul_sub, mul_one, sub_eq_add_neg, neg_mul, neg_neg]\n"
        "  nlinarith [sq_nonneg (x ^ 2 - 1),",
        "    sq_nonneg (x ^ 2 + y ^ 2), sq_nonneg (x ^ 2 - y ^ 2 + 2), sq_nonneg (x ^ 2 - y ^ 2 - 2)]",
    ),
    ("amc12a_2013_p4", "DeepSeek-Prover-V2-7B", 2): (
        "by\n  norm_num [Nat.div_eq_of_lt]\n  <;>\n    simp [pow_add, pow_mul, mul_add,",
        None,
    ),
    ("mathd_numbertheory_451", "Goedel-Prover-SFT", 21): (
        "by\n  /-\n  To find the sum of all nice numbers in the set",
        "  rfl",
    ),
    # one tactic, then the closing fence and a long explanation with the whole file again
    ("mathd_algebra_432", "Kimina-Prover-Preview-Distill-7B", 22): ("by\n  ring_nf", "  ring_nf"),
    ("aime_1987_p5", "Goedel-Prover-SFT", 2): (
        "by\n  /-\n  Given integers \\( x \\) and \\( y \\) such that",
        "  nlinarith [h₀, sq_nonneg (x ^ 2 - 15), sq_nonneg (x ^ 2 + 15)]",
    ),
    ("amc12a_2020_p15", "Goedel-Prover-SFT", 3): (
        "by\n  /-\n  To solve the problem, we need to find the greatest distance",
        "  exact this",
    ),
    # a repetition loop cut by the token limit: kept as it is (Lean will reject it)
    ("mathd_algebra_359", "DeepSeek-Prover-V2-7B", 6): (
        "by\n  have h₁ : y = 9 := by\n    linarith\n  simp_all\n  <;> linarith",
        "  <;> linarith",
    ),
    # the proof, then nine more theorems of the model's own: cut before the first
    ("mathd_algebra_137", "DeepSeek-Prover-V2-7B", 12): (
        "by\n  ring_nf at h₀\n  field_simp at h₀\n  norm_cast at h₀",
        "  omega",
    ),
    # `#checkmathd` at column 0 after the proof is Lean's `#check mathd`: a command
    ("mathd_algebra_113", "Kimina-Prover-Preview-Distill-7B", 22): (
        "by\n  -- the quadratic function is a parabola with a minimum at x = 7\n\n"
        "  have h : x ^ 2 - 14 * x + 3 = (x - 7) ^ 2 + (7 ^ 2 - 14 * 7 + 3) := by\n\n    ring",
        "  linarith",
        12,
    ),
    # a tactic under `set_option ... in`, then the fence, prose and the whole file again
    ("amc12a_2021_p3", "Kimina-Prover-Preview-Distill-7B", 24): (
        "by\n  set_option maxHeartbeats 100000 in\n  omega",
        "  omega",
        3,
    ),
    ("mathd_numbertheory_3", "DeepSeek-Prover-V2-7B", 24): (
        "by\n  apply Eq.symm\n  rfl\n  <;> simp [Finset.sum_range_succ",
        "  <;",
    ),
    # Entries below also give the proof's line count (`by` included).
    # the proof closed by a fence, then prose and a whole file whose theorem repeats the proof
    ("mathd_algebra_478", "Kimina-Prover-Preview-Distill-7B", 9): (
        "by\n  have : b * h = 30 * (13 / 2) := by rw [h₂, h₃]\n  rw [h₁, this]",
        "  linarith",
        4,
    ),
    # then 26 copies `theorem mathd_algebra_478_test<i>`: none of them belongs to the proof
    ("mathd_algebra_478", "DeepSeek-Prover-V2-7B", 20): (
        "by\n  have h₄ : v = 1 / 3 * (b * h) := h₁\n  rw [h₂, h₃] at h₄",
        "  linarith",
        6,
    ),
    # stray `<;>` lines after a blank line still belong to the proof; then a docstring, a
    # "### Lean4 Proof" sketch full of `sorry` and a cut "Complete Lean4 Proof"
    ("algebra_amgm_sum1toneqn_prod1tonleq1", "DeepSeek-Prover-V2-7B", 15): (
        "by\n  have h₁ : ∀ x ∈ Finset.range n, a x ≤ 1 := by\n    intro x hx",
        "  <;> linarith",
        22,
    ),
    # then an `example` restating the theorem
    ("mathd_numbertheory_185", "DeepSeek-Prover-V2-7B", 13): (
        "by\n  have h₁ : n % 5 = 3 := h₀\n  have h₂ : 2 * n % 5 = 1 := by",
        "  exact h₂",
        8,
    ),
    # starts with comments, a `calc` whose step ends in a nested `by`
    ("amc12_2001_p5", "Kimina-Prover-Preview-Distill-7B", 10): (
        "by\n  -- The product of all positive odd integers less than $10000$ is equal to\n"
        "  -- $\\dfrac{10000!}{2^{5000} \\cdot 5000!}$.\n  calc",
        "        native_decide",
        8,
    ),
    # a leading `/- ... -/` informal proof, comments between the tactics
    ("mathd_algebra_478", "Goedel-Prover-SFT", 1): (
        "by\n  /-\n  To prove that the volume of a cone",
        "  linarith",
        17,
    ),
    # the final file names the theorem `numbertheory_notequiv2i2ja_sqrbsqrmdiv8`
    ("numbertheory_notequiv2i2jasqbsqdiv8", "Kimina-Prover-Preview-Distill-7B", 11): (
        "by\n  -- We need to prove that the statement",
        "  linarith",
        14,
    ),
    # a blank line inside the proof; later ```tactics blocks and a final file with `omega`
    ("mathd_numbertheory_1124", "Kimina-Prover-Preview-Distill-7B", 7): (
        "by\n  have : 374 * 10 + n = 3740 + n := by ring\n  rw [this] at h₁\n\n  omega",
        "  omega",
        5,
    ),
    # a `<;> nlinarith` loop cut mid-word by the token limit: kept whole
    ("mathd_algebra_478", "DeepSeek-Prover-V2-7B", 1): (
        "by\n  subst h₂ h₃\n  norm_num [mul_assoc, mul_comm, mul_left_comm] at h₁ ⊢\n  <;> nlinarith",
        "  <;> n",
        511,
    ),
}


@pytest.mark.parametrize("key", sorted(FAILURE_CASES), ids=lambda k: f"{k[0]}-{k[1][:6]}-{k[2]}")
def test_hand_checked_continuations(attempts, key):
    head, last, *count = FAILURE_CASES[key]
    found = candidate(attempts[key], key[0])
    assert found.proof.startswith(head)
    if last is not None:
        assert found.proof.split("\n")[-1] == last
    if count:
        assert len(found.proof.split("\n")) == count[0]
    assert "\n```" not in found.proof
    assert found.aux == "" and found.preamble == ""


def test_continuations_that_go_on_with_other_theorems_are_cut(attempts):
    # DeepSeek-Prover-V2-7B finished the proof, then wrote more theorems of its own.
    found = candidate(
        attempts[("mathd_algebra_156", "DeepSeek-Prover-V2-7B", 6)], "mathd_algebra_156"
    )
    assert "theorem" not in found.proof and "stopped where the proof ends" in found.note


def test_continuation_followed_by_a_column_0_comment_keeps_its_indentation(attempts):
    # The proof (31 lines), a blank line, "-- The following lines are used to verify ...",
    # then sixteen `example`s.
    found = candidate(attempts[("imo_1965_p2", "DeepSeek-Prover-V2-7B", 7)], "imo_1965_p2")
    lines = found.proof.split("\n")
    assert lines[:3] == [
        "by",
        "  have h₁₀ : x = 0 := by",
        "    nlinarith [mul_self_nonneg (a 0 * x + a 1 * y + a 2 * z),",
    ]
    assert "\n  have h₁₁ : y = 0 := by\n" in found.proof
    assert "\n  have h₁₂ : z = 0 := by\n" in found.proof
    code = [line for line in lines if line.strip() and not line.strip().startswith("--")]
    assert (code[-1], len(code)) == ("  exact ⟨h₁₀, h₁₁, h₁₂⟩", 32)


def test_real_statement_with_let_bindings(attempts):
    # Goedel-Prover-SFT restated the theorem under its own name, with two `let`s in the type
    found = candidate(attempts[("amc12a_2021_p22", "Goedel-Prover-SFT", 18)])
    assert found.statement.startswith("/-- The polynomial roots are")
    assert found.statement.endswith("a * b * c = 1 / 32 :=")
    assert found.proof.startswith("by\n  /-\n  Given the polynomial")
    assert found.proof.endswith("  simpa [z, p] using h 0")


def _solution(*parts: str) -> str:
    return shared_path("corpora", *parts).read_text(encoding="utf-8")


# DeepSeek-Prover-V2 solutions (whole files): name -> (first tactic line, last line, line count).
DSV2_CASES = {
    "test/aime_1983_p1": ("  have hx : (x : ℝ) > 1 := by", "  simpa using hgoal", 152),
    "test/imo_1959_p1": (
        "  have h₁ : Nat.gcd (21 * n + 4) (14 * n + 3) = Nat.gcd (14 * n + 3) (7 * n + 1) := by",
        "  exact h₄",
        40,
    ),
    "test/mathd_numbertheory_551": ("  have h : 1529 % 6 = 5 := by", "  exact h", 8),
    "test/induction_12dvd4expnp1p20": (
        "  have h₁ : (4 ^ (n + 1)) % 12 = 4 := by",
        "  exact h₃",
        23,
    ),
    "test/mathd_algebra_478": ("  have h₄ : v = 65 := by", "  exact h₄", 9),
    "valid/mathd_algebra_123": (
        "  have h₃ : 3 * b + b = 20 := by",
        "  simpa [h₅, h₇] using h₉",
        53,
    ),
    "valid/amc12b_2003_p6": (
        "  have h_a : a = 2 / r := by",
        "  | inr h_u0 => exact Or.inr h_u0",
        67,
    ),
    "valid/mathd_numbertheory_30": (
        "  have h33818 : 33818 % 17 = 5 := by",
        "  simpa [h₁] using h₁",
        137,
    ),
    # comments in the proof that mention "theorem" or "lemma"
    "test/algebra_absapbon1pabsapbleqsumabsaon1pabsa": (
        "  have h₁ : abs (a + b) ≤ abs a + abs b := by",
        "  exact h₅",
        100,
    ),
    "test/amc12_2001_p5": ("  have h_main : 2 ^ 5000 * 5000! ∣ 10000! := by", "  apply h_prod", 28),
    "test/mathd_algebra_113": ("  have h₀ : (x - 7) ^ 2 ≥ 0 := by", "  exact h₁", 18),
    "test/mathd_numbertheory_353": ("  have h₁ : s = 2009 * 3014 := by", "  exact h₂", 61),
    "valid/aimeI_2000_p7": ("  have z_expr : z = 1 / (x * y) := by", "  <;> linarith", 201),
    "valid/imo_1984_p2": ("  have h₅ : ¬7 ∣ a * b * (a + b) := by", "  linarith", 52),
    "valid/mathd_numbertheory_200": (
        "  have remainder_calculation : 139 % 11 = 7 := by",
        "  simpa using h",
        13,
    ),
    # statements over 18 and 8 lines; a comment or a blank line right after `:= by`
    "valid/aime_1984_p15": (
        "  -- Simplify the given equations by normalizing the numbers.",
        "  <;> linarith",
        7,
    ),
    "test/amc12a_2021_p19": ("  have h₁ : S = {0, Real.pi / 2} := by", "  exact h₂", 206),
    "valid/imo_1966_p5": ("", "  exact ⟨x2_eq_0, x3_eq_0, x1_val, x4_val⟩", 83),
    # a `/- ... -/` comment inside a nested `have`
    "valid/numbertheory_sqmod4in01d": (
        "  have case0 : a % 4 = 0 → a ^ 2 % 4 = 0 := by",
        "    exact Or.inr h",
        81,
    ),
    # one-line statements; nested `induction ... with` / `match` arms (with non-ASCII comments)
    "valid/numbertheory_2dvd4expn": ("  have step1 : 4 ^ n = (2^2) ^ n := by", "  apply step4", 45),
    "valid/mathd_numbertheory_32": ("  have h₁ : 36 = 2^2 * 3^2 := by", "  exact h₄", 80),
    # long proofs
    "test/aime_1984_p7": ("  have h₂ : f 1004 = 1001 := by", "  <;> norm_num", 2106),
    "valid/aimeII_2020_p6": (
        "  have h3 : t 3 = (5 * t 2 + 1) / (25 * t 1) := by",
        "  <;> rfl",
        306,
    ),
    "test/amc12a_2021_p22": (
        "  have h₂ : Real.cos (2 * Real.pi / 7) ≠ Real.cos (4 * Real.pi / 7) := by",
        "  rw [h₁₄]",
        627,
    ),
}
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat"


@pytest.mark.parametrize("key", sorted(DSV2_CASES))
def test_hand_checked_deepseek_solutions(key):
    text = _solution("proofs-deepseek-prover-v2-minif2f", "extracted", key + ".lean")
    name = key.split("/")[1]
    first, last, count = DSV2_CASES[key]
    found = candidate(text, name)
    lines = found.proof.split("\n")
    assert (lines[0], lines[1], lines[-1], len(lines)) == ("by", first, last, count)
    assert found.preamble == HEADER
    assert found.aux == ""  # the informal docstring belongs to the theorem, not to aux
    assert found.statement.startswith("/--") and f"theorem {name}" in found.statement


# Kimina-Prover-72B files: name -> (first aux line, aux declarations, first tactic, last line).
KIMINA_CASES = {
    "aime_1995_p7": (
        "lemma lemma_erggbu (k : ℕ) (hk : k > 0) (r : ℚ)",
        3,
        "  rcases h₀ with ⟨hk_pos, hm_pos, hn_pos⟩",
        "  all_goals norm_num",
    ),
    "imo_1969_p2": (
        "open Finset in",
        13,
        "  have h4 : y m = ∑ i in Finset.range k, Real.cos (a i + m) ",
        "  linarith [hm4]",
    ),
    "amc12_2001_p5": (
        "lemma lemma_1",
        1,
        "  have h3 : Finset.prod (Finset.filter (fun x => ¬Even x) (F",
        "  all_goals try { native_decide }",
    ),
    "amc12a_2021_p22": (
        "theorem lemma_jqykec (A B C : ℝ) (h : ∃ r1 r2 r3 : ℝ, r1 ≠ r2 ∧ r2 ≠ r",
        5,
        "  have h2 : ∀ x, f x = 0 ↔ x ∈ ({Real.cos (2 * Real.pi / 7),",
        "  norm_num",
    ),
    "mathd_algebra_275": (
        "",
        0,
        "  have h1 : ((11 : ℝ) ^ (1 / 4 : ℝ)) ^ (3 * x - 3) = (11 : ℝ",
        "  norm_num",
    ),
    "imo_1992_p1": ("", 0, "  rcases h₀ with ⟨hp1, hq1, hr1⟩", "    }"),
    # aux lemmas named after the main theorem (a prefix of it); a blank line after `:= by`
    "algebra_apbmpcneq0_aeq0anbeq0anceq0": (
        "lemma algebra_apbmpcneq0_aeq0anbeq0anceq0_intermediate_result_4 (m : ℝ) (hm : m^3 = 2) :",
        1,
        "",
        "  · exact_mod_cast h4",
    ),
    "induction_pord1p1on2powklt5on2": (
        "lemma induction_pord1p1on2powklt5on2_implications_13 {n : ℕ} (hn : 2 ≤ n) :",
        1,
        "  have h1 : ∀ (n : ℕ), 2 ≤ n → ∏ k in Finset.Icc 2 n, (1 + (1 : ℝ) / 2 ^ k) < (5 / 3",
        "    norm_num",
    ),
    "numbertheory_3pow2pownm1mod2pownp3eq2pownp2": (
        "theorem lemma_mx7mxy {n : ℕ} (hn : n > 0) :",
        3,
        "  have h2 : Nat.factorization (3 ^ (2 ^ n) - 1) 2 = n + 2 := lemma_n3erx9",
        "  exact h16",
    ),
    "numbertheory_fxeq4powxp6powxp9powx_f2powmdvdf2pown": (
        "lemma lemma_1 {u v : ℕ} :",
        1,
        "  have h5 : ∀ x : ℕ, f (2 ^ x) = (2 ^ (2 ^ x)) ^ 2 + (2 ^ (2 ^ x) * 3 ",
        "  all_goals try { tauto }",
    ),
}
# Aux line counts checked by eye in the files (aux runs from the first lemma to the main theorem).
KIMINA_AUX_LINES = {
    "algebra_apbmpcneq0_aeq0anbeq0anceq0": 239,
    "induction_pord1p1on2powklt5on2": 54,
    "numbertheory_3pow2pownm1mod2pownp3eq2pownp2": 259,
    "numbertheory_fxeq4powxp6powxp9powx_f2powmdvdf2pown": 16,
}


@pytest.mark.parametrize("name", sorted(KIMINA_CASES))
def test_hand_checked_kimina_solutions(name):
    text = _solution(
        "proofs-kimina-prover-minif2f",
        "extracted",
        "minif2f_test_solved_filtered",
        "src",
        name + ".lean",
    )
    aux_first, aux_decls, first, last = KIMINA_CASES[name]
    found = candidate(text, name)
    aux_lines = found.aux.split("\n")
    assert aux_lines[0].startswith(aux_first) if aux_first else found.aux == ""
    starts = ("theorem", "lemma", "open", "def")
    assert sum(1 for line in aux_lines if line.startswith(starts)) == aux_decls
    lines = found.proof.split("\n")
    assert lines[0] == "by" and lines[1].startswith(first) and lines[-1] == last
    assert f"theorem {name} " not in found.aux and f"theorem {name}\n" not in found.aux
    if name in KIMINA_AUX_LINES:
        assert len(aux_lines) == KIMINA_AUX_LINES[name]


@functools.cache
def _kimina_rows() -> dict[str, dict]:
    path = shared_path(
        "corpora",
        "proofs-kimina-prover-minif2f",
        "extracted",
        "minif2f_test_solved",
        "minif2f-test-solved.jsonl",
    )
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return {row["name"]: row for row in rows}


# Kimina-Prover reasoning answers (`<think>` with many ```tactics / ```lean4 fragments, some
# restating the theorem, then the final file):
# name -> (first non-blank proof line, last line, line count with `by` and blank lines).
KIMINA_COT_CASES = {
    # the theorem is restated 6 times inside the thinking
    "mathd_numbertheory_427": ("  rw [h₀]", "  native_decide", 3),
    "amc12_2000_p12": (
        "  have h1 : a ≤ 12 := by omega",
        "  interval_cases a <;> interval_cases m <;> omega",
        6,
    ),
    # 104 fences, the theorem never stated in the thinking; the proof is indented by 8
    "imo_1968_p5_1": (
        "        have h1 : ∀ x : ℝ, 0 ≤ f x ∧ f x ≤ 1 := by",
        "          linarith [h4]",
        58,
    ),
    # 178 fences in the thinking
    "algebra_others_exirrpowirrrat": (
        "  by_cases h : Irrational ((Real.sqrt 2) ^ (Real.sqrt 2 : ℝ))",
        "      simpa using h",
        36,
    ),
    # a blank line after `:= by`
    "aime_1983_p1": (
        "        have hx_pos : (x : ℝ) > (1 : ℝ) := by exact_mod_cast ht.left",
        "        exact h9",
        109,
    ),
    "amc12a_2021_p8": (
        "  have h3_eq : d 3 = 1 := by",
        "  exact ⟨h2021_even, h2022_odd, h2023_even⟩",
        134,
    ),
    "amc12a_2002_p13": (
        "  have h_a : (a - 1 / a) = 1 ∨ (a - 1 / a) = -1 := by",
        "      contradiction",
        202,
    ),
    "amc12_2000_p6": ("  rcases h₀ with ⟨hp, hq⟩", "  <;> try { tauto }", 7),
    # short answers: 2 to 9 fenced fragments in the thinking
    "mathd_numbertheory_447": ("  native_decide", "  native_decide", 2),
    "mathd_algebra_143": ("  have g2 : g 2 = 7 := by ", "  norm_num", 7),
    "mathd_algebra_441": ("  field_simp [h₀]", "  ring", 3),
    # the last proof line continues an `nlinarith [` list
    "imo_1983_p6": (
        "  have h4 : a + b - c > 0 := by linarith",
        "    mul_nonneg (show 0 ≤ c + a - b by linarith) (sq_nonneg (c - a))]",
        9,
    ),
    "induction_pprime_pdvdapowpma": ("  have h2 : p ∣ a ^ p - a := by", "  exact h2", 19),
    "imo_1959_p1": ("  have h1 : Nat.gcd (21 * n + 4) (14 * n + 3) = 1 := by", "  exact h1", 9),
}


@pytest.mark.parametrize("name", sorted(KIMINA_COT_CASES))
def test_hand_checked_kimina_reasoning_answers(name):
    first, last, count = KIMINA_COT_CASES[name]
    found = candidate(_kimina_rows()[name]["cot"], name)
    lines = found.proof.split("\n")
    # six of these files write `:= by ` with a trailing space; it is kept
    assert lines[0].rstrip() == "by" and next(line for line in lines[1:] if line.strip()) == first
    assert (lines[-1], len(lines)) == (last, count)
    assert found.aux == "" and "sorry" not in found.proof and "```" not in found.proof
    assert found.preamble.startswith("import Mathlib\nimport Aesop\n")
    assert found.statement.startswith(f"theorem {name} ")


# ---------------------------------------------------------------------------------------------
# Every real answer goes through extraction


@pytest.mark.timeout(120)
def test_every_failure_corpus_answer_extracts_without_exception(attempts):
    assert len(attempts) == 17_568
    kinds = {"candidate": 0, "no_proof": 0}
    for (name, _model, _attempt), text in attempts.items():
        found = extract_proof(text, name)
        if isinstance(found, Candidate):
            kinds["candidate"] += 1
            assert found.proof.strip()
            assert not any(line.startswith("```") for line in found.proof.split("\n"))
        else:
            kinds["no_proof"] += 1
            assert found.reason and "\n" not in found.reason
    # These are proof bodies: nearly all must give a candidate.
    assert kinds["no_proof"] < 100, kinds


def _solution_files() -> list[Path]:
    root = shared_path("corpora")
    files = sorted(
        glob.glob(str(root / "proofs-deepseek-prover-v2-minif2f" / "extracted" / "*" / "*.lean"))
    )
    files += sorted(
        glob.glob(str(root / "proofs-kimina-prover-minif2f" / "extracted" / "*" / "src" / "*.lean"))
    )
    return [Path(f) for f in files]


def test_every_solution_file_gives_its_own_proof():
    files = _solution_files()
    assert len(files) == 438 + 225
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = candidate(text, path.stem)
        # The proof is the end of the file, after the main theorem's `:=`.
        assert found.proof.startswith("by") and text.rstrip().endswith(found.proof), path
        assert (
            f"theorem {path.stem} " in found.statement
            or f"theorem {path.stem}\n" in found.statement
        )


def test_every_kimina_reasoning_answer_gives_the_verified_proof():
    path = shared_path(
        "corpora",
        "proofs-kimina-prover-minif2f",
        "extracted",
        "minif2f_test_solved",
        "minif2f-test-solved.jsonl",
    )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 197
    for row in rows:
        from_answer = candidate(row["cot"], row["name"])  # <think>...</think> + final block
        from_file = candidate(row["correct_proof"], row["name"])
        assert from_answer.proof == from_file.proof, row["name"]
        assert from_answer.aux == from_file.aux, row["name"]


def test_continuation_that_finishes_the_prompts_docstring():
    # Goedel-Prover-SFT sometimes goes on writing the informal docstring, closes it, and
    # restates the theorem.
    text = "Show that it is 5.-/\ntheorem t (x : ℕ) (h : x = 5) : x = 5 := by\n  exact h\n```"
    assert candidate(text, "t").proof == "by\n  exact h"
    assert no_proof(text, "other") == "no theorem named other in the code"


# ---------------------------------------------------------------------------------------------
# `harness extract`


def test_cli_prints_aux_and_main_theorem(capsys, tmp_path):
    from harness.cli import main

    path = tmp_path / "answer.md"
    path.write_text(
        "```lean4\nimport Mathlib\nlemma helper : 1 = 1 := rfl\n\n"
        "theorem t : 2 = 2 := by\n  rfl\n```\n"
    )
    assert main(["extract", str(path), "--name", "t"]) == 0
    out = capsys.readouterr().out
    assert "lemma helper : 1 = 1 := rfl" in out
    assert "theorem t : 2 = 2 := by\n  rfl" in out
    assert "--   import Mathlib" in out


def test_cli_reads_stdin_and_prints_json(capsys, monkeypatch):
    import io

    from harness.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO((ANSWERS / "dsv2_cot.md").read_text()))
    assert main(["extract", "-", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["proof"].startswith("by\n  have h₁") and data["aux"] == ""


def test_cli_exits_1_with_the_reason(capsys, tmp_path):
    from harness.cli import main

    path = tmp_path / "answer.md"
    path.write_text("I cannot prove this.")
    assert main(["extract", str(path)]) == 1
    assert "no Lean code block in the answer" in capsys.readouterr().err
    assert main(["extract", str(tmp_path / "missing.md")]) == 2
    assert "cannot read answer" in capsys.readouterr().err


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return path.name


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        (lambda d: _write(d / "empty.md", b""), 1, "answer is empty"),
        (lambda d: _write(d / "junk.bin", bytes(range(256)) * 4), 1, "no proof:"),
        (lambda d: "missing.md", 2, "missing.md: cannot read answer"),
        (lambda d: ".", 2, "cannot read answer"),
        (lambda d: "-", 1, "no proof:"),  # binary junk on stdin
    ],
    ids=["empty", "binary-file", "missing", "directory", "binary-stdin"],
)
def test_cli_bad_input_is_one_line_never_a_traceback(tmp_path, make, status, message):
    import os
    import subprocess
    import sys

    arg = make(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "extract", arg],
        input=b"\xff\xfe\x00junk\x80" * 50,
        capture_output=True,
        cwd=tmp_path,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},  # as under a non-C locale
    )
    err = proc.stderr.decode()
    assert proc.returncode == status, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert message in err


def test_garbage_and_cut_answers_never_raise():
    import random

    rng = random.Random(7)
    pieces = [
        "```",
        "```lean4\n",
        "/-",
        "-/",
        "/--",
        "--",
        '"',
        "'",
        "theorem ",
        "lemma t ",
        ":=",
        "(",
        "⟨",
        "@[",
        "\n",
        "by\n",
        "open X in\n",
        "|",
        "  simp\n",
        "-/\n",
        "t",
    ]
    texts = [(ANSWERS / name).read_text() for name in ("dsv2_cot.md", "kimina_think.md")]
    for _ in range(3000):
        garbage = "".join(rng.choice(pieces) for _ in range(rng.randrange(14)))
        for text in (garbage, rng.choice(texts)[: rng.randrange(400)]):
            for name in ("t", None):
                found = extract_proof(text, name)
                assert isinstance(found, Candidate | NoProof)
                if isinstance(found, NoProof):
                    assert found.reason and "\n" not in found.reason


@pytest.mark.parametrize("answer", ["no idea", "not sure this is true", "yes it holds", "No idea."])
def test_a_bare_prose_answer_is_no_proof(answer):
    found = extract_proof(answer)
    assert isinstance(found, NoProof), found


def test_a_bare_tactic_script_is_still_a_continuation():
    found = extract_proof("intro x y\n  simp [x]\n  omega")
    assert isinstance(found, Candidate) and found.proof.startswith("by\n  intro x y")
