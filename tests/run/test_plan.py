"""Planning from the record: what remains of each sample and problem; budgets."""

from __future__ import annotations

import pytest

from harness.config import load_config
from harness.plan import Budget, Plan, SampleWork, price, problem_work, sample_work
from harness.record import IndexEntry
from harness.types import Answer, Attempt
from harness.types import VerdictKind as V


def rounds(*verdicts: V, ended: int | None = None) -> dict[int, IndexEntry]:
    """A sample's recorded rounds 0, 1, ...; offsets 100 * (round + 1)."""
    return {r: IndexEntry(100 * (r + 1), v, ends_sample=r == ended) for r, v in enumerate(verdicts)}


def test_a_new_sample_starts_at_round_zero():
    assert sample_work(3, {}, rounds=2) == SampleWork(3, 0, ())


def test_a_sample_continues_after_its_failed_rounds_with_them_as_its_conversation():
    assert sample_work(0, rounds(V.LEAN_ERROR), 3) == SampleWork(0, 1, (100,))
    assert sample_work(0, rounds(V.SORRY, V.NO_PROOF), 3) == SampleWork(0, 2, (100, 200))


def test_a_sample_is_finished_by_a_proof_by_its_last_round_or_when_ended_early():
    assert sample_work(0, rounds(V.PROVED), 3) is None
    assert sample_work(0, rounds(V.LEAN_ERROR, V.PROVED), 3) is None
    assert sample_work(0, rounds(V.LEAN_ERROR, V.TRUNCATED), 2) is None
    assert sample_work(0, rounds(V.LEAN_ERROR, V.TRUNCATED, ended=1), 3) is None


def test_an_infrastructure_failure_is_retried_not_repair_material():
    assert sample_work(0, rounds(V.PROVER_ERROR), 2) == SampleWork(0, 0, ())
    assert sample_work(0, rounds(V.LEAN_ERROR, V.PROVER_ERROR), 2) == SampleWork(0, 1, (100,))
    # a failed check: the round's answer is recorded, to be checked again, not asked again
    assert sample_work(0, rounds(V.CHECKER_ERROR), 2) == SampleWork(0, 0, (), recheck=100)
    assert sample_work(0, rounds(V.LEAN_ERROR, V.CHECKER_ERROR), 2) == SampleWork(
        0, 1, (100,), recheck=200
    )


def test_a_missing_round_is_where_the_sample_goes_on():
    # round 1 was lost (e.g. a torn last line): it is run again, round 2's line is superseded
    recorded = {0: IndexEntry(100, V.LEAN_ERROR), 2: IndexEntry(300, V.SORRY)}
    assert sample_work(0, recorded, 3) == SampleWork(0, 1, (100,))


def test_a_problem_lists_the_samples_with_work_left():
    recorded = {0: rounds(V.PROVED), 2: rounds(V.LEAN_ERROR)}
    assert problem_work(recorded, samples=4, rounds=2) == [
        SampleWork(1, 0),
        SampleWork(2, 1, (100,)),
        SampleWork(3, 0),
    ]
    # stop_on_success: a proved problem has nothing left
    assert problem_work(recorded, samples=4, rounds=2, stop_on_success=True) == []
    # samples beyond search.samples (a run continued with fewer, --force) are not drawn
    assert problem_work({2: rounds(V.LEAN_ERROR)}, samples=2, rounds=2) == [
        SampleWork(0, 0),
        SampleWork(1, 0),
    ]


def test_the_plan_groups_the_index_by_problem():
    last = {
        ("p", 0, 0): IndexEntry(0, V.LEAN_ERROR),
        ("p", 0, 1): IndexEntry(10, V.PROVED),
        ("q", 1, 0): IndexEntry(20, V.CHECKER_ERROR),
    }
    plan = Plan(last, samples=2, rounds=2)
    assert plan.work("p") == [SampleWork(1, 0)]
    assert plan.work("q") == [SampleWork(0, 0), SampleWork(1, 0, recheck=20)]
    assert plan.work("new") == [SampleWork(0, 0), SampleWork(1, 0)]
    assert plan.proved("p") and not plan.proved("q") and not plan.proved("new")
    assert Plan(last, samples=2, rounds=2, stop_on_success=True).work("p") == []
    search = load_config(None, ["search.samples=3", "search.repair_rounds=2"]).search
    plan = Plan.of(last, search)
    assert (plan.samples, plan.rounds, plan.stop_on_success) == (3, 3, False)


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
