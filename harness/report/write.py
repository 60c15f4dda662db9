"""Writing the reports of a run directory, and comparing runs."""

from __future__ import annotations

import os
from pathlib import Path

from harness.metrics import aggregate_pass_at
from harness.record import write_atomic
from harness.report.data import RunData, load_run
from harness.report.html import html_chunks, render_comparison_html
from harness.report.markdown import render_comparison, render_markdown

__all__ = ["write_reports", "compare_runs", "compare_runs_html"]


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
