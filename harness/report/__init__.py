"""Reports from a run directory: report.md and report.html, and several runs side by side.

A report is a pure function of the run directory (config.yaml, header.json, attempts.jsonl):
it never talks to the prover or to Lean, so `harness report DIR` can be rerun at will, on any
machine, and gives what the run wrote at its end.

    data.py      RunData: what a report shows, read from the record (load_run)
    markdown.py  report.md          html.py  report.html (inline SVG plots)
    write.py     writing both into the run directory; runs side by side
"""

from __future__ import annotations

from harness.report.data import RunData, load_run
from harness.report.write import compare_runs, compare_runs_html, write_reports

__all__ = ["RunData", "load_run", "write_reports", "compare_runs", "compare_runs_html"]
