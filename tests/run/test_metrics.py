"""pass@k and the summary's aggregates."""

from __future__ import annotations

import math

import pytest

from harness.metrics import (
    aggregate_pass_at,
    category_of,
    ks_for,
    mean_std,
    pass_at_k,
    problem_outcomes,
    problem_pass_at,
    side_by_side,
    summarize,
)
from harness.types import Attempt


def exact(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (4, 1, 1, 0.25),
        (4, 1, 2, 0.5),
        (4, 1, 4, 1.0),
        (4, 0, 4, 0.0),
        (10, 3, 5, 1 - 21 / 252),
        (5, 5, 1, 1.0),
        (8, 2, 7, 1.0),  # n - c < k
    ],
)
def test_pass_at_k_known_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_matches_binomials_and_stays_stable_for_large_n():
    for n in range(1, 21):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(exact(n, c, k), abs=1e-9)
    # C(8192, 1024) overflows a float; the product form does not.
    assert pass_at_k(8192, 1, 1) == pytest.approx(1 / 8192)
    assert 0.0 < pass_at_k(8192, 3, 1024) < 1.0


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_ks_are_powers_of_two_up_to_n_and_n():
    assert ks_for(1) == [1]
    assert ks_for(4) == [1, 2, 4]
    assert ks_for(6) == [1, 2, 4, 6]
    assert ks_for(32) == [1, 2, 4, 8, 16, 32]


def test_categories_follow_minif2f_prefixes():
    assert category_of("mathd_algebra_478") == "mathd_algebra"
    assert category_of("mathd_numbertheory_5") == "mathd_numbertheory"
    assert category_of("amc12a_2019_p21") == "amc12"
    assert category_of("aime_1983_p1") == "aime"
    assert category_of("imo_1959_p1") == "imo"
    assert category_of("induction_12dvd4expnp1p20") == "induction"
    assert category_of("algebra_sqineq_at2malt1") == "algebra"
    assert category_of("numbertheory_2dvd4expn") == "numbertheory"
    assert category_of("putnam_1988_b1") == "other"


def _a(problem, sample, rnd, verdict, split="test", **kw):
    return Attempt(problem=problem, sample=sample, round=rnd, verdict=verdict, split=split, **kw)


def test_summarize_counts_samples_with_a_proof_in_any_round():
    attempts = [
        # p1: sample 0 proved after a repair, sample 1 proved at once, samples 2-3 fail
        _a("mathd_algebra_1", 0, 0, "lean_error", prompt_tokens=10, completion_tokens=5),
        _a("mathd_algebra_1", 0, 1, "proved", prompt_tokens=20, completion_tokens=5, cost=0.5),
        _a("mathd_algebra_1", 1, 0, "proved"),
        _a("mathd_algebra_1", 2, 0, "sorry"),
        _a("mathd_algebra_1", 2, 1, "no_proof"),
        # p2: nothing proved
        _a("imo_1959_p1", 0, 0, "timeout", split="valid"),
    ]
    s = summarize(
        attempts,
        [("mathd_algebra_1", "test"), ("imo_1959_p1", "valid"), ("aime_x", "test")],
        "smoke",
        4,
    )
    assert (s.problems, s.proved, s.attempts) == (3, 1, 6)
    # p1: n=4, c=2; p2 and p3 (never attempted): c=0
    for k in (1, 2, 4):
        assert s.pass_at[str(k)] == pytest.approx(exact(4, 2, k) / 3)
    assert s.by_verdict["proved"] == 2 and s.by_verdict["lean_error"] == 1
    assert s.by_verdict["checker_error"] == 0
    assert (s.prompt_tokens, s.completion_tokens, s.cost) == (30, 10, 0.5)
    assert s.by_split["test"]["problems"] == 2 and s.by_split["test"]["proved"] == 1
    assert s.by_split["valid"]["pass_at"]["1"] == 0.0
    assert s.by_category["mathd_algebra"]["pass_at"]["1"] == pytest.approx(0.5)
    assert set(s.by_category) == {"mathd_algebra", "imo", "aime"}


