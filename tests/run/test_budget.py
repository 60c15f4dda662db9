"""What runs spend, counted so a whole-proof run and a decomposition run compare at equal budget;
and only whole and composed proofs ever prove a problem."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.config import load_config
from harness.metrics import BudgetCurve, summarize
from harness.record import CoveredProblem, RunHeader, RunRecord, Selection, merge_runs
from harness.report import (
    compare_runs,
    compare_runs_html,
    export_csv,
    export_json,
    load_run,
    write_reports,
)
from harness.types import Attempt, SuiteSource, Summary

EVIL = "<script>alert('x')</script>"
PROBLEMS = [CoveredProblem("mathd_algebra_10", "test"), CoveredProblem("imo_2000_p2", "valid")]
P, Q = (p.name for p in PROBLEMS)
SKETCH = "by\n  have h0 : x + 0 = x := by sorry\n  have h1 : 0 + x = x := by sorry\n  omega"


def _start(path: Path, settings: list[str], samples: int, **header: Any) -> RunRecord:
    rec = RunRecord(path)
    rec.write_config(load_config(None, [f"search.samples={samples}", *settings]))
    rec.write_header(
        RunHeader(
            suite=SuiteSource("smoke", variant="built-in"),
            samples=samples,
            problems=list(PROBLEMS),
            finished="2026-01-01T00:00:10+00:00",
            **header,
        )
    )
    return rec


def _line(problem: str, sample: int, rnd: int, verdict: str, **kw: Any) -> Attempt:
    return Attempt(problem, sample, rnd, verdict, **kw)


def _hole(i: int, goal: str) -> dict[str, Any]:
    return {"start": 10 * i, "end": 10 * i + 5, "goal": goal, "lemma": f"lemma h{i} : {goal}"}


def _sub(problem: str, sample: int, k: int, hole: int, j: int, rnd: int, verdict: str, **kw):
    """A subgoal line: hole `hole` of sketch round `k`, its sample `j`, round `rnd`."""
    spend = {"prompt_tokens": 40, "completion_tokens": 10, "lean_checks": 1, "cost": 0.001}
    return _line(
        problem,
        sample,
        rnd,
        verdict,
        stage="subgoal",
        sketch=k,
        subgoal=hole,
        subsample=j,
        **{**spend, **kw},
    )


def decompose_lines(compose: str = "proved") -> list[Attempt]:
    """Problem P, sample 0: a sketch Lean rejects, then one it accepts with two holes, both
    proved (hole 0 after a repair), and the composed proof (verdict `compose`). Sample 1: an
    accepted sketch with three holes: proved, failed (two lines), not tried. Problem Q: a sketch
    without code, and a sketch request that failed (prover_error)."""
    sketch = {"stage": "sketch", "lean_checks": 1, "cost": 0.01, "completion_tokens": 50}
    error = {"severity": "error", "line": 1, "column": 2, "text": f"unexpected {EVIL}"}
    holes = [_hole(0, "x : ℕ\n⊢ x + 0 = x"), _hole(1, f"⊢ 0 + x = x {EVIL}")]
    return [
        _line(
            P,
            0,
            0,
            "lean_error",
            proof=f"theorem t : 1 = 1 := {EVIL}",
            answer="SKETCH-ANSWER",
            messages=[error],
            prompt_tokens=100,
            **sketch,
        ),
        _line(
            P, 0, 1, "sorry", rule="sketch", proof=SKETCH, holes=holes, prompt_tokens=200, **sketch
        ),
        _sub(P, 0, 1, 0, 0, 0, "lean_error", answer="SUBGOAL-ANSWER"),
        _sub(P, 0, 1, 0, 0, 1, "proved"),
        _sub(P, 0, 1, 1, 0, 0, "proved"),
        _line(
            P,
            0,
            0,
            compose,
            stage="compose",
            sketch=1,
            proof="by\n  omega -- composed",
            lean_checks=1,
        ),
        _line(
            P,
            1,
            0,
            "sorry",
            rule="sketch",
            proof=SKETCH,
            prompt_tokens=200,
            holes=[_hole(0, "⊢ a"), _hole(1, "⊢ b"), _hole(2, "⊢ c")],
            **sketch,
        ),
        _sub(P, 1, 0, 0, 0, 0, "proved"),
        _sub(P, 1, 0, 1, 0, 0, "lean_error"),
        _sub(P, 1, 0, 1, 1, 0, "timeout"),
        _line(Q, 0, 0, "no_proof", stage="sketch", prompt_tokens=100, completion_tokens=100),
        _line(Q, 1, 0, "prover_error", stage="sketch", error="HTTP 500"),
    ]


def make_decompose_run(path: Path, compose: str = "proved") -> Path:
    rec = _start(path, ["search.strategy=decompose"], samples=2)
    with rec:
        for i, a in enumerate(decompose_lines(compose)):
            a.time = f"2026-01-01T00:00:{i:02d}+00:00"
            rec.append(a)
    return path


def make_whole_run(path: Path) -> Path:
    """P: a Lean error, then proved in the repair round of sample 0; sample 1 never proves it.
    Q: never proved."""
    rec = _start(path, [], samples=2)
    spend = {"prompt_tokens": 300, "completion_tokens": 100, "lean_checks": 1, "cost": 0.02}
    with rec:
        rec.append(_line(P, 0, 0, "lean_error", **spend))
        rec.append(_line(Q, 0, 0, "lean_error", **spend))
        rec.append(_line(P, 0, 1, "proved", **spend))
        rec.append(_line(P, 1, 0, "sorry", **spend))
        rec.append(_line(Q, 1, 0, "truncated", **spend))
    return path


# ---------------------------------------------------------------------------------------------
# only whole and composed proofs prove a problem


def test_proved_subgoals_with_a_failed_composition_prove_nothing(tmp_path):
    run = make_decompose_run(tmp_path / "run", compose="lean_error")
    data = load_run(run)
    s = data.summary
    assert s.by_stage["subgoal"]["proved"] == 3  # three holes filled ...
    assert (s.problems, s.proved) == (2, 0)  # ... and no problem proved
    assert s.pass_at == {"1": 0.0, "2": 0.0}
    assert s.by_split["test"]["proved"] == 0 and s.by_category["mathd_algebra"]["proved"] == 0
    po = data.outcomes[P]
    assert (po.c, po.first_proof) == (0, None)
    assert data.curve is not None and data.curve.solved == 0
    assert data.curve.points == [(0, 0, 0)]
    assert s.per_solved == {"calls": None, "tokens": None, "cost": None, "lean_checks": None}
    md = write_reports(run)[0].read_text()
    assert "0 of 2 problems proved" in md and "## Proofs found" not in md
    rows = list(csv.DictReader(io.StringIO(export_csv([run]))))
    assert [r["proved"] for r in rows if r["row"] == "problem"] == ["0", "0"]
    assert json.loads(export_json([run]))["problems"][0]["proved_in"] == 0


def test_a_proved_composition_proves_its_problem_once_per_sample(tmp_path):
    run = make_decompose_run(tmp_path / "run", compose="proved")
    data = load_run(run)
    s = data.summary
    assert (s.problems, s.proved) == (2, 1)
    # P: n = 2 samples, c = 1 (sample 0's composed proof); Q: c = 0
    assert s.pass_at == {"1": 0.25, "2": 0.5}
    po = data.outcomes[P]
    assert po.c == 1 and po.first_proof is not None and po.first_proof.stage == "compose"
    assert s.by_split == {
        "test": {"problems": 1, "proved": 1, "pass_at": {"1": 0.5, "2": 1.0}},
        "valid": {"problems": 1, "proved": 0, "pass_at": {"1": 0.0, "2": 0.0}},
    }
    rows = {r["problem"]: r for r in csv.DictReader(io.StringIO(export_csv([run])))}
    assert (rows[P]["proved"], rows[P]["proved_samples"]) == ("1", "1")
    assert rows[P]["first_proof"] == "0:k1/compose"


def test_summarize_counts_a_subgoal_proof_as_no_problem_proof():
    lines = [_line("p", 0, 0, "proved", stage="subgoal", sketch=0, subgoal=0, subsample=0)]
    s = summarize(lines, ["p"], "s", 1)
    assert (s.proved, s.pass_at) == (0, {"1": 0.0})
    assert s.by_verdict["proved"] == 1  # the line's verdict, counted as a line


# ---------------------------------------------------------------------------------------------
# budgets


def test_budget_of_a_decomposition_run(tmp_path):
    s = load_run(make_decompose_run(tmp_path / "run")).summary
    assert s.strategy == "decompose"
    # sketch lines: 4 answered (P: 3, Q: 1) and one prover_error, which is no call
    assert s.decomposer_calls == 4
    assert s.prover_calls == 6  # subgoal lines; the compose line asks no model
    assert (s.prompt_tokens, s.completion_tokens) == (840, 310)
    assert s.cost == pytest.approx(0.036)  # 3 sketches at 0.01, 6 subgoals at 0.001
    assert s.lean_checks == 3 + 6 + 1
    assert s.per_problem == {"calls": 5.0, "tokens": 575.0, "cost": 0.018, "lean_checks": 5.0}
    assert s.per_solved == {"calls": 10.0, "tokens": 1150.0, "cost": 0.036, "lean_checks": 10.0}
    assert s.by_stage == {
        "compose": {"proved": 1},
        "sketch": {"lean_error": 1, "no_proof": 1, "prover_error": 1, "sorry": 2},
        "subgoal": {"lean_error": 2, "proved": 3, "timeout": 1},
    }


def test_budget_of_a_whole_run_and_summary_json(tmp_path):
    run = make_whole_run(tmp_path / "run")
    rec = RunRecord(run)
    s = load_run(run).summary
    assert (s.strategy, s.prover_calls, s.decomposer_calls, s.lean_checks) == ("whole", 5, 0, 5)
    assert s.per_problem == {"calls": 2.5, "tokens": 1000.0, "cost": 0.05, "lean_checks": 2.5}
    assert s.per_solved == {"calls": 5.0, "tokens": 2000.0, "cost": 0.1, "lean_checks": 5.0}
    rec.write_summary(s)
    written = rec.read_summary()
    assert written is not None
    assert written["per_solved"]["tokens"] == 2000.0 and written["strategy"] == "whole"
    assert Summary.from_json(written) == s


def test_summary_json_of_older_versions_still_reads():
    old = {
        "suite": "smoke",
        "problems": 2,
        "proved": 1,
        "attempts": 3,
        "pass_at": {"1": 0.5},
        "infrastructure_failures": 0,  # written beside the summary, not a field
    }
    s = Summary.from_json(old)
    assert (s.proved, s.strategy, s.prover_calls, s.lean_checks) == (1, "whole", 0, 0)
    assert s.per_problem == {} and s.per_solved == {}


def test_record_lines_of_older_versions_count_as_whole_rounds(tmp_path):
    rec = _start(tmp_path / "run", [], samples=1)
    rec.attempts_path.write_text(
        json.dumps({"problem": P, "sample": 0, "round": 0, "verdict": "proved", "cost": None})
        + "\n"
    )
    s = load_run(rec.dir).summary
    assert (s.proved, s.prover_calls, s.lean_checks, s.cost) == (1, 1, 0, None)
    assert s.per_problem["cost"] is None and s.per_solved["calls"] == 1.0


def test_config_before_strategy_reads_as_whole(tmp_path):
    rec = _start(tmp_path / "run", [], samples=1)
    config = rec.read_config()
    assert config is not None
    config["search"].pop("strategy", None)
    rec.config_path.write_text(json.dumps(config))  # JSON is YAML
    assert load_run(rec.dir).summary.strategy == "whole"


# ---------------------------------------------------------------------------------------------
# the budget curve


def test_budget_curve_follows_completion_order():
    curve = BudgetCurve()
    for a in [
        _line("p", 0, 0, "lean_error", prompt_tokens=10, completion_tokens=5),
        _line(
            "p",
            0,
            0,
            "proved",
            stage="subgoal",
            sketch=0,
            subgoal=0,
            subsample=0,
            completion_tokens=5,
        ),
        _line("q", 0, 0, "proved", completion_tokens=20),
        _line("p", 0, 0, "proved", stage="compose", sketch=0),  # no call: p solved at 3 calls
        _line("q", 1, 0, "proved", completion_tokens=20),  # q again: not a new solve
        _line("r", 0, 0, "prover_error"),
    ]:
        curve.add(a)
    assert curve.points == [(0, 0, 0), (3, 40, 1), (3, 40, 2)]
    assert (curve.calls, curve.tokens, curve.solved) == (4, 60, 2)
    assert curve.steps("tokens") == ([0, 40, 40, 60], [0, 1, 2, 2])
    assert curve.steps("calls") == ([0, 3, 3, 4], [0, 1, 2, 2])
    assert [curve.solved_within(x, "tokens") for x in (0, 39, 40, 1000)] == [0, 0, 2, 2]
    assert curve.solved_within(2, "calls") == 0 and curve.solved_within(3, "calls") == 2


def test_run_curves_come_from_the_record_in_file_order(tmp_path):
    whole = load_run(make_whole_run(tmp_path / "w"), with_attempts=False, outcomes=True).curve
    # P proved by the third line: 3 calls, 1,200 tokens
    assert whole is not None and whole.points == [(0, 0, 0), (3, 1200, 1)]
    dec = load_run(make_decompose_run(tmp_path / "d")).curve
    # P's composed proof is the sixth line: 2 sketches and 3 subgoal calls, 550 tokens
    assert dec is not None and dec.points == [(0, 0, 0), (5, 550, 1)]
    assert (dec.calls, dec.tokens) == (10, 1150)


# ---------------------------------------------------------------------------------------------
# runs compared


def _svg_of(html: str, axis: str) -> str:
    block = html[html.index(f'<div class="budget-{axis}">') :]
    return block[: block.index("</svg>")]


def test_comparison_reads_a_whole_and_a_decompose_run_at_equal_budget(tmp_path):
    w = make_whole_run(tmp_path / "whole")
    d = make_decompose_run(tmp_path / "decomp")
    text = compare_runs([w, d])
    assert "| run | suite | model | strategy | samples | problems | proved |" in text
    assert f"| {w} | smoke |" in text and "| whole | 2 | 2 | 1 | 25.0% | 50.0% |" in text
    assert "| decompose | 2 | 2 | 1 | 25.0% | 50.0% |" in text
    assert "| run | strategy | proved | model calls | tokens | cost | Lean checks |" in text
    # whole: 5 calls, 2,000 tokens, $0.10, 5 checks over 2 problems, 1 solved
    assert "| whole | whole | 1/2 | 5 (prover 5, decomposer 0); 2.5 / 5 |" in text
    assert "$0.1000; $0.0500 / $0.1000" in text
    assert "| decomp | decompose | 1/2 | 10 (prover 6, decomposer 4); 5 / 10 |" in text
    # equal budget: quarters of the smaller total (decompose: 1,150 tokens; whole: 5 calls)
    assert "| tokens at most | whole | decomp |" in text
    assert "| 288 | 0 | 0 |" in text and "| 575 | 0 | 1 |" in text
    assert "| 862 | 0 | 1 |" in text and "| 1,150 | 0 | 1 |" in text
    assert "| model calls at most | whole | decomp |" in text
    assert "| 2 | 0 | 0 |" in text and "| 4 | 1 | 0 |" in text and "| 5 | 1 | 1 |" in text

    html = compare_runs_html([w, d])
    for axis in ("tokens", "calls"):
        svg = _svg_of(html, axis)
        assert f'id="budget-{axis}-0"' in svg and f'id="budget-{axis}-1"' in svg
        assert "<!-- whole -->" in svg and "<!-- decomp -->" in svg  # the legend
        assert "<!-- equal budget -->" in svg
    assert "<td>whole</td>" in html and "<td>decompose</td>" in html
    assert "<th>tokens spent (prompt + completion) at most</th>" in html
    assert "<tr><td>575</td><td>0</td><td>1</td></tr>" in html
    assert "2.5 / 5" in html and "5 / 10" in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)


def test_single_run_report_has_its_budget_and_curves(tmp_path):
    run = make_decompose_run(tmp_path / "run")
    md, html = (p.read_text() for p in write_reports(run))
    assert "## Budget" in md and "Strategy decompose." in md
    assert "| model calls | 10 (prover 6, decomposer 4) | 5 | 10 |" in md
    assert "| Lean checks | 10 | 5 | 10 |" in md
    assert "| cost | $0.0360 | $0.0180 | $0.0360 |" in md
    assert '<table class="budget">' in html
    assert 'id="budget-tokens-0"' in html and 'id="budget-calls-0"' in html


def test_csv_and_json_carry_the_budget(tmp_path):
    w = make_whole_run(tmp_path / "whole")
    d = make_decompose_run(tmp_path / "decomp")
    rows = list(csv.DictReader(io.StringIO(export_csv([w, d]))))
    runs = {r["run"]: r for r in rows if r["row"] == "run"}
    assert runs[str(d)]["strategy"] == "decompose" and runs[str(w)]["strategy"] == "whole"
    dec = runs[str(d)]
    assert (dec["calls"], dec["prover_calls"], dec["decomposer_calls"]) == ("10", "6", "4")
    assert (dec["tokens"], dec["lean_checks"], float(dec["cost"])) == ("1150", "10", 0.036)
    assert float(dec["tokens_per_problem"]) == 575 and float(dec["tokens_per_solved"]) == 1150
    assert float(dec["calls_per_solved"]) == 10 and float(dec["lean_checks_per_problem"]) == 5
    problem = next(r for r in rows if r["row"] == "problem" and r["run"] == str(d))
    assert problem["problem"] == Q  # sorted: imo_2000_p2 first
    assert (problem["calls"], problem["decomposer_calls"], problem["tokens"]) == ("1", "1", "200")
    assert problem["cost"] == "" and problem["calls_per_solved"] == ""
    mean = next(r for r in rows if r["row"] == "mean")
    assert mean["calls"] == "" and float(mean["pass@1"]) == 0.25
    data = json.loads(export_json([w, d]))
    budget = data["runs"][1]["budget"]
    assert (budget["calls"], budget["decomposer_calls"], budget["lean_checks"]) == (10, 4, 10)
    assert budget["per_solved"]["tokens"] == 1150.0
    assert data["runs"][1]["budget_curve"] == [[0, 0, 0], [5, 550, 1]]
    p_runs = next(p for p in data["problems"] if p["problem"] == P)["runs"]
    assert p_runs[str(d)]["first_proof"]["stage"] == "compose"
    assert p_runs[str(d)]["calls"] == 9 and p_runs[str(w)]["calls"] == 3


# ---------------------------------------------------------------------------------------------
# merged shards keep completion order


def test_merged_shards_are_interleaved_in_completion_order(tmp_path):
    shards = []
    for i, (problem, times) in enumerate(((P, (1, 3)), (Q, (2, 4)))):
        rec = _start(tmp_path / f"shard{i}", [], samples=2, selection=Selection(shard=f"{i}/2"))
        with rec:
            for sample, t in enumerate(times):
                rec.append(_line(problem, sample, 0, "proved", time=f"2026-01-01T00:00:0{t}+00:00"))
        shards.append(rec.dir)
    merge_runs(shards, tmp_path / "all")
    merged = [a.problem for a in RunRecord(tmp_path / "all").iter_effective()]
    assert merged == [P, Q, P, Q]
    curve = load_run(tmp_path / "all", with_attempts=False, outcomes=True).curve
    assert curve is not None and curve.points == [(0, 0, 0), (1, 0, 1), (2, 0, 2)]
