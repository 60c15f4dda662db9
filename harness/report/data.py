"""What a report shows, read from one run directory, and the facts both renderers print."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.metrics import (
    BudgetCurve,
    ProblemOutcome,
    aggregate_pass_at,
    problem_outcomes,
    side_by_side,
)
from harness.record import RunHeader, RunRecord, summarize_record
from harness.report.tree import tree_order
from harness.suites.catalogue import CATALOGUE
from harness.types import Attempt, SuiteSource, Summary, VerdictKind

__all__ = [
    "FULL_ROUNDS_PER_PROBLEM",
    "RunData",
    "load_run",
    "header_facts",
    "fmt_pct",
    "recognised_suite",
    "verdict_reason",
    "verdict_counts",
    "first_proof_text",
    "budget_rows",
    "stage_table",
    "STAGES",
    "C_TEXT",
    "fmt_number",
    "Comparison",
    "load_comparison",
]

# Rounds per problem whose answer and proof a report shows (proofs are always shown). A
# decomposition's subgoal lines never keep their text (the report shows each hole's outcome) and
# do not count.
FULL_ROUNDS_PER_PROBLEM = 16

STAGES = ("whole", "sketch", "subgoal", "compose")  # a sample's tree, top to bottom

# what pass@k's c counts, for a run of whole rounds and for a decomposition run
C_TEXT = (
    "samples with a proved round (repair rounds included)",
    "samples whose whole or composed proof was proved (a proved subgoal proves nothing)",
)


@dataclass
class RunData:
    """Everything a report shows, read from one run directory."""

    dir: Path
    header: RunHeader
    config: dict[str, Any]
    summary: Summary
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)  # problem -> its rounds
    outcomes: dict[str, ProblemOutcome] = field(default_factory=dict)
    full: set[tuple[Any, ...]] = field(default_factory=set)  # keys of lines kept with their text
    # solved problems against calls and tokens, in completion order (None: not computed)
    curve: BudgetCurve | None = None

    @property
    def samples(self) -> int:
        return self.summary.samples

    @property
    def suite(self) -> SuiteSource:
        """The suite the run used, named from the catalogue when a path's checksum is one of
        its suites (a copy of minif2f-test given as a path is still minif2f-test)."""
        return recognised_suite(self.header.suite or SuiteSource(self.summary.suite))

    @property
    def suite_name(self) -> str:
        return self.suite.suite or self.summary.suite

    @property
    def wall_s(self) -> float | None:
        return self.header.wall_s


def load_run(
    run_dir: str | os.PathLike[str], with_attempts: bool = True, outcomes: bool = False
) -> RunData:
    """The run as a report shows it. `with_attempts=False` reads only the numbers; with
    `outcomes=True` it still computes each problem's outcome (from the light record)."""
    record = RunRecord(run_dir)
    if not record.exists():
        raise RecordError(f"{run_dir}: not a run directory (no config.yaml or attempts.jsonl)")
    index = record.index()
    summary = summarize_record(record, index=index)
    header = record.read_header()
    data = RunData(
        dir=Path(run_dir), header=header, config=record.read_config() or {}, summary=summary
    )
    if with_attempts:
        data.curve = BudgetCurve()
        kept: dict[str, int] = {}
        for a in data.curve.follow(record.iter_effective(index=index)):
            # Long runs: keep the text of a problem's first rounds and of its proofs; of the
            # others, only the verdict and the first Lean error, so memory stays bounded.
            proof = a.verdict is VerdictKind.PROVED and a.decides
            if proof or (a.stage != "subgoal" and kept.get(a.problem, 0) < FULL_ROUNDS_PER_PROBLEM):
                kept[a.problem] = kept.get(a.problem, 0) + 1
                data.full.add(a.key)
            else:
                errors = [m for m in a.messages if m.get("severity") == "error"]
                a.answer, a.proof, a.goals, a.messages = "", "", [], errors[:1]
            data.attempts.setdefault(a.problem, []).append(a)
        for rounds in data.attempts.values():
            rounds.sort(key=tree_order)
        problems = [(p.name, p.split) for p in header.problems]
        data.outcomes = problem_outcomes(
            (a for rounds in data.attempts.values() for a in rounds), problems
        )
    elif outcomes:
        data.curve = BudgetCurve()
        data.outcomes = problem_outcomes(
            data.curve.follow(record.iter_effective(light=True, index=index)),
            [(p.name, p.split) for p in header.problems],
        )
    return data


@functools.lru_cache(maxsize=1)
def _known_digests() -> dict[str, SuiteSource]:
    """sha256 -> the catalogued suite with that checksum (the built-in smoke suite included)."""
    from harness.suites import smoke_suite  # the smoke suite's digest is of its packaged file

    known = {
        e.sha256: SuiteSource(
            suite=e.name,
            variant=e.variant,
            commit=e.commit,
            sha256=e.sha256,
            lean_toolchain=e.lean_toolchain,
            licence=e.licence,
        )
        for e in CATALOGUE
    }
    smoke = smoke_suite().source
    if smoke.sha256:
        known.setdefault(smoke.sha256, smoke)
    return known


