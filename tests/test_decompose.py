"""From Lean's goal at a hole to the prover's lemma, and the prover's proof back into the
sketch (harness/decompose.py's pure parts; the run is tests/run/test_decompose_run.py)."""

from __future__ import annotations

import re

import pytest

from harness.config import load_config
from harness.decompose import Subgoal, compose, decomposer_config, subgoal_problem
from harness.errors import ConfigError
from harness.types import Candidate, Hole, Problem

PROBLEM = Problem(name="p#2", header="", statement="theorem p (n : ℕ) : (n : ℤ) = n :=")


def test_a_goal_becomes_a_lemma_with_every_hypothesis_as_a_binder():
    goal = "x y : ℕ\nh₀ : x + y = 10\nh1 : x = 5\n⊢ y = 5"
    sub = subgoal_problem(PROBLEM, 1, goal)
    assert sub.problem.statement == (
        "theorem p_subgoal_2\n    (x y : ℕ)\n    (h₀ : x + y = 10)\n    (h1 : x = 5) :\n"
        "    y = 5 :="
    )
    assert sub.problem.decl_name == "p_subgoal_2" and sub.renames == ()


def test_inaccessible_names_get_fresh_names_everywhere_and_in_order():
    # Lean prints hygienic and instance names it would not read back: `x✝¹`, `inst✝`
    goal = "α : Type u_1\ninst✝ : Fintype α\nx✝¹ x✝ : ℕ\nx_1 : ℕ\nh : ↑x_1 = x✝\n⊢ ↑x✝¹ = x✝"
    sub = subgoal_problem(PROBLEM, 0, goal)
    # the context's own `x_1` is taken: the fresh names avoid it
    assert sub.renames == ("inst_1", "x_2", "x_3")
    statement = sub.problem.statement
    assert "[inst_1 : Fintype α]" in statement and "(x_2 x_3 : ℕ)" in statement
    assert "(h : ↑x_1 = x_3)" in statement and "↑x_2 = x_3 :=" in statement
    assert "✝" not in statement


def test_a_let_hypothesis_keeps_its_value_unless_lean_hid_it():
    sub = subgoal_problem(PROBLEM, 0, "n : ℕ := 5\nm : ℕ := ⋯\n⊢ n = m")
    assert "(n : ℕ := 5)" in sub.problem.statement and "(m : ℕ)" in sub.problem.statement


def test_text_that_is_not_a_goal_still_gives_a_lemma():
    sub = subgoal_problem(PROBLEM, 0, "garbage ⊢ True")
    assert sub.problem.statement == "theorem p_subgoal_1 : True :="


SKETCH = (
    "by\n"
    "  have h : x = 1 := by sorry\n"  # tactic position after `by`
    "  have k : y := sorry\n"  # term position
    "  sorry"  # a tactic of its own
)


def holes(text: str) -> list[Hole]:
    return [Hole(m.start(), m.end(), "⊢ x") for m in re.finditer("sorry", text)]


def test_compose_fills_each_hole_in_the_form_its_position_needs():
    fills = {
        0: (Candidate(proof="by\n  simp\n  ring"), Subgoal(PROBLEM, ("a",))),
        1: (Candidate(proof="foo.symm", aux="lemma foo : 1 = 1 := rfl\n"), Subgoal(PROBLEM, ())),
        2: (Candidate(proof="by omega -- the rest"), Subgoal(PROBLEM, ())),
    }
    out = compose(Candidate(proof=SKETCH, aux="def d := 1\n"), holes(SKETCH), fills)
    assert out.proof == (
        "by\n"
        "  have h : x = 1 := by (rename_i a\n"
        "                        simp\n"
        "                        ring)\n"
        "  have k : y := (by exact foo.symm)\n"
        "  (omega -- the rest\n"
        "   )"
    )
    assert out.aux == "def d := 1\nlemma foo : 1 = 1 := rfl\n"


def test_decomposer_settings_default_to_the_provers():
    config = load_config(None, {"prover": {"model": "m", "temperature": 0.6}})
    d = decomposer_config(config)
    assert (d.model, d.temperature, d.base_url) == ("m", 0.6, config.prover.base_url)
    config = load_config(
        None,
        {
            "prover": {"price_prompt_per_mtok": 1.0, "price_completion_per_mtok": 2.0},
            "decomposer": {"model": "v3", "temperature": 0.0, "price_completion_per_mtok": 1.1},
        },
    )
    d = decomposer_config(config)
    assert (d.model, d.temperature) == ("v3", 0.0)
    assert (d.price_prompt_per_mtok, d.price_completion_per_mtok) == (1.0, 1.1)


def test_an_unknown_strategy_is_a_config_error():
    with pytest.raises(ConfigError, match="search.strategy"):
        load_config(None, {"search": {"strategy": "tree"}})
