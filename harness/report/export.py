"""Several runs as data: per-problem rows and pass@k per run, as CSV or JSON.

CSV: one table, one row per line of meaning, told apart by the first column `row`:

    row      run   problem  split  samples  proved_samples  proved  rounds  first_proof  <budget>  pass@1 ...
    problem  DIR   NAME     test   4        2               1       5       0:1          ...       0.5    ...
    run      DIR                   4                        12      80                   ...       0.31   ...
    mean                                                                                           0.30   ...
    std                                                                                            0.02   ...

A `problem` row's pass@k is that problem's term (a run's pass@k is their mean); `proved` is 0/1
for a problem and the number of problems proved for a run; `rounds` counts recorded lines;
`first_proof` is `sample:round` (`sample:kK/compose` for a composed proof of sketch round K).
`mean` and `std` (sample standard deviation) are over the runs, for the k every run reports.

The budget columns (`BUDGET_COLUMNS`): `strategy`; `calls` (= `prover_calls` +
`decomposer_calls`: answered model requests), `tokens` (prompt + completion), `cost` (empty when
unknown), `lean_checks`: the problem's, or the run's totals; and on `run` rows the totals per
problem (`*_per_problem`, mean over the run's problems) and per solved problem (`*_per_solved`,
over the problems proved; empty when none).

JSON: {"runs": [...], "pass_at": {k: {"mean", "std", "runs"}}, "problems": [...]}, each run with
its `budget` (the same figures) and `budget_curve` ([calls, tokens, solved] after each line that
solved a problem, in completion order), each problem with its outcome per run (keyed by run
directory; null: the run did not cover it).
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

from harness.metrics import BUDGET_KEYS, ProblemOutcome, problem_pass_at
from harness.report.data import Comparison, RunData, load_comparison
from harness.types import Summary

__all__ = ["BUDGET_COLUMNS", "export_csv", "export_json", "comparison_csv", "comparison_json"]

_TOTALS = ("calls", "prover_calls", "decomposer_calls", "tokens", "cost", "lean_checks")
BUDGET_COLUMNS = (
    "strategy",
    *_TOTALS,
    *(f"{key}_per_{per}" for key in BUDGET_KEYS for per in ("problem", "solved")),
)

_DIGITS = 6  # pass@k values are rounded to this many decimals


def _round(value: float) -> float:
    return round(value, _DIGITS)


def _first_proof(po: ProblemOutcome) -> str:
    first = po.first_proof
    if first is None:
        return ""
    if first.stage == "compose":
        return f"{first.sample}:k{first.sketch}/compose"
    return f"{first.sample}:{first.round}"


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _cost(value: float | None) -> float | None:
    return None if value is None else _round(value)


def _run_budget(s: Summary) -> dict[str, Any]:
    return {
        "calls": s.prover_calls + s.decomposer_calls,
        "prover_calls": s.prover_calls,
        "decomposer_calls": s.decomposer_calls,
        "tokens": s.prompt_tokens + s.completion_tokens,
        "prompt_tokens": s.prompt_tokens,
        "completion_tokens": s.completion_tokens,
        "cost": s.cost,
        "lean_checks": s.lean_checks,
        "per_problem": dict(s.per_problem),
        "per_solved": dict(s.per_solved),
    }


def _run_budget_cells(s: Summary) -> list[Any]:
    b = _run_budget(s)
    cells = [s.strategy, *(_blank(b[key]) for key in _TOTALS)]
    for key in BUDGET_KEYS:
        cells += [_blank(s.per_problem.get(key)), _blank(s.per_solved.get(key))]
    return cells


def _problem_budget(po: ProblemOutcome) -> dict[str, Any]:
    return {
        "calls": po.calls,
        "prover_calls": po.calls - po.decomposer_calls,
        "decomposer_calls": po.decomposer_calls,
        "tokens": po.tokens,
        "cost": _cost(po.cost),
        "lean_checks": po.lean_checks,
    }


def _run_json(run: RunData) -> dict[str, Any]:
    s = run.summary
    suite = run.suite
    return {
        "run": str(run.dir),
        "suite": run.suite_name,
        "suite_variant": suite.variant,
        "suite_sha256": suite.sha256,
        "model": run.config.get("prover", {}).get("model"),
        "prompt": run.config.get("prompt"),
        "samples": s.samples,
        "problems": s.problems,
        "proved": s.proved,
        "rounds": s.attempts,
        "complete": s.complete,
        "pass_at": {k: _round(v) for k, v in s.pass_at.items()},
        "strategy": s.strategy,
        "budget": _run_budget(s),
        "budget_curve": [list(p) for p in run.curve.points] if run.curve else None,
    }


def comparison_json(cmp: Comparison) -> dict[str, Any]:
    problems = []
    for name, split, outcomes in cmp.problems:
        per_run: dict[str, Any] = {}
        for run, po in zip(cmp.runs, outcomes, strict=True):
            n = run.summary.samples
            per_run[str(run.dir)] = (
                None
                if po is None
                else {
                    "proved": po.proved,
                    "proved_samples": po.c,
                    "samples": n,
                    "rounds": po.attempts,
                    "first_proof": (
                        {
                            "sample": po.first_proof.sample,
                            "round": po.first_proof.round,
                            "stage": po.first_proof.stage,
                            "sketch": po.first_proof.sketch,
                        }
                        if po.first_proof
                        else None
                    ),
                    **_problem_budget(po),
                    "pass_at": {
                        k: _round(v) for k, v in problem_pass_at(po, n, run.summary.pass_at).items()
                    },
                }
            )
        problems.append(
            {
                "problem": name,
                "split": split,
                "proved_in": sum(1 for o in outcomes if o is not None and o.proved),
                "covered_by": sum(1 for o in outcomes if o is not None),
                "runs": per_run,
            }
        )
    return {
        "runs": [_run_json(r) for r in cmp.runs],
        "pass_at": {
            k: {"mean": _round(m), "std": _round(sd), "runs": len(cmp.runs)}
            for k, (m, sd) in cmp.agg.items()
        },
        "problems": problems,
    }


def comparison_csv(cmp: Comparison) -> str:
    ks = cmp.ks
    head = [
        "row",
        "run",
        "problem",
        "split",
        "samples",
        "proved_samples",
        "proved",
        "rounds",
        "first_proof",
        *BUDGET_COLUMNS,
        *(f"pass@{k}" for k in ks),
    ]
    no_budget = [""] * len(BUDGET_COLUMNS)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(head)

    def values(pass_at: dict[str, float]) -> list[Any]:
        return [_round(pass_at[k]) if k in pass_at else "" for k in ks]

    for run in cmp.runs:
        n = run.summary.samples
        for name, po in sorted(run.outcomes.items()):
            out.writerow(
                [
                    "problem",
                    str(run.dir),
                    name,
                    po.split or "",
                    n,
                    po.c,
                    int(po.proved),
                    po.attempts,
                    _first_proof(po),
                    *_problem_cells(run.summary.strategy, po),
                    *values(problem_pass_at(po, n, run.summary.pass_at)),
                ]
            )
    for run in cmp.runs:
        s = run.summary
        out.writerow(
            [
                "run",
                str(run.dir),
                "",
                "",
                s.samples,
                "",
                s.proved,
                s.attempts,
                "",
                *_run_budget_cells(s),
                *values(s.pass_at),
            ]
        )
    for label, index in (("mean", 0), ("std", 1)):
        spread = {k: v[index] for k, v in cmp.agg.items()}
        out.writerow([label, "", "", "", "", "", "", "", "", *no_budget, *values(spread)])
    return buf.getvalue()


def _problem_cells(strategy: str, po: ProblemOutcome) -> list[Any]:
    """A problem row's budget columns: what its lines spent (no per-problem averages)."""
    b = _problem_budget(po)
    return [strategy, *(_blank(b[key]) for key in _TOTALS)] + [""] * (2 * len(BUDGET_KEYS))


def export_csv(dirs: list[str | os.PathLike[str]]) -> str:
    """The runs as CSV: a row per (run, problem), a row per run, and mean and std rows."""
    return comparison_csv(load_comparison(dirs))


def export_json(dirs: list[str | os.PathLike[str]]) -> str:
    """The runs as JSON: each run with its pass@k, pass@k's mean and std over them, and each
    problem's outcome in each run."""
    return json.dumps(comparison_json(load_comparison(dirs)), indent=2, ensure_ascii=False) + "\n"
