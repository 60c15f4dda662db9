"""Reports from a run directory: report.md and report.html, and several runs side by side.

A report is a pure function of the run directory (config.yaml, header.json, attempts.jsonl):
it never talks to the prover or to Lean, so `harness report DIR` can be rerun at will, on any
machine, and gives what the run wrote at its end.

    data.py      RunData: what a report shows, read from the record (load_run)
    markdown.py  report.md          html.py  report.html (inline SVG plots)
    here         writing both into the run directory; runs side by side
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.metrics import aggregate_pass_at
from harness.record import write_atomic
from harness.report.data import RunData, load_run
from harness.report.html import html_chunks, render_comparison_html
from harness.report.markdown import render_comparison, render_markdown

__all__ = ["RunData", "load_run", "write_reports", "compare_runs", "compare_runs_html"]


def write_reports(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Write report.md and report.html into the run directory; returns their paths."""
    data = load_run(run_dir)
    md = Path(run_dir) / "report.md"
    html = Path(run_dir) / "report.html"
    write_atomic(md, render_markdown(data))
    write_atomic(html, html_chunks(data))
    return [md, html]


def _comparison(
    dirs: list[str | os.PathLike[str]],
) -> tuple[list[RunData], dict[str, tuple[float, float]]]:
    runs = [load_run(d, with_attempts=False) for d in dirs]
    return runs, aggregate_pass_at([r.summary for r in runs])


def compare_runs(dirs: list[str | os.PathLike[str]]) -> str:
    """Markdown: the runs side by side, and pass@k as mean ± std over them."""
    return render_comparison(*_comparison(dirs))


def compare_runs_html(dirs: list[str | os.PathLike[str]]) -> str:
    return render_comparison_html(*_comparison(dirs))
