"""What a report shows, read from one run directory, and the facts both renderers print."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.metrics import ProblemOutcome, problem_outcomes
from harness.record import RunHeader, RunRecord, summarize_record
from harness.types import Attempt, SuiteSource, Summary, VerdictKind

__all__ = ["FULL_ROUNDS_PER_PROBLEM", "RunData", "load_run", "header_facts", "fmt_pct"]

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
    def wall_s(self) -> float | None:
        return self.header.wall_s


def load_run(run_dir: str | os.PathLike[str], with_attempts: bool = True) -> RunData:
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
    return data


def fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def header_facts(data: RunData) -> list[tuple[str, str]]:
    """The run's identity, as (label, value) rows: what makes its numbers comparable."""
    h, c = data.header, data.config
    suite = h.suite or SuiteSource("")
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
        ("harness", str(h.harness_version or "-")),
        ("config hash", str(h.config_hash or "-")),
        ("started", str(h.started or "-")),
        (
            "finished",
            str(h.finished or "-") + ("" if data.summary.complete else " (incomplete)"),
        ),
    ]
    if h.stopped:
        facts.append(("stopped", str(h.stopped)))
    if h.selection.shard:
        facts.append(("shard", str(h.selection.shard)))
    return facts
