"""pass@k and the run's aggregates, computed from attempt records; pure.

For each problem, n = `search.samples` and c = the samples with a proved round (any round);
pass@k is the unbiased estimator 1 - C(n-c, k)/C(n, k) of Chen et al. (2021), in human-eval's
numerically stable product form, averaged over problems, for k = 1, 2, 4, ... up to n (and n
itself). A repair round is part of its sample: pass@k counts samples, not rounds; tokens are
reported beside it. Problems the run never reached count as c = 0.

Only lines that decide a problem (`Attempt.decides`: whole proofs and composed proofs) make it
proved; a proved subgoal or an accepted sketch never does. Budgets count every line: what a run
spent (model calls, tokens, cost, Lean checks) is what comparisons of search strategies put on
their x axis, and `BudgetCurve` gives solved problems against it in completion order.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from harness.types import Attempt, Summary, VerdictKind

__all__ = [
    "CATEGORIES",
    "ProblemOutcome",
    "BUDGET_KEYS",
    "BudgetCurve",
    "model_call",
    "pass_at_k",
    "ks_for",
    "category_of",
    "problem_outcomes",
    "summarize",
    "mean_std",
    "aggregate_pass_at",
    "problem_pass_at",
    "side_by_side",
    "format_duration",
]


def format_duration(seconds: float | None) -> str:
    """The one way times are shown (progress, report.md, report.html): `12.3 s`, `4m05s`,
    `1h02m03s`; `-` when unknown."""
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(int(seconds), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m{s:02d}s" if hours else f"{m}m{s:02d}s"


# miniF2F's source categories, as name prefixes; the longest matching prefix wins.
CATEGORIES = (
    "mathd_algebra",
    "mathd_numbertheory",
    "amc12",
    "aime",
    "imo",
    "induction",
    "algebra",
    "numbertheory",
)
OTHER = "other"


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k)/C(n, k): the chance that k of n samples, c of them correct, hold a proof."""
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    # human-eval: 1 - prod(1 - k / arange(n - c + 1, n + 1)); no large binomials.
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def ks_for(n: int) -> list[int]:
    """k = 1, 2, 4, ... up to n, and n itself."""
    ks = []
    k = 1
    while k <= n:
        ks.append(k)
        k *= 2
    if n >= 1 and ks[-1] != n:
        ks.append(n)
    return ks


def category_of(name: str) -> str:
    """miniF2F's category of a problem name (`mathd_algebra_478` -> `mathd_algebra`)."""
    best = ""
    for prefix in CATEGORIES:
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return best or OTHER


# The per-problem budget keys of `Summary.per_problem` / `per_solved`.
BUDGET_KEYS = ("calls", "tokens", "cost", "lean_checks")


def model_call(a: Attempt) -> str | None:
    """Which model this line asked, "prover" or "decomposer"; None when it counts as no call."""
    if a.stage == "compose":  # the composed proof is only checked: no model was asked
        return None
    # A prover_error line is a request that failed (retries exhausted): no answer was bought, and
    # the next run retries the round, whose line supersedes this one. Not a call; its tokens
    # (normally 0) still count.
    if a.verdict is VerdictKind.PROVER_ERROR:
        return None
    return "decomposer" if a.stage == "sketch" else "prover"


@dataclass
class ProblemOutcome:
    name: str
    split: str | None
    c: int = 0  # samples with a proved deciding line (a whole or composed proof)
    attempts: int = 0  # lines: rounds, or a decomposed problem's sketch/subgoal/compose lines
    first_proof: Attempt | None = None  # the earliest deciding (sample, round) that proved it
    # what the problem's lines spent (model calls as `model_call` counts them)
    calls: int = 0  # prover and decomposer
    decomposer_calls: int = 0
    tokens: int = 0
    cost: float | None = None  # None: no line priced
    lean_checks: int = 0

    @property
    def proved(self) -> bool:
        return self.c > 0


