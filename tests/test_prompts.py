"""Prompt templates (verbatim from the provers' sources) and repair turns."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.prompts import TEMPLATES, build_prompt, check_template, lean_code, repair_message
from harness.types import LeanMessage, Problem, Verdict, VerdictKind

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
PROBLEM = Problem(
    name="mathd_algebra_10",
    header=HEADER,
    statement="theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 :=",
    informal="What is the positive difference between $120\\%$ of 30 and $130\\%$ of 20? Show that it is 10.",
    split="test",
)

# DeepSeek-Prover-V2 README quick start, verbatim: the formal statement and the CoT prompt.
README_STATEMENT = """
import Mathlib
import Aesop

set_option maxHeartbeats 0

open BigOperators Real Nat Topology Rat

/-- What is the positive difference between $120\\%$ of 30 and $130\\%$ of 20? Show that it is 10.-/
theorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) = 10 := by
  sorry
""".strip()
README_PROMPT = """
Complete the following Lean 4 code:

```lean4
{}
```

Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof plan outlining the main proof steps and strategies.
The plan should highlight key ideas, intermediate lemmas, and proof structures that will guide the construction of the final formal proof.
""".strip()


def test_code_shown_is_header_docstring_statement_sorry():
    assert lean_code(PROBLEM) == README_STATEMENT


def test_deepseek_v2_cot_is_the_readme_prompt_verbatim():
    assert build_prompt(PROBLEM, "deepseek-v2-cot") == [
        {"role": "user", "content": README_PROMPT.format(README_STATEMENT)}
    ]


def test_deepseek_v2_non_cot_is_the_prompt_without_the_plan_request():
    (message,) = build_prompt(PROBLEM, "deepseek-v2")
    assert message == {
        "role": "user",
        "content": f"Complete the following Lean 4 code:\n\n```lean4\n{README_STATEMENT}\n```",
    }


def test_goedel_v2_closes_the_fence_right_after_by_sorry():
    (message,) = build_prompt(PROBLEM, "goedel-v2")
    code = README_STATEMENT.replace(":= by\n  sorry", ":= by sorry")
    assert message["content"] == (
        f"Complete the following Lean 4 code:\n\n```lean4\n{code}```\n\n"
        + README_PROMPT.split("```\n\n", 1)[1]
    )


def test_kimina_uses_its_system_prompt_and_the_informal_problem():
    system, user = build_prompt(PROBLEM, "kimina")
    assert system == {"role": "system", "content": "You are an expert in mathematics and Lean 4."}
    assert user["content"] == (
        "Think about and solve the following problem step by step in Lean 4.\n"
        f"# Problem:{PROBLEM.informal}\n# Formal statement:\n```lean4\n{README_STATEMENT}\n```\n"
    )


def test_kimina_without_informal_text_shows_the_code_without_header_lines():
    problem = Problem(name="t", header=HEADER, statement="theorem t : 1 + 1 = 2 :=")
    _, user = build_prompt(problem, "kimina")
    assert "# Problem:theorem t : 1 + 1 = 2 := by\n  sorry\n# Formal statement:" in user["content"]


def test_context_goes_between_header_and_statement():
    problem = Problem(
        name="putnam_x",
        header="import Mathlib\n",
        statement="theorem putnam_x : f 2 = putnam_x_solution :=",
        context="abbrev putnam_x_solution : ℕ := sorry\ndef f (n : ℕ) : ℕ := n",
    )
    assert lean_code(problem) == (
        "import Mathlib\nabbrev putnam_x_solution : ℕ := sorry\ndef f (n : ℕ) : ℕ := n\n"
        "theorem putnam_x : f 2 = putnam_x_solution := by\n  sorry"
    )
    for name in TEMPLATES:
        assert "def f (n : ℕ)" in build_prompt(problem, name)[-1]["content"]


def test_user_template_file_with_placeholders(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text(
        "Prove {name} ({split}).\n{informal}\n```lean4\n{code}\n```\nLiteral {{braces}}."
    )
    (message,) = build_prompt(PROBLEM, str(path))
    assert message["role"] == "user"
    assert message["content"] == (
        f"Prove mathd_algebra_10 (test).\n{PROBLEM.informal}\n```lean4\n{README_STATEMENT}\n```\n"
        "Literal {braces}."
    )


def test_user_template_yaml_with_system(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text('system: "You prove {name}."\nuser: "{header}{statement} by"\n')
    system, user = build_prompt(PROBLEM, str(path))
    assert system == {"role": "system", "content": "You prove mathd_algebra_10."}
    assert user["content"] == HEADER + PROBLEM.statement + " by"


def test_unknown_placeholder_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Prove {statment}")
    with pytest.raises(ConfigError, match=r"unknown placeholder \{statment\}.*\{statement\}"):
        build_prompt(PROBLEM, str(path))
    path.write_text("a { b")
    with pytest.raises(ConfigError, match="bad.txt"):
        check_template(str(path))


def test_unknown_template_name():
    with pytest.raises(ConfigError, match="unknown template 'deepseek-v3'.*deepseek-v2-cot"):
        build_prompt(PROBLEM, "deepseek-v3")


# ---------------------------------------------------------------------------------------------
# Repair turns

CHECKED = (
    HEADER + "theorem t (a b : ℝ) (h : a = b) : a ^ 2 + b ^ 2 ≥ 2 * a * b := by\n"
    "  have h1 : 0 ≤ (a - b) ^ 2 := sq_nonneg _\n"
    "  nlinarith [sq_nonneg (a + b)]\n"
    "  simp"
)
# Lines: 1-7 header (its last line blank), 8 theorem, 9 have, 10 nlinarith, 11 simp.


def error(line, col, end_line, end_col, text):
    return LeanMessage("error", line, col, text, end_line, end_col)


def lean_error(*messages, goals=()):
    return Verdict(VerdictKind.LEAN_ERROR, messages=messages, checked_file=CHECKED, goals=goals)


def test_lean_errors_are_shown_goedel_style_with_position_and_marker():
    verdict = lean_error(
        error(10, 2, 10, 31, "linarith failed to find a contradiction"),
        goals=("a b : ℝ\nh : a = b\n⊢ a ^ 2 + b ^ 2 ≥ 2 * a * b",),
    )
    message = repair_message(verdict, 1, 8)
    assert message["role"] == "user"
    text = message["content"]
    assert text.startswith(
        "The proof (Round 0) is not correct. Following is the compilation error message, where "
        "we use <error></error> to signal the position of the error.\n\n"
    )
    assert "Error 1 (line 10, column 2):" in text
    assert (
        "Corresponding Code:\n```lean4\nopen BigOperators Real Nat Topology Rat\n\n"
        "theorem t (a b : ℝ) (h : a = b) : a ^ 2 + b ^ 2 ≥ 2 * a * b := by\n"
        "  have h1 : 0 ≤ (a - b) ^ 2 := sq_nonneg _\n"
        "  <error>nlinarith [sq_nonneg (a + b)]</error>\n"
        "  simp\n```"
    ) in text
    assert "Error Message: linarith failed to find a contradiction" in text
    assert "⊢ a ^ 2 + b ^ 2 ≥ 2 * a * b" in text
    assert text.endswith(
        "Before producing the Lean 4 code to formally prove the given theorem, provide a "
        "detailed analysis of the error message."
    )


def test_error_count_is_capped_and_warnings_are_left_out():
    messages = [error(11, 2, 11, 6, f"problem {i}") for i in range(5)]
    messages.append(LeanMessage("warning", 9, 2, "unused variable"))
    text = repair_message(lean_error(*messages), 2, 3)["content"]
    assert "The proof (Round 1)" in text
    assert "Error 3 " in text and "Error 4 " not in text
    assert "... [Omitted 2 more errors] ..." in text
    assert "unused variable" not in text


def test_error_without_end_marks_to_end_of_line_and_long_spans_are_cut():
    text = repair_message(lean_error(LeanMessage("error", 11, 2, "simp made no progress")), 1, 8)
    assert "  <error>simp</error>" in text["content"]
    long_file = "theorem t : True := by\n" + "\n".join(f"  tac{i}" for i in range(20))
    verdict = Verdict(
        VerdictKind.LEAN_ERROR,
        messages=(error(2, 2, 15, 7, "unsolved goals"),),
        checked_file=long_file,
    )
    content = repair_message(verdict, 1, 8)["content"]
    assert "... --[Truncated]-- ..." in content and "tac10" not in content


def test_code_argument_overrides_the_checked_file():
    verdict = Verdict(VerdictKind.LEAN_ERROR, messages=(error(1, 0, 1, 3, "bad"),))
    content = repair_message(verdict, 1, 8, code="foo bar")["content"]
    assert "<error>foo</error> bar" in content


def test_sorry_rejected_and_missing_proofs_are_fed_back_in_words():
    sorry = Verdict(VerdictKind.SORRY, goals=("x : ℕ\n⊢ x + 0 = x",), checked_file=CHECKED)
    text = repair_message(sorry, 1, 8)["content"]
    assert "`sorry`" in text and "⊢ x + 0 = x" in text

    rejected = Verdict(VerdictKind.REJECTED, rule="apply?", where="apply?")
    text = repair_message(rejected, 1, 8)["content"]
    assert "rejected before checking" in text and "`apply?`" in text

    missing = Verdict(VerdictKind.NO_PROOF, detail="no Lean code block in the answer")
    text = repair_message(missing, 1, 8)["content"]
    assert "(no Lean code block in the answer)" in text and "```lean4" in text

    assert "length limit" in repair_message(Verdict(VerdictKind.TRUNCATED), 1, 8)["content"]
    assert "time limit" in repair_message(Verdict(VerdictKind.TIMEOUT), 1, 8)["content"]
