"""Reports are pure functions of the run directory, and treat model text as untrusted."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape as html_unescape
from pathlib import Path

import pytest
from markupsafe import escape

from harness.cli import main
from harness.config import load_config
from harness.record import CoveredProblem, RunHeader, RunRecord
from harness.report import (
    compare_runs,
    compare_runs_html,
    export_csv,
    export_json,
    load_run,
    write_reports,
)
from harness.report.data import recognised_suite
from harness.report.html import code_view, repair_prompt
from harness.suites import load_suite
from harness.suites.catalogue import catalogue_entry, file_sha256
from harness.types import Attempt, SuiteSource
from tests.conftest import ROOT, shared_path
from tests.doubles.chat_server import ChatServer
from tests.run.helpers import (
    ERROR_TEXT,
    KEY,
    KEY_ENV,
    MARKER,
    ScriptedProver,
    smoke_problems,
    write_setup,
)

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
    assert EVIL not in html and html.count("<script") == 1  # model text is escaped; ours runs
    assert "&lt;script&gt;" in html
    assert "unknown tactic" in html and "line 2, column 2" in html
    # the pass@k curve, the verdict bars, solved problems against tokens and against calls
    assert html.count("<svg") == 4


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


# ---------------------------------------------------------------------------------------------
# report.html: why each attempt failed (issue 13, point 8)


def _details(html: str, attempt_id: str) -> str:
    """The <details> element of one round, as text."""
    start = html.index(f'id="{attempt_id}"')
    return html[html.rindex("<details", 0, start) : html.index("</details>", start)]


def _summary_line(html: str, attempt_id: str) -> str:
    block = _details(html, attempt_id)
    return block[block.index("<summary>") : block.index("</summary>")]


def make_failures(path: Path) -> Path:
    """A run whose rounds fail in each way, with model and Lean text that is hostile HTML."""
    rec = RunRecord(path)
    rec.write_config(load_config(None, ["search.samples=1", "search.repair_rounds=2"]))
    rec.write_header(
        RunHeader(
            suite=SuiteSource("smoke", variant="built-in"),
            samples=1,
            problems=[CoveredProblem("p_error", "test"), CoveredProblem("p_other", "test")],
            finished="2026-01-01T00:00:10+00:00",
        )
    )
    code = "import Mathlib\n\ntheorem t (n : ℕ) : n = n := by\n  simp at h\n  exact foo\n"
    messages = [
        {
            "severity": "error",
            "line": 4,
            "column": 2,
            "end_line": 4,
            "end_column": 11,
            "text": f"simp made no progress {EVIL}\nsecond line",
        },
        {"severity": "error", "line": 5, "column": 8, "text": "unknown identifier 'foo'"},
        {"severity": "warning", "line": 3, "column": 8, "text": "unused variable `n`"},
        {"severity": "error", "line": 99, "column": 0, "text": "an audit's complaint"},
    ]
    with rec:
        rec.append(
            Attempt(
                "p_error",
                0,
                0,
                "lean_error",
                answer=f"My proof {EVIL}\n```lean4\n{code}```",
                proof=code,
                messages=messages,
            )
        )
        rec.append(Attempt("p_error", 0, 1, "rejected", rule="axiom", where=f"axiom cheat {EVIL}"))
        rec.append(Attempt("p_error", 0, 2, "no_proof", error="no Lean code block in the answer"))
        rec.append(
            Attempt("p_other", 0, 0, "sorry", rule="sorry", where="2:2 sorry", goals=["⊢ 1 = 1"])
        )
    write_reports(path)
    return path


def test_failed_attempt_row_shows_its_verdict_reason(tmp_path):
    html = (make_failures(tmp_path / "run") / "report.html").read_text()
    row = _summary_line(html, "p-p_error-s0-r0")
    # the first Lean error with its line, and how many more, without opening anything
    assert "lean_error" in row and "line 4: simp made no progress &lt;script&gt;" in row
    assert "(+2 more)" in row and "second line" not in row
    assert "rule axiom; axiom cheat &lt;script&gt;" in _summary_line(html, "p-p_error-s0-r1")
    assert "no Lean code block in the answer" in _summary_line(html, "p-p_error-s0-r2")
    assert "rule sorry; 2:2 sorry" in _summary_line(html, "p-p_other-s0-r0")


def test_opened_attempt_shows_numbered_code_with_each_error_marked_at_its_line(tmp_path):
    html = (make_failures(tmp_path / "run") / "report.html").read_text()
    block = _details(html, "p-p_error-s0-r0")
    # every line numbered
    for n, text in enumerate(["import Mathlib\n", "\n", "theorem "], 1):
        assert f'<span class="ln">{n}</span>{text}' in block
    # Lean's span cut out of its line and marked; the message right after the line
    assert (
        '<span class="ln-row error" data-line="4"><span class="ln">4</span>'
        "  <mark>simp at h</mark></span>"
        '<span class="lean-msg error"><span class="ln"></span><span class="msg">'
        "error at line 4, column 2: simp made no progress &lt;script&gt;"
    ) in block
    assert "<mark>foo</mark>" in block  # no end position: the rest of the line
    assert '<span class="ln-row warning" data-line="3">' in block
    assert "unused variable" in block
    # a message outside the code is still shown
    assert "no line in the code: 99:0): an audit&#39;s complaint" in block
    assert "3 errors, marked at their lines" in block


def test_code_view_marks_spans_and_keeps_text_plain():
    view = code_view(
        "a\nbb <x>\nccc\n",
        [
            {
                "severity": "error",
                "line": 2,
                "column": 3,
                "end_line": 3,
                "end_column": 1,
                "text": "e",
            },
            {"severity": "info", "line": 1, "column": 0, "text": "not an error"},
        ],
    )
    rows = view["rows"]
    assert [r["n"] for r in rows] == [1, 2, 3]  # the final newline is not a line
    assert (rows[1]["pre"], rows[1]["mark"], rows[1]["post"]) == ("bb ", "<x>", "")
    assert rows[2].get("inside") and rows[2]["severity"] == "error"  # a span across lines
    assert rows[0]["severity"] is None  # infos are not marked
    assert view["errors"] == 1


def test_opened_attempt_shows_the_model_raw_answer_and_the_repair_prompt_sent(tmp_path):
    run = make_failures(tmp_path / "run")
    html = (run / "report.html").read_text()
    block = _details(html, "p-p_error-s0-r0")
    assert "The model's raw answer" in block and "My proof &lt;script&gt;" in block
    # the repair prompt for round 1: the search's own repair turn, from the recorded verdict
    assert "Repair prompt sent for round 1" in block
    attempt = next(a for a in load_run(run).attempts["p_error"] if a.round == 0)
    expected = repair_prompt(attempt, 8)
    assert str(escape(expected)) in block
    assert "Error 1 (line 4, column 2)" in expected and "<error>simp at h</error>" in expected
    # a rejected round's repair turn names the rule
    assert "breaks the rule `axiom`" in html_unescape(_details(html, "p-p_error-s0-r1"))
    # the last round: no repair turn was sent, and the page says so
    assert "was the sample&#39;s last" in _details(html, "p-p_error-s0-r2")


def test_repair_prompt_in_the_report_is_the_one_the_prover_received(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    problems = smoke_problems()
    with ChatServer(ScriptedProver(problems)) as server:
        config, _ = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        assert main(["run", str(config), "--out", str(run), "--limit", "4", "--no-progress"]) == 0
        requests = list(server.requests)
    sent = [
        r["messages"][-1]["content"]
        for r in requests
        if len(r["messages"]) > 2 and MARKER in r["messages"][-2]["content"]
    ]
    assert sent and ERROR_TEXT in sent[0]
    html = (run / "report.html").read_text()
    block = _details(html, f"p-{problems[1].name}-s0-r0")
    shown = block[block.index('<pre class="scroll repair">') :]
    shown = html_unescape(shown[len('<pre class="scroll repair">') : shown.index("</pre>")])
    assert shown in sent  # word for word what the model was sent
    # ... and the failed round's row gives the error and its line
    assert f"{ERROR_TEXT}" in html_unescape(_summary_line(html, f"p-{problems[1].name}-s0-r0"))


def test_long_raw_answer_shows_its_head_and_tail(tmp_path):
    run = make_run(tmp_path / "run")
    rec = RunRecord(run)
    answer = "HEAD" + "x" * 50_000 + "TAIL"
    with rec:
        rec.append(Attempt("imo_2000_p2", 1, 0, "no_proof", answer=answer))
    html = (write_reports(run)[1]).read_text()
    block = _details(html, "p-imo_2000_p2-s1-r0")
    assert "HEAD" in block and "TAIL" in block and "characters not shown" in block
    assert len(block) < 20_000


def test_html_filter_for_failed_proved_or_all_problems(tmp_path):
    html = (write_reports(make_run(tmp_path / "run"))[1]).read_text()
    for value in ("all", "failed", "proved"):
        assert f'<input type="radio" name="show" value="{value}"' in html
    assert '<tr data-status="proved"><td><a href="#p-mathd_algebra_10">' in html
    assert '<tr data-status="failed"><td><a href="#p-imo_2000_p2">' in html
    assert '<section class="problem" id="p-imo_2000_p2" data-status="failed">' in html
    script = html[html.index("<script>") : html.index("</script>")]
    assert "hidden" in script and "show" in script
    # one self-contained file: nothing from elsewhere
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "@import" not in html and "<link" not in html


def test_html_problem_table_has_the_markdown_columns(tmp_path):
    md_path, html_path = write_reports(make_run(tmp_path / "run"))
    html = html_path.read_text()
    assert (
        "<tr><th>problem</th><th>split</th><th>proved samples</th><th>rounds</th>"
        "<th>first proof</th><th>verdicts</th></tr>"
    ) in html
    row = html[html.index('<tr data-status="proved">') :]
    row = row[: row.index("</tr>")]
    assert "<td>sample 0, round 1</td><td>lean_error 1, proved 1</td>" in row
    assert "| sample 0, round 1 | lean_error 1, proved 1 |" in md_path.read_text()


def test_suite_given_as_a_path_shows_the_catalogued_name_and_variant(tmp_path):
    entry = catalogue_entry("minif2f-deepseek")
    assert entry is not None
    run = make_run(tmp_path / "run")
    rec = RunRecord(run)
    header = rec.read_header()
    header.suite = SuiteSource(suite="/data/copies/minif2f.jsonl", sha256=entry.sha256)
    rec.write_header(header)
    md_path, html_path = write_reports(run)
    html = html_path.read_text()
    assert "<title>Run report: minif2f-deepseek</title>" in html
    assert "<tr><th>suite</th><td>minif2f-deepseek</td></tr>" in html
    assert f"<tr><th>suite variant</th><td>{entry.variant}</td></tr>" in html
    assert f"<tr><th>suite commit</th><td>{entry.commit}</td></tr>" in html
    assert "/data/copies/minif2f.jsonl" in html  # where it came from stays visible
    md = md_path.read_text()
    assert md.startswith("# Run report: minif2f-deepseek")
    assert f"| suite variant | {entry.variant} |" in md
    # a path to a copy of the built-in smoke suite is the smoke suite
    copy = tmp_path / "smoke-copy.jsonl"
    copy.write_bytes((ROOT / "harness" / "suites" / "data" / "smoke.jsonl").read_bytes())
    source = recognised_suite(SuiteSource(suite=str(copy), sha256=file_sha256(copy)))
    assert (source.suite, source.variant) == ("smoke", "built-in")
    # an unknown checksum keeps the path
    unknown = SuiteSource(suite=str(copy), sha256="0" * 64)
    assert recognised_suite(unknown) == unknown


def test_suite_path_to_real_catalogued_files_is_recognised_by_checksum():
    """The digests `harness run --suite PATH` records, for a real file and a real directory."""
    file = shared_path("benchmarks", "minif2f-deepseek-prover-v1.5", "minif2f.jsonl")
    directory = shared_path("benchmarks", "minif2f-lean4-yangky11", "MiniF2F", "Test")
    for path, name in ((file, "minif2f-deepseek"), (directory, "minif2f-test")):
        source = load_suite(str(path), load_config()).source
        assert source.suite == str(path) and source.variant is None
        recognised = recognised_suite(source)
        assert recognised.suite == name and recognised.variant == catalogue_entry(name).variant


# ---------------------------------------------------------------------------------------------
# several runs (issue 13, point 10)


def test_compare_runs_shows_which_run_proved_which_problem(tmp_path):
    a = make_run(tmp_path / "a", proved_samples=1)
    b = make_run(tmp_path / "b", proved_samples=2)
    c = make_run(tmp_path / "c", proved_samples=0)
    text = compare_runs([a, b, c])
    assert "| problem | split | a | b | c | proved in runs |" in text
    assert "| imo_2000_p2 | valid | 0/2 | 0/2 | 0/2 | 0/3 |" in text
    # run c: a lean_error and no proof
    assert "| mathd_algebra_10 | test | 1/2 | 2/2 | 0/2 | 2/3 |" in text
    html = compare_runs_html([a, b, c])
    assert "<th>proved in runs</th>" in html
    assert '<td>mathd_algebra_10</td><td>test</td>\n<td class="proved">1/2</td>' in html
    assert "<td>2/3</td>" in html


def test_compare_runs_html_plots_pass_at_k_with_error_bars(tmp_path):
    a = make_run(tmp_path / "a", proved_samples=1)
    b = make_run(tmp_path / "b", proved_samples=2)
    html = compare_runs_html([a, b])
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'id="LineCollection_' in svg  # the error bars
    assert "<!-- mean ± std -->" in svg  # in the legend
    assert "<th>37.5% ± 17.7</th>" in html  # and in the table
    # a single run's curve has none
    single = (write_reports(a)[1]).read_text()
    assert "LineCollection" not in single


def test_export_csv_has_per_problem_rows_and_pass_at_per_run(tmp_path):
    a = make_run(tmp_path / "a", proved_samples=1)
    b = make_run(tmp_path / "b", proved_samples=2)
    rows = list(csv.DictReader(io.StringIO(export_csv([a, b]))))
    problems = [r for r in rows if r["row"] == "problem"]
    assert {(r["run"], r["problem"]) for r in problems} == {
        (str(d), p) for d in (a, b) for p in ("mathd_algebra_10", "imo_2000_p2")
    }
    got = {(r["run"], r["problem"]): r for r in problems}
    first = got[(str(a), "mathd_algebra_10")]
    assert (first["samples"], first["proved_samples"], first["proved"]) == ("2", "1", "1")
    assert (first["rounds"], first["first_proof"], first["split"]) == ("2", "0:1", "test")
    assert float(first["pass@1"]) == 0.5 and float(first["pass@2"]) == 1.0
    runs = {r["run"]: r for r in rows if r["row"] == "run"}
    assert float(runs[str(a)]["pass@1"]) == 0.25 and float(runs[str(b)]["pass@1"]) == 0.5
    assert runs[str(a)]["proved"] == "1"
    (mean,) = [r for r in rows if r["row"] == "mean"]
    (std,) = [r for r in rows if r["row"] == "std"]
    assert float(mean["pass@1"]) == 0.375
    assert float(std["pass@1"]) == pytest.approx(0.176777, abs=1e-6)
    # a run's pass@k is the mean of its problems' column
    for d in (a, b):
        mine = [float(r["pass@1"]) for r in problems if r["run"] == str(d)]
        assert sum(mine) / len(mine) == pytest.approx(float(runs[str(d)]["pass@1"]))


def test_export_json_has_per_problem_rows_and_pass_at_per_run(tmp_path):
    a = make_run(tmp_path / "a", proved_samples=1)
    b = make_run(tmp_path / "b", proved_samples=2)
    data = json.loads(export_json([a, b]))
    assert [r["run"] for r in data["runs"]] == [str(a), str(b)]
    assert data["runs"][0]["pass_at"] == {"1": 0.25, "2": 0.5}
    assert data["runs"][1]["pass_at"] == {"1": 0.5, "2": 0.5}
    assert data["runs"][0]["suite"] == "smoke" and data["runs"][0]["samples"] == 2
    assert data["pass_at"]["1"] == {"mean": 0.375, "std": pytest.approx(0.176777), "runs": 2}
    by_name = {p["problem"]: p for p in data["problems"]}
    m = by_name["mathd_algebra_10"]
    assert (m["split"], m["proved_in"], m["covered_by"]) == ("test", 2, 2)
    assert m["runs"][str(a)]["proved_samples"] == 1
    assert m["runs"][str(a)]["first_proof"] == {
        "sample": 0,
        "round": 1,
        "stage": "whole",
        "sketch": None,
    }
    assert m["runs"][str(b)]["proved_samples"] == 2
    assert by_name["imo_2000_p2"]["proved_in"] == 0


def test_report_command_exports_csv_and_json(tmp_path, capsys):
    a = make_run(tmp_path / "a", proved_samples=1)
    b = make_run(tmp_path / "b", proved_samples=2)
    assert main(["report", str(a), str(b), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["row"] for r in rows} == {"problem", "run", "mean", "std"}
    assert main(["report", str(a), str(b), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["pass_at"]["1"]["mean"] == 0.375
    # the format follows --out's suffix; the file holds the data
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "cmp.json")]) == 0
    assert json.loads((tmp_path / "cmp.json").read_text())["runs"][1]["run"] == str(b)
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "cmp.csv")]) == 0
    assert (tmp_path / "cmp.csv").read_text().startswith("row,run,problem,split,")
    assert capsys.readouterr().out.splitlines() == [
        str(tmp_path / "cmp.json"),
        str(tmp_path / "cmp.csv"),
    ]
    # one run exports too
    assert main(["report", str(a), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"][0]["run"] == str(a)


def test_times_are_printed_one_way_in_progress_and_both_reports(tmp_path):
    from harness.metrics import format_duration
    from harness.progress import Progress, ProgressCounts

    run = make_run(tmp_path / "run")
    header = RunRecord(run).read_header()
    header.wall_s = 3723.4
    RunRecord(run).write_header(header)
    write_reports(run)
    shown = format_duration(3723.4)
    assert shown == "1h02m03s"
    assert f"| wall time | {shown} |" in (run / "report.md").read_text()
    assert f"<td>wall time</td><td>{shown}</td>" in (run / "report.html").read_text()
    counts = ProgressCounts(problems=4)
    counts.done = 1  # one of four in 1241 s: three more take 3723 s
    counts.started -= 1241
    assert f"ETA {shown}" in Progress(counts).line()


# ---------------------------------------------------------------------------------------------
# a decomposed problem: sketch rounds, holes, the composed proof


def _hole_rows(html: str, sketch_id: str) -> list[list[str]]:
    """The hole table after a sketch round's <details>, as the cells' text."""
    start = html.index('<table class="holes">', html.index(f'id="{sketch_id}"'))
    table = html[start : html.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    return [
        [
            html_unescape(re.sub(r"<[^>]+>", "", c))
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)
        ]
        for r in rows
    ]


def test_decomposed_problem_shows_sketches_holes_and_composed_proof(tmp_path):
    from tests.run.test_budget import EVIL as BAD
    from tests.run.test_budget import P, make_decompose_run

    run = make_decompose_run(tmp_path / "run", compose="lean_error")
    md, html = (p.read_text() for p in write_reports(run))
    assert BAD not in html and html.count("<script") == 1  # model and Lean text escaped
    pid = f"p-{P}"
    # the failed sketch round: its verdict, its proof and Lean's error marked in it
    failed = _details(html, f"{pid}-s0-k0")
    assert 'sketch round 0: <b class="fail">lean_error</b>' in failed
    assert "line 1: unexpected &lt;script&gt;" in failed
    assert '<span class="ln-row error" data-line="1">' in failed
    shown = html_unescape(re.sub(r"<[^>]+>", "", failed))
    assert f"theorem t : 1 = 1 := {BAD}" in shown and "SKETCH-ANSWER" in shown
    assert "Repair prompt" not in failed  # the decomposer's repair turn is its own
    # the accepted sketch, its holes with their outcome and lines
    accepted = _details(html, f"{pid}-s0-k1")
    assert "accepted with 2 holes" in accepted and "have h0 : x + 0 = x := by sorry" in accepted
    assert _hole_rows(html, f"{pid}-s0-k1") == [
        [
            "0",
            "x : ℕ\n⊢ x + 0 = x",
            "lemma h0 : x : ℕ\n⊢ x + 0 = x",
            "proved",
            "2",
            "lean_error 1, proved 1",
        ],
        ["1", f"⊢ 0 + x = x {BAD}", f"lemma h1 : ⊢ 0 + x = x {BAD}", "proved", "1", "proved 1"],
    ]
    assert [row[3:5] for row in _hole_rows(html, f"{pid}-s1-k0")] == [
        ["proved", "1"],
        ["failed", "2"],
        ["not tried", "0"],
    ]
    # the composed proof and its verdict: holes all proved, yet the problem is not
    composed = _details(html, f"{pid}-s0-k1-compose")
    assert 'composed proof of sketch round 1: <b class="fail">lean_error</b>' in composed
    assert "omega -- composed" in composed
    assert f'<section class="problem" id="{pid}" data-status="failed">' in html
    assert "no composed proof recorded for sketch round 0" in html
    assert "SUBGOAL-ANSWER" not in html  # subgoal lines keep no text in the report
    # report.md: the same tree, compact
    section = md[md.index("## Decompositions") :]
    assert "- sample 0, sketch round 0: lean_error (line 1: unexpected &lt;script&gt;" in section
    assert "sample 0, sketch round 1: accepted with 2 holes" in section
    assert "| 1 | lemma h1 : ⊢ b | failed | 2 |" in section
    assert "| 2 | lemma h2 : ⊢ c | not tried | 0 |" in section
    assert "composed proof: lean_error" in section and "composed proof: not recorded" in section
    assert BAD not in md
    assert "sketch: lean_error 1, sorry 2; subgoal: lean_error 2, proved 3, timeout 1" in md


def test_decomposed_problem_proved_by_its_composed_proof(tmp_path):
    from tests.run.test_budget import P, make_decompose_run

    run = make_decompose_run(tmp_path / "run", compose="proved")
    md, html = (p.read_text() for p in write_reports(run))
    assert f'<section class="problem" id="p-{P}" data-status="proved">' in html
    composed = _details(html, f"p-{P}-s0-k1-compose")
    assert composed.startswith('<details class="attempt ok"') and " open>" in composed
    assert "<td>sample 0, composed (sketch round 1)</td>" in html
    proofs = md[md.index("## Proofs found") : md.index("## Decompositions")]
    assert "sample 0, composed (sketch round 1)" in proofs and "omega -- composed" in proofs
    # the verdict table is by stage: three proved subgoals, one proved composition
    assert "| verdict | sketch | subgoal | compose |" in md and "| proved | 0 | 3 | 1 |" in md


def test_decomposed_problem_keeps_text_for_its_first_lines_only(tmp_path):
    """As for whole rounds: a problem's first 16 lines keep their text; its subgoal lines never
    do and do not count, so many holes' attempts cannot crowd out the sketches."""
    rec = RunRecord(tmp_path / "run")
    rec.write_config(load_config(None, ["search.samples=17", "search.strategy=decompose"]))
    rec.write_header(RunHeader(samples=17, problems=[CoveredProblem("p", "test")]))

    def accepted(sample: int) -> Attempt:
        hole = {"start": 0, "end": 5, "goal": f"GOAL-{sample}", "lemma": f"LEMMA-{sample}"}
        return Attempt("p", sample, 0, "sorry", stage="sketch", rule="sketch", holes=[hole])

    with rec:
        rec.append(accepted(0))
        for j in range(30):
            rec.append(
                Attempt("p", 0, 0, "lean_error", stage="subgoal", sketch=0, subgoal=0, subsample=j)
            )
        for sample in range(1, 16):
            rec.append(
                Attempt("p", sample, 0, "lean_error", stage="sketch", proof=f"SKETCH-{sample}")
            )
        rec.append(accepted(16))
    md, html = (p.read_text() for p in write_reports(rec.dir))
    assert "LEMMA-0" in html and "SKETCH-15" in html  # the first 16 lines, subgoals aside
    assert "LEMMA-16" not in html and "GOAL-16" not in html
    assert "(not kept in the report: see attempts.jsonl)" in html
    assert [row[3:5] for row in _hole_rows(html, "p-p-s0-k0")] == [["failed", "30"]]
    assert "| 0 | LEMMA-0 | failed | 30 |" in md and "| 0 | - | not tried | 0 |" in md