def recognised_suite(source: SuiteSource) -> SuiteSource:
    """`source`, or, when it names a path whose checksum is a catalogued suite's, that suite
    (with its variant and commit; what the record says otherwise is kept)."""
    entry = _known_digests().get(source.sha256 or "")
    if entry is None or source.suite == entry.suite:
        return source
    return replace(
        source,
        suite=entry.suite,
        variant=source.variant or entry.variant,
        commit=source.commit or entry.commit,
        lean_toolchain=source.lean_toolchain or entry.lean_toolchain,
        licence=source.licence or entry.licence,
    )


def _first_line(text: str, limit: int = 200) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def verdict_reason(a: Attempt) -> str:
    """Why a round failed, on one line: the rule and where the screen or audit found it, the
    first Lean error with its line, the detail the harness recorded, or the first open goal."""
    if a.verdict is VerdictKind.PROVED:
        return "with native_decide (trusts the compiler)" if a.native else ""
    parts = []
    if a.rule:
        parts.append(f"rule {a.rule}")
    if a.where:
        parts.append(_first_line(a.where))
    errors = [m for m in a.messages if m.get("severity") == "error"]
    if errors:
        first = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        parts.append(f"line {first.get('line')}: {_first_line(first.get('text', ''))}{more}")
    if a.error:
        parts.append(_first_line(a.error))
    if not parts and a.goals:
        parts.append(f"unsolved goal: {_first_line(a.goals[0])}")
    return "; ".join(parts)


def verdict_counts(rounds: list[Attempt]) -> str:
    """`lean_error 1, proved 2`: a problem's rounds by verdict (the report's "verdicts"); for a
    decomposed problem by stage (`sketch: sorry 1; subgoal: proved 2; compose: proved 1`), so a
    proved subgoal never reads as a proof of the problem."""
    stages: dict[str, dict[str, int]] = {}
    for a in rounds:
        kinds = stages.setdefault(a.stage, {})
        kinds[a.verdict.value] = kinds.get(a.verdict.value, 0) + 1

    def counts(kinds: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))

    if set(stages) <= {"whole"}:
        return counts(stages.get("whole", {})) or "-"
    order = [x for x in STAGES if x in stages] + sorted(set(stages) - set(STAGES))
    return "; ".join(f"{stage}: {counts(stages[stage])}" for stage in order)


def stage_table(by_stage: dict[str, dict[str, int]]) -> tuple[list[str], list[list[Any]]] | None:
    """Lines by verdict (rows) and stage (columns, in tree order), then a total row; None for a
    run of whole rounds only (its plain verdict table says it all)."""
    if set(by_stage) <= {"whole"}:
        return None
    stages = [x for x in STAGES if x in by_stage] + sorted(set(by_stage) - set(STAGES))
    kinds = [k.value for k in VerdictKind if any(by_stage[x].get(k.value) for x in stages)]
    rows: list[list[Any]] = [[k, *(by_stage[x].get(k, 0) for x in stages)] for k in kinds]
    rows.append(["total", *(sum(by_stage[x].values()) for x in stages)])
    return stages, rows


def first_proof_text(po: ProblemOutcome) -> str:
    first = po.first_proof
    if first is None:
        return "-"
    if first.stage == "compose":
        return f"sample {first.sample}, composed (sketch round {first.sketch})"
    return f"sample {first.sample}, round {first.round}"


def fmt_number(value: float | None, money: bool = False) -> str:
    """A budget figure: `-` when unknown, `$0.0123` for money, `1,234` or `12.5` otherwise."""
    if value is None:
        return "-"
    if money:
        return f"${value:.4f}"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def budget_rows(s: Summary) -> list[tuple[str, str, str, str]]:
    """The run's budget as (what, total, mean per problem, per solved problem) rows: what a
    comparison of strategies at equal budget needs. Per solved: the total over the problems
    proved (`-` when none)."""
    tokens = s.prompt_tokens + s.completion_tokens
    per, solved = s.per_problem, s.per_solved
    rows = [
        (
            "model calls",
            f"{fmt_number(s.prover_calls + s.decomposer_calls)} "
            f"(prover {s.prover_calls:,}, decomposer {s.decomposer_calls:,})",
            "calls",
        ),
        (
            "tokens",
            f"{fmt_number(tokens)} (prompt {s.prompt_tokens:,}, completion {s.completion_tokens:,})",
            "tokens",
        ),
        ("cost", fmt_number(s.cost, money=True), "cost"),
        ("Lean checks", fmt_number(s.lean_checks), "lean_checks"),
    ]
    return [
        (
            label,
            total,
            fmt_number(per.get(key), money=key == "cost"),
            fmt_number(solved.get(key), money=key == "cost"),
        )
        for label, total, key in rows
    ]