def test_mean_and_std_over_runs():
    assert mean_std([0.5]) == (0.5, 0.0)
    mean, std = mean_std([0.2, 0.4])
    assert mean == pytest.approx(0.3) and std == pytest.approx(math.sqrt(0.02))
    a = summarize([_a("p", 0, 0, "proved")], ["p"], "s", 2)
    b = summarize([_a("p", 0, 0, "lean_error")], ["p"], "s", 2)
    agg = aggregate_pass_at([a, b])
    assert list(agg) == ["1", "2"]
    assert agg["1"][0] == pytest.approx(0.25)


def test_stop_on_success_reports_only_the_exact_pass_at_n():
    attempts = [_a("p", 0, 0, "lean_error"), _a("p", 1, 0, "proved")]
    s = summarize(attempts, [("p", "test"), ("q", "valid")], "s", 4, stop_on_success=True)
    assert s.pass_at == {"4": 0.5}  # solved within 4 samples: 1 of 2
    assert s.by_split["test"]["pass_at"] == {"4": 1.0}


def test_side_by_side_lists_each_problem_in_each_run():
    run_a = problem_outcomes([_a("p", 0, 0, "proved"), _a("q", 0, 0, "sorry")], [("r", "valid")])
    run_b = problem_outcomes([_a("q", 0, 0, "proved"), _a("q", 1, 0, "proved")])
    rows = side_by_side([run_a, run_b])
    assert [name for name, _, _ in rows] == ["p", "q", "r"]
    (p_split, p_runs), (q_split, q_runs), (r_split, r_runs) = ((s, o) for _, s, o in rows)
    assert p_split == "test" and r_split == "valid"
    assert p_runs[0].c == 1 and p_runs[1] is None  # run b never covered p
    assert [po.c for po in q_runs] == [0, 2]
    assert r_runs[0].c == 0 and r_runs[1] is None


def test_problem_pass_at_averages_to_the_run_pass_at():
    attempts = [
        _a("p", 0, 0, "proved"),
        _a("p", 1, 0, "lean_error"),
        _a("p", 2, 1, "proved"),
        _a("q", 3, 0, "proved"),
    ]
    names = [("p", "test"), ("q", "test"), ("r", "test")]
    s = summarize(attempts, names, "s", 4)
    outcomes = problem_outcomes(attempts, names)
    for k, value in s.pass_at.items():
        terms = [problem_pass_at(po, 4, [k])[k] for po in outcomes.values()]
        assert sum(terms) / len(terms) == pytest.approx(value)
    assert problem_pass_at(outcomes["p"], 4, ["1", "4"]) == {"1": 0.5, "4": 1.0}
    assert problem_pass_at(outcomes["r"], 4, [1]) == {"1": 0.0}


def test_problem_outcomes_count_deciding_proofs_and_what_each_problem_spent():
    attempts = [
        _a("p", 0, 0, "sorry", stage="sketch", rule="sketch", prompt_tokens=7, lean_checks=1),
        _a("p", 0, 0, "proved", stage="subgoal", sketch=0, subgoal=0, subsample=0, cost=0.5),
        _a("p", 0, 0, "lean_error", stage="compose", sketch=0, lean_checks=1),
        _a("q", 0, 0, "prover_error"),
        _a("q", 1, 0, "proved", completion_tokens=3, lean_checks=2),
    ]
    out = problem_outcomes(attempts)
    p, q = out["p"], out["q"]
    assert (p.c, p.first_proof, p.attempts) == (0, None, 3)  # the subgoal proves nothing
    assert (p.calls, p.decomposer_calls, p.tokens, p.cost, p.lean_checks) == (2, 1, 7, 0.5, 2)
    assert (q.c, q.first_proof.sample, q.calls, q.tokens, q.cost) == (1, 1, 1, 3, None)
