"""Reports from a run directory: report.md and report.html, and several runs side by side.

A report is a pure function of the run directory (config.yaml, header.json, attempts.jsonl):
it never talks to the prover or to Lean, so `harness report DIR` can be rerun at will, on any
machine, and gives what the run wrote at its end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.metrics import ProblemOutcome, aggregate_pass_at, problem_outcomes
from harness.record import RunRecord, summarize_record
from harness.types import Attempt, Summary

# Rounds per problem whose answer and proof a report shows (proofs are always shown).
FULL_ROUNDS_PER_PROBLEM = 16

__all__ = ["RunData", "load_run", "write_reports", "compare_runs", "compare_runs_html"]


@dataclass
class RunData:
    """Everything a report shows, read from one run directory."""

    dir: Path
    header: dict[str, Any]
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
        return self.header.get("wall_s")


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
            if a.verdict == "proved" or kept.get(a.problem, 0) < FULL_ROUNDS_PER_PROBLEM:
                kept[a.problem] = kept.get(a.problem, 0) + 1
                data.full.add(a.key)
            else:
                errors = [m for m in a.messages if m.get("severity") == "error"]
                a.answer, a.proof, a.goals, a.messages = "", "", [], errors[:1]
            data.attempts.setdefault(a.problem, []).append(a)
        for rounds in data.attempts.values():
            rounds.sort(key=lambda a: (a.sample, a.round))
        problems = [(p["name"], p.get("split")) for p in header.get("problems", [])]
        data.outcomes = problem_outcomes(
            (a for rounds in data.attempts.values() for a in rounds), problems
        )
    return data


def write_reports(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Write report.md and report.html into the run directory; returns their paths."""
    from harness.record import write_atomic
    from harness.report.html import html_chunks
    from harness.report.markdown import render_markdown

    data = load_run(run_dir)
    md = Path(run_dir) / "report.md"
    html = Path(run_dir) / "report.html"
    write_atomic(md, render_markdown(data))
    write_atomic(html, html_chunks(data))
    return [md, html]


def _comparison(dirs: list[str | os.PathLike[str]]) -> tuple[list[RunData], dict]:
    runs = [load_run(d, with_attempts=False) for d in dirs]
    return runs, aggregate_pass_at([r.summary for r in runs])


def compare_runs(dirs: list[str | os.PathLike[str]]) -> str:
    """Markdown: the runs side by side, and pass@k as mean ± std over them."""
    from harness.report.markdown import render_comparison

    runs, agg = _comparison(dirs)
    return render_comparison(runs, agg)


def compare_runs_html(dirs: list[str | os.PathLike[str]]) -> str:
    from harness.report.html import render_comparison_html

    runs, agg = _comparison(dirs)
    return render_comparison_html(runs, agg)