@dataclass
class Comparison:
    """Several runs side by side: each run, pass@k as (mean, std) over them for the k every run
    reports, and each problem's outcome in each run (None: that run did not cover it)."""

    runs: list[RunData]
    agg: dict[str, tuple[float, float]]
    problems: list[tuple[str, str | None, list[ProblemOutcome | None]]]

    @property
    def labels(self) -> list[str]:
        """A short name per run: its directory's name, or the path when names repeat."""
        names = [r.dir.name or str(r.dir) for r in self.runs]
        if len(set(names)) == len(names):
            return names
        return [str(r.dir) for r in self.runs]

    @property
    def ks(self) -> list[str]:
        """Every k some run reports, in order (columns of the per-run tables)."""
        ks = {k for r in self.runs for k in r.summary.pass_at}
        return sorted(ks, key=int)

    def budget_points(self, axis: str) -> list[int]:
        """Where to read the runs at equal budget: a quarter, half, three quarters and all of
        the smaller run's total calls or tokens (only what every run spent compares fairly)."""
        totals = [
            (r.curve.calls if axis == "calls" else r.curve.tokens) for r in self.runs if r.curve
        ]
        smaller = min(totals, default=0)
        if smaller <= 0:
            return []
        return sorted({max(1, round(smaller * q / 4)) for q in (1, 2, 3, 4)})

    def solved_at(self, axis: str) -> list[tuple[int, list[int | None]]]:
        """(budget, solved problems per run at that budget) for each of `budget_points`."""
        return [
            (x, [r.curve.solved_within(x, axis) if r.curve else None for r in self.runs])
            for x in self.budget_points(axis)
        ]


def load_comparison(dirs: list[str | os.PathLike[str]]) -> Comparison:
    runs = [load_run(d, with_attempts=False, outcomes=True) for d in dirs]
    return Comparison(
        runs=runs,
        agg=aggregate_pass_at([r.summary for r in runs]),
        problems=side_by_side([r.outcomes for r in runs]),
    )


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _search_fact(search: dict[str, Any], strategy: str) -> str:
    stop = ", stop on success" if search.get("stop_on_success") else ""
    if strategy != "decompose":
        rounds = search.get("repair_rounds")
        return f"{search.get('samples')} samples x (1 + {rounds} repair rounds){stop}"
    return (
        f"decompose: {search.get('samples')} samples, each a sketch of up to "
        f"1 + {search.get('sketch_repair_rounds')} rounds whose holes get "
        f"{search.get('subgoal_samples')} samples x (1 + {search.get('subgoal_repair_rounds')} "
        f"repair rounds){stop}"
    )


def header_facts(data: RunData) -> list[tuple[str, str]]:
    """The run's identity, as (label, value) rows: what makes its numbers comparable."""
    h, c = data.header, data.config
    given = h.suite or SuiteSource("")
    suite = data.suite
    prover = c.get("prover", {})
    search = c.get("search", {})
    facts = [
        ("suite", str(suite.suite or data.summary.suite)),
        ("suite variant", str(suite.variant or "-")),
        ("suite commit", str(suite.commit or "-")),
        ("suite sha256", str(suite.sha256 or "-")),
        ("model", str(prover.get("model", "-"))),
        ("prompt", str(c.get("prompt", "-"))),
        (
            "sampling",
            f"temperature {prover.get('temperature')}, top_p {prover.get('top_p')}, "
            f"max_tokens {prover.get('max_tokens')}",
        ),
        ("search", _search_fact(search, data.summary.strategy)),
        ("Lean toolchain", str(h.lean_toolchain or "unknown")),
        ("Mathlib", str(h.mathlib_rev or "unknown")),
        ("checked by", str(h.checked_by or "-")),
        ("Lean sandbox", str(h.sandbox or "not recorded (before sandboxing)")),
        ("proved confirmed by", str(h.confirmation or "not recorded")),
        ("harness", str(h.harness_version or "-")),
        ("config hash", str(h.config_hash or "-")),
        ("started", str(h.started or "-")),
        (
            "finished",
            str(h.finished or "-") + ("" if data.summary.complete else " (incomplete)"),
        ),
    ]
    if data.summary.strategy == "decompose":
        decomposer = c.get("decomposer") or {}
        model = decomposer.get("model") or f"the prover's ({prover.get('model', '-')})"
        at = [label for label, _ in facts].index("prompt") + 1
        facts.insert(at, ("decomposer", f"{model}, prompt {decomposer.get('prompt', '-')}"))
    if given.suite and given.suite != suite.suite:
        facts.insert(1, ("suite given as", f"{given.suite} (its checksum is {suite.suite}'s)"))
    if h.stopped:
        facts.append(("stopped", str(h.stopped)))
    if h.selection.shard:
        facts.append(("shard", str(h.selection.shard)))
    return facts
