"""Budgets: tokens, cost, stop_on_success; what an answer cost."""

from __future__ import annotations

import pytest

from harness.budget import Budget, price
from harness.config import load_config
from harness.types import Answer, Attempt


def test_the_endpoint_s_cost_wins_then_configured_prices_else_unknown():
    answer = Answer(text="", prompt_tokens=1_000, completion_tokens=3_000)
    plain = load_config().prover
    assert price(answer, plain) is None
    priced = load_config(
        None, ["prover.price_prompt_per_mtok=2", "prover.price_completion_per_mtok=10"]
    ).prover
    assert price(answer, priced) == pytest.approx((1_000 * 2 + 3_000 * 10) / 1e6)
    assert price(Answer(text="", cost=0.5, prompt_tokens=9), priced) == 0.5


def test_a_budget_counts_the_record_and_every_answer_since():
    search = load_config(None, ["search.max_tokens=100", "search.max_cost=1.0"]).search
    spent = [
        Attempt("p", 0, 0, "proved", prompt_tokens=30, completion_tokens=20, cost=0.25),
        Attempt("p", 1, 0, "no_proof", prompt_tokens=10, cost=None),
    ]
    budget = Budget.of(search, spent)
    assert (budget.tokens, budget.cost) == (60, 0.25)
    assert budget.exhausted() is None
    budget.spend(40, None)
    assert budget.exhausted() == "token budget reached (100 >= search.max_tokens 100)"
    budget = Budget.of(search)
    budget.spend(1, 1.0)
    assert budget.exhausted() == "cost budget reached ($1.0000 >= search.max_cost $1.0)"


def test_no_budget_never_runs_out():
    budget = Budget.of(load_config().search)
    budget.spend(10**12, 10.0**6)
    assert budget.exhausted() is None


def test_stop_on_success_wants_no_more_of_a_proved_problem():
    assert Budget().wants(problem_proved=True) and Budget().wants(problem_proved=False)
    budget = Budget.of(load_config(None, ["search.stop_on_success=true"]).search)
    assert not budget.wants(problem_proved=True) and budget.wants(problem_proved=False)
