"""What a report shows, read from one run directory, and the facts both renderers print."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.metrics import ProblemOutcome, aggregate_pass_at, problem_outcomes, side_by_side
from harness.record import RunHeader, RunRecord, summarize_record
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
    "Comparison",
    "load_comparison",
]

# Rounds per problem whose answer and proof a report shows (proofs are always shown).
FULL_ROUNDS_PER_PROBLEM = 16


@dataclass
class RunData:
    """Everything a report shows, read from one run directory."""

    dir: Path
    header: RunHeader
    config: dict[str, Any]
    summary: Summary
    attempts: dict[str, list[Attempt]] = field(default_factory=dict)  # problem -> its rounds
    outcomes: dict[str, ProblemOutcome] = field(default_factory=dict)
    full: set[tuple[str, int, int]] = field(default_factory=set)  # rounds kept with their text

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
        kept: dict[str, int] = {}
        for a in record.iter_effective(index=index):
            # Long runs: keep the text of a problem's first rounds and of its proofs; of the
            # others, only the verdict and the first Lean error, so memory stays bounded.
            if a.verdict is VerdictKind.PROVED or kept.get(a.problem, 0) < FULL_ROUNDS_PER_PROBLEM:
                kept[a.problem] = kept.get(a.problem, 0) + 1
                data.full.add(a.key)
            else:
                errors = [m for m in a.messages if m.get("severity") == "error"]
                a.answer, a.proof, a.goals, a.messages = "", "", [], errors[:1]
            data.attempts.setdefault(a.problem, []).append(a)
        for rounds in data.attempts.values():
            rounds.sort(key=lambda a: (a.sample, a.round))
        problems = [(p.name, p.split) for p in header.problems]
        data.outcomes = problem_outcomes(
            (a for rounds in data.attempts.values() for a in rounds), problems
        )
    elif outcomes:
        data.outcomes = problem_outcomes(
            record.iter_effective(light=True, index=index),
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
    """`lean_error 1, proved 2`: a problem's rounds by verdict (the report's "verdicts")."""
    kinds: dict[str, int] = {}
    for a in rounds:
        kinds[a.verdict.value] = kinds.get(a.verdict.value, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "-"


def first_proof_text(po: ProblemOutcome) -> str:
    first = po.first_proof
    return f"sample {first.sample}, round {first.round}" if first else "-"


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


def load_comparison(dirs: list[str | os.PathLike[str]]) -> Comparison:
    runs = [load_run(d, with_attempts=False, outcomes=True) for d in dirs]
    return Comparison(
        runs=runs,
        agg=aggregate_pass_at([r.summary for r in runs]),
        problems=side_by_side([r.outcomes for r in runs]),
    )


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


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
        (
            "search",
            f"{search.get('samples')} samples x (1 + {search.get('repair_rounds')} repair rounds)"
            + (", stop on success" if search.get("stop_on_success") else ""),
        ),
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
    if given.suite and given.suite != suite.suite:
        facts.insert(1, ("suite given as", f"{given.suite} (its checksum is {suite.suite}'s)"))
    if h.stopped:
        facts.append(("stopped", str(h.stopped)))
    if h.selection.shard:
        facts.append(("shard", str(h.selection.shard)))
    return facts
