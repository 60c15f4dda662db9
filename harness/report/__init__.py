"""Reports from a run directory: report.md and report.html, and several runs side by side.

A report is a pure function of the run directory (config.yaml, header.json, attempts.jsonl):
it never talks to the prover or to Lean, so `harness report DIR` can be rerun at will, on any
machine, and gives what the run wrote at its end.

    data.py      RunData: what a report shows, read from the record (load_run); Comparison
    tree.py      a decomposed problem's sketches, holes and composed proofs, per sample
    markdown.py  report.md          html.py  report.html (inline SVG plots, no external asset)
    export.py    several runs as CSV or JSON (per-problem rows, pass@k per run)
    here         writing both into the run directory; runs side by side
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.record import write_atomic
from harness.report.data import Comparison, RunData, load_comparison, load_run
from harness.report.export import export_csv, export_json
from harness.report.html import html_chunks, render_comparison_html
from harness.report.markdown import render_comparison, render_markdown

__all__ = [
    "RunData",
    "Comparison",
    "load_run",
    "load_comparison",
    "write_reports",
    "compare_runs",
    "compare_runs_html",
    "export_csv",
    "export_json",
]


def write_reports(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Write report.md and report.html into the run directory; returns their paths."""
    data = load_run(run_dir)
    md = Path(run_dir) / "report.md"
    html = Path(run_dir) / "report.html"
    write_atomic(md, render_markdown(data))
    write_atomic(html, html_chunks(data))
    return [md, html]


def compare_runs(dirs: list[str | os.PathLike[str]]) -> str:
    """Markdown: the runs side by side, pass@k as mean ± std over them, and a per-problem
    table of which run proved what."""
    return render_comparison(load_comparison(dirs))


def compare_runs_html(dirs: list[str | os.PathLike[str]]) -> str:
    """HTML: the same, with the pass@k plot's mean ± std error bars."""
    return render_comparison_html(load_comparison(dirs))
