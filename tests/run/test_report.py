"""Reports are pure functions of the run directory, and treat model text as untrusted."""

from __future__ import annotations

from pathlib import Path

from harness.cli import main
from harness.config import load_config
from harness.record import CoveredProblem, RunHeader, RunRecord
from harness.report import compare_runs, load_run, write_reports
from harness.types import Attempt, SuiteSource

EVIL = "<script>alert('x')</script>"


def make_run(path: Path, proved_samples: int = 1) -> Path:
    rec = RunRecord(path)
    rec.write_config(load_config(None, ["search.samples=2"]))
    rec.write_header(
        RunHeader(
            suite=SuiteSource("smoke", variant="built-in"),
            samples=2,
            problems=[
                CoveredProblem("mathd_algebra_10", "test"),
                CoveredProblem("imo_2000_p2", "valid"),
            ],
            finished="2026-01-01T00:00:10+00:00",
            lean_toolchain="leanprover/lean4:v4.9.0",
            mathlib_rev="unknown",
            wall_s=10.0,
        )
    )
    with rec:
        rec.append(
            Attempt(
                "mathd_algebra_10",
                0,
                0,
                "lean_error",
                answer=EVIL,
                proof="theorem t : 1 = 1 := by\n  simp" + EVIL,
                messages=[
                    {"severity": "error", "line": 2, "column": 2, "text": f"unknown tactic {EVIL}"}
                ],
                completion_tokens=7,
            )
        )
        for sample in range(proved_samples):
            rec.append(
                Attempt(
                    "mathd_algebra_10",
                    sample,
                    1 if sample == 0 else 0,
                    "proved",
                    proof="theorem t : 1 = 1 := by\n  rfl",
                )
            )
        rec.append(Attempt("imo_2000_p2", 0, 0, "no_proof", answer="I cannot"))
    return path


def test_markdown_and_html_reports(tmp_path):
    run = make_run(tmp_path / "run")
    md_path, html_path = write_reports(run)
    md = md_path.read_text()
    assert "| 1 | 25.0% |" in md and "| 2 | 50.0% |" in md  # one problem of two, c=1 of n=2
    assert "| mathd_algebra | 1 | 1 |" in md and "| imo | 1 | 0 |" in md
    assert "| lean_error | 1 |" in md and "| no_proof | 1 |" in md
    assert "## Proofs found" in md and "  rfl" in md
    assert "leanprover/lean4:v4.9.0" in md
    html = html_path.read_text()
    assert "<script>" not in html  # model text is escaped
    assert "&lt;script&gt;" in html
    assert "unknown tactic" in html and "line 2:2" in html
    assert html.count("<svg") == 2  # the pass@k curve and the verdict bars


def test_several_runs_side_by_side(tmp_path, capsys):
    a = make_run(tmp_path / "a", proved_samples=1)
    b = make_run(tmp_path / "b", proved_samples=2)
    text = compare_runs([a, b])
    # pass@1: run a = 0.25, run b = 0.5 -> mean 37.5%, sample std 17.7
    assert "37.5% ± 17.7" in text
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "cmp.html")]) == 0
    assert "37.5% ± 17.7" in capsys.readouterr().out
    assert "<svg" in (tmp_path / "cmp.html").read_text()


def test_report_command_rewrites_the_reports(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    assert main(["report", str(run)]) == 0
    assert "1/2 proved" in capsys.readouterr().out
    assert (run / "report.html").exists()
    assert load_run(run).summary.attempts == 3
    assert main(["report", str(tmp_path / "nothing")]) == 2


def test_the_same_run_gives_the_same_report_byte_for_byte(tmp_path):
    run = make_run(tmp_path / "run")
    write_reports(run)
    first = {name: (run / name).read_bytes() for name in ("report.md", "report.html")}
    write_reports(run)
    assert {name: (run / name).read_bytes() for name in first} == first
    assert b"<svg" in first["report.html"]  # the plots are in it