def problem_outcomes(
    attempts: Iterable[Attempt], problems: Iterable[tuple[str, str | None]] = ()
) -> dict[str, ProblemOutcome]:
    """Per problem: proved samples and rounds. `problems` lists (name, split) the run covered,
    so problems without any attempt appear too."""
    out: dict[str, ProblemOutcome] = {
        name: ProblemOutcome(name=name, split=split) for name, split in problems
    }
    proved_samples: dict[str, set[int]] = {}
    for a in attempts:
        po = out.get(a.problem)
        if po is None:
            po = out[a.problem] = ProblemOutcome(name=a.problem, split=a.split)
        po.attempts += 1
        call = model_call(a)
        po.calls += call is not None
        po.decomposer_calls += call == "decomposer"
        po.tokens += a.prompt_tokens + a.completion_tokens
        po.lean_checks += a.lean_checks
        if a.cost is not None:
            po.cost = (po.cost or 0.0) + a.cost
        if a.verdict == VerdictKind.PROVED and a.decides:  # a proved subgoal proves no problem
            proved_samples.setdefault(a.problem, set()).add(a.sample)
            if po.first_proof is None or (a.sample, a.round) < (
                po.first_proof.sample,
                po.first_proof.round,
            ):
                po.first_proof = a
    for name, samples in proved_samples.items():
        out[name].c = len(samples)
    return out


def _pass_at(
    outcomes: Sequence[ProblemOutcome], samples: int, ks: Sequence[int] | None = None
) -> dict[str, float]:
    if not outcomes or samples < 1:
        return {}
    return {
        str(k): sum(pass_at_k(samples, min(po.c, samples), k) for po in outcomes) / len(outcomes)
        for k in (ks or ks_for(samples))
    }


def _group(
    outcomes: Sequence[ProblemOutcome], samples: int, ks: Sequence[int] | None = None
) -> dict[str, object]:
    return {
        "problems": len(outcomes),
        "proved": sum(po.proved for po in outcomes),
        "pass_at": _pass_at(outcomes, samples, ks),
    }


def _per(totals: Mapping[str, float | None], n: int) -> dict[str, float | None]:
    """The budget totals divided by n (None when n is 0, or the total is unknown)."""
    out: dict[str, float | None] = {}
    for key in BUDGET_KEYS:
        total = totals[key]
        out[key] = None if n == 0 or total is None else round(total / n, 6)
    return out


@dataclass
class BudgetCurve:
    """Solved problems against what the run spent, in completion order (the effective lines in
    file order). A problem is solved at its first deciding proved line. `points` holds
    (calls, tokens, solved) after each line that solved a problem, from (0, 0, 0); between
    points solved is constant (a step function); `calls`, `tokens` and `solved` are the totals.
    """

    points: list[tuple[int, int, int]] = field(default_factory=lambda: [(0, 0, 0)])
    calls: int = 0
    tokens: int = 0
    _solved: set[str] = field(default_factory=set, repr=False)

    @property
    def solved(self) -> int:
        return len(self._solved)

    def add(self, a: Attempt) -> None:
        self.calls += model_call(a) is not None
        self.tokens += a.prompt_tokens + a.completion_tokens
        if a.verdict is VerdictKind.PROVED and a.decides and a.problem not in self._solved:
            self._solved.add(a.problem)
            self.points.append((self.calls, self.tokens, self.solved))

    def follow(self, attempts: Iterable[Attempt]) -> Iterator[Attempt]:
        """The attempts, unchanged, adding each on the way (one pass serves several readers)."""
        for a in attempts:
            self.add(a)
            yield a

    def steps(self, axis: str) -> tuple[list[int], list[int]]:
        """(x, solved) for plotting as steps, x = "calls" or "tokens", ending at the totals."""
        i = 0 if axis == "calls" else 1
        xs = [p[i] for p in self.points] + [self.calls if i == 0 else self.tokens]
        ys = [p[2] for p in self.points] + [self.solved]
        return xs, ys

    def solved_within(self, budget: float, axis: str) -> int:
        """Problems solved by the time the run had spent at most `budget` calls or tokens."""
        i = 0 if axis == "calls" else 1
        at = bisect.bisect_right([p[i] for p in self.points], budget)
        return self.points[at - 1][2] if at else 0


def summarize(
    attempts: Iterable[Attempt],
    problems: Iterable[tuple[str, str | None]] | Iterable[str],
    suite_name: str,
    samples: int,
    *,
    complete: bool = True,
    stop_on_success: bool = False,
    strategy: str = "whole",
) -> Summary:
    """The run's numbers from its (effective) attempt records, in one pass over them.

    `problems`: the problems the run covers, as names or (name, split) pairs. With
    `stop_on_success` a problem's later samples were never drawn, so only pass@n (solved
    within n samples) is exact, and only it is reported. `strategy` is the run's
    search.strategy, recorded beside its budget.
    """
    ks = [samples] if stop_on_success and samples >= 1 else None
    pairs = [(p, None) if isinstance(p, str) else (p[0], p[1]) for p in problems]
    totals = Counter()
    by_verdict: Counter[str] = Counter()
    by_stage: dict[str, Counter[str]] = {}
    costs: list[float] = []

    def counted(stream: Iterable[Attempt]) -> Iterator[Attempt]:
        for a in stream:
            totals["attempts"] += 1
            totals["prompt_tokens"] += a.prompt_tokens
            totals["completion_tokens"] += a.completion_tokens
            totals["prover_s"] += a.prover_s
            totals["check_s"] += a.check_s
            totals["lean_checks"] += a.lean_checks
            call = model_call(a)
            if call is not None:
                totals[f"{call}_calls"] += 1
            by_verdict[a.verdict] += 1
            by_stage.setdefault(a.stage, Counter())[a.verdict.value] += 1
            if a.cost is not None:
                costs.append(a.cost)
            yield a

    values = list(problem_outcomes(counted(attempts), pairs).values())
    by_split: dict[str, list[ProblemOutcome]] = {}
    by_category: dict[str, list[ProblemOutcome]] = {}
    for po in values:
        by_split.setdefault(po.split or "-", []).append(po)
        by_category.setdefault(category_of(po.name), []).append(po)
    proved = sum(po.proved for po in values)
    cost = round(sum(costs), 6) if costs else None
    spent: dict[str, float | None] = {
        "calls": totals["prover_calls"] + totals["decomposer_calls"],
        "tokens": totals["prompt_tokens"] + totals["completion_tokens"],
        "cost": cost,
        "lean_checks": totals["lean_checks"],
    }

    return Summary(
        suite=suite_name,
        problems=len(values),
        proved=proved,
        attempts=totals["attempts"],
        pass_at=_pass_at(values, samples, ks),
        by_verdict={kind.value: by_verdict[kind.value] for kind in VerdictKind},
        samples=samples,
        prompt_tokens=totals["prompt_tokens"],
        completion_tokens=totals["completion_tokens"],
        cost=cost,
        prover_s=round(totals["prover_s"], 3),
        check_s=round(totals["check_s"], 3),
        by_split={k: _group(v, samples, ks) for k, v in sorted(by_split.items())},
        by_category={k: _group(v, samples, ks) for k, v in sorted(by_category.items())},
        complete=complete,
        strategy=strategy,
        prover_calls=totals["prover_calls"],
        decomposer_calls=totals["decomposer_calls"],
        lean_checks=totals["lean_checks"],
        by_stage={stage: dict(sorted(c.items())) for stage, c in sorted(by_stage.items())},
        per_problem=_per(spent, len(values)),
        per_solved=_per(spent, proved),
    )


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    if not values:
        return (math.nan, math.nan)
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return (mean, std)


def aggregate_pass_at(summaries: Sequence[Summary]) -> dict[str, tuple[float, float]]:
    """pass@k as mean ± std over repeated runs, for the k every run reports."""
    if not summaries:
        return {}
    common = set(summaries[0].pass_at)
    for s in summaries[1:]:
        common &= set(s.pass_at)
    return {
        k: mean_std([s.pass_at[k] for s in summaries]) for k in sorted(common, key=lambda x: int(x))
    }


def problem_pass_at(po: ProblemOutcome, samples: int, ks: Iterable[str | int]) -> dict[str, float]:
    """One problem's pass@k (its term in the run's average): a run's pass@k is the mean of
    these over its problems."""
    if samples < 1:
        return {}
    return {str(k): pass_at_k(samples, min(po.c, samples), int(k)) for k in ks}


def side_by_side(
    runs: Sequence[Mapping[str, ProblemOutcome]],
) -> list[tuple[str, str | None, list[ProblemOutcome | None]]]:
    """Several runs' problems, by name: (name, split, its outcome in each run, None where a
    run did not cover it). The split is the first run's that has the problem."""
    names: dict[str, str | None] = {}
    for outcomes in runs:
        for name, po in outcomes.items():
            if names.get(name) is None:
                names[name] = po.split
    return [(name, names[name], [o.get(name) for o in runs]) for name in sorted(names)]
