"""report.html: the pass@k curve, the verdict breakdown and the budget curves (solved problems
against tokens and against model calls) as inline SVG plots, the run's budget, and each
problem's attempts: why each failed (in its row), and, opened, the checked code with line
numbers and Lean's errors marked at their lines, the model's raw answer and the repair prompt
sent for the next round. A decomposed problem shows, per sample, its sketch rounds, the accepted
sketch's holes with their outcome, and the composed proof. A filter (a few lines of inline
script) shows all, failed or proved problems; the page has no external asset and works offline.

Model text is untrusted: the template is rendered with autoescape on, and only the SVG that
matplotlib drew from our own numbers is marked safe. Code lines are cut into plain-text pieces
(before, inside and after Lean's span) that the template escapes one by one.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator
from typing import Any

import jinja2
from markupsafe import Markup

from harness.attempt import verdict_of
from harness.config import SearchConfig
from harness.metrics import BudgetCurve, format_duration
from harness.prompts import repair_message
from harness.report.data import (
    C_TEXT,
    Comparison,
    RunData,
    budget_rows,
    first_proof_text,
    fmt_number,
    fmt_pct,
    header_facts,
    stage_table,
    verdict_counts,
    verdict_reason,
)
from harness.report.tree import accepted_sketch, sample_trees
from harness.types import Attempt, VerdictKind

__all__ = [
    "render_html",
    "render_comparison_html",
    "pass_at_svg",
    "verdict_svg",
    "budget_svg",
    "code_view",
    "repair_prompt",
]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=True,  # answers, proofs and Lean messages come from the model
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["pct"] = fmt_pct
_ENV.filters["duration"] = format_duration
_ENV.filters["number"] = fmt_number

_MAX_MESSAGES_MARKED = 20  # Lean errors and warnings marked in a round's code
# A long raw answer shows its first and last characters (the reasoning starts it, the code
# usually ends it); attempts.jsonl has it whole.
_ANSWER_HEAD = 4000
_ANSWER_TAIL = 4000
_HOLE_TEXT = 2000  # a hole's goal or lemma beyond this is cut (attempts.jsonl has it whole)
_AXIS_LABEL = {"tokens": "tokens spent (prompt + completion)", "calls": "model calls"}


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    # no creation date in the SVG: the same run gives the same report, byte for byte
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    # Inline: drop the XML prolog and DOCTYPE; keep the <svg> element.
    return text[text.index("<svg") :]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "harness"  # stable ids: the same run gives the same file
    return plt


def pass_at_svg(
    series: dict[str, dict[str, float]], spread: dict[str, tuple[float, float]] | None = None
) -> str:
    """pass@k against k (log2 axis), one line per run; with `spread` (k -> (mean, std) over
    runs), the mean with ± std error bars over the runs' fainter lines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for label, pass_at in series.items():
        ks = [int(k) for k in pass_at]
        ax.plot(
            ks,
            [100 * v for v in pass_at.values()],
            marker="o",
            label=label,
            alpha=0.45 if spread else 1.0,
            linewidth=1.0 if spread else 1.5,
        )
    if spread:
        ax.errorbar(
            [int(k) for k in spread],
            [100 * m for m, _ in spread.values()],
            yerr=[100 * sd for _, sd in spread.values()],
            marker="s",
            color="black",
            capsize=4,
            linewidth=2,
            label="mean ± std",
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (samples)")
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    if len(series) > 1 or spread:
        ax.legend(fontsize="small")
    try:
        return _svg(fig)
    finally:
        plt.close(fig)


def verdict_svg(
    by_verdict: dict[str, int], by_stage: dict[str, dict[str, int]] | None = None
) -> str:
    """Rounds by verdict; for a run with more than whole rounds, each bar split by stage (a
    proved subgoal is not a proved problem, and the plot must not read as one)."""
    plt = _pyplot()
    kinds = [k.value for k in VerdictKind]
    counts = [by_verdict.get(k, 0) for k in kinds]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    stages = by_stage or {}
    table = stage_table(stages)
    if table is None:
        ax.barh(kinds[::-1], counts[::-1], color="#4c72b0")
    else:
        left = [0] * len(kinds)
        for stage in table[0]:
            widths = [stages[stage].get(k, 0) for k in kinds[::-1]]
            ax.barh(kinds[::-1], widths, left=left, label=stage)
            left = [x + w for x, w in zip(left, widths, strict=True)]
        ax.legend(fontsize="small")
    ax.set_xlabel("rounds" if table is None else "lines")
    for y, c in enumerate(counts[::-1]):
        if c:
            ax.text(c, y, f" {c}", va="center", fontsize="small")
    try:
        return _svg(fig)
    finally:
        plt.close(fig)


def budget_svg(curves: dict[str, BudgetCurve], axis: str, mark: int | None = None) -> str:
    """Solved problems against cumulative `axis` ("tokens" or "calls"), in completion order:
    one step curve per run on shared axes, so runs compare at equal budget; `mark` draws the
    budget every run reached (the smaller run's total). Each run's line has the id
    `budget-AXIS-I` (I: its place in `curves`)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for i, (label, curve) in enumerate(curves.items()):
        xs, ys = curve.steps(axis)
        (line,) = ax.plot(xs, ys, drawstyle="steps-post", label=label, linewidth=1.5)
        line.set_gid(f"budget-{axis}-{i}")
    if mark:
        ax.axvline(mark, color="grey", linestyle=":", linewidth=1, label="equal budget")
    ax.set_xlabel(_AXIS_LABEL.get(axis, axis))
    ax.set_ylabel("problems solved")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize="small")
    try:
        return _svg(fig)
    finally:
        plt.close(fig)


def _message(m: dict[str, Any]) -> dict[str, Any]:
    """A Lean message as the page shows it: severity, where, and its text."""
    return {
        "severity": str(m.get("severity") or "error"),
        "line": m.get("line"),
        "column": m.get("column"),
        "text": str(m.get("text", "")).rstrip(),
    }


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def code_view(code: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The checked file, line by line, with each Lean error and warning marked at its line:
    the span Lean gave is cut out of the line (`pre`, `mark`, `post`) and the message follows
    the line. The text stays plain; the template escapes it."""
    lines = code.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the file's final newline is not a line of its own
    shown = [m for m in messages if m.get("severity") in ("error", "warning")]
    shown.sort(key=lambda m: m.get("severity") != "error")  # errors are marked first
    marked = shown[:_MAX_MESSAGES_MARKED]
    at: dict[int, list[dict[str, Any]]] = {}
    loose: list[dict[str, Any]] = []  # no line of the code (an audit's, or out of range)
    spans: dict[int, str] = {}  # lines inside a multi-line span -> its severity
    for m in marked:
        line = _int(m.get("line"), 0)
        if not 1 <= line <= len(lines):
            loose.append(_message(m))
            continue
        at.setdefault(line, []).append(m)
        end_line = min(_int(m.get("end_line"), line), len(lines))
        for inner in range(line + 1, end_line + 1):
            spans.setdefault(inner, str(m.get("severity")))
    rows = []
    for n, text in enumerate(lines, 1):
        row: dict[str, Any] = {"n": n, "pre": text, "mark": "", "post": "", "severity": None}
        row["messages"], row["inside"] = [], False
        here = at.get(n, [])
        if here:
            m = here[0]  # the span of the line's first message (errors come first)
            start = max(0, min(_int(m.get("column"), 0), len(text)))
            end = len(text)
            if _int(m.get("end_line"), n) == n and m.get("end_column") is not None:
                end = max(0, min(_int(m.get("end_column"), end), len(text)))
            if end <= start:  # a zero-width span: mark the rest of the line, or all of it
                start, end = (start, len(text)) if start < len(text) else (0, len(text))
            row.update(
                pre=text[:start],
                mark=text[start:end],
                post=text[end:],
                severity=str(m.get("severity")),
                messages=[_message(x) for x in here],
            )
        elif n in spans:
            row["severity"] = spans[n]
            row["inside"] = True
        rows.append(row)
    return {
        "rows": rows,
        "loose": loose,
        "errors": sum(1 for m in shown if m.get("severity") == "error"),
        "more": len(shown) - len(marked),
    }


def _cut(text: str) -> tuple[str, int]:
    """A long answer's head and tail, and how many characters were left out between them."""
    if len(text) <= _ANSWER_HEAD + _ANSWER_TAIL:
        return text, 0
    left_out = len(text) - _ANSWER_HEAD - _ANSWER_TAIL
    return (
        text[:_ANSWER_HEAD]
        + f"\n\n[... {left_out:,} characters not shown: see attempts.jsonl ...]\n\n"
        + text[-_ANSWER_TAIL:],
        left_out,
    )


def repair_prompt(a: Attempt, max_errors: int) -> str:
    """The user turn sent after round `a` (the search's own `repair_message`, from the verdict
    the record kept, exactly as `harness.attempt.conversation` builds it)."""
    return repair_message(verdict_of(a), a.round + 1, max_errors, a.proof)["content"]


def _repair(data: RunData, a: Attempt, next_round: bool) -> tuple[str | None, str]:
    """(the repair prompt sent for the next round, or None; a note when there is none)."""
    if a.verdict is VerdictKind.PROVED:
        return None, ""
    if a.verdict.is_infrastructure:
        return None, "not shown to the model: an infrastructure failure is retried, not repaired"
    if not next_round:
        repairs = data.config.get("search", {}).get("repair_rounds", data.header.repair_rounds)
        rounds = 1 + _int(repairs, 0)
        if a.round + 1 >= rounds:
            return None, f"none: round {a.round} was the sample's last (search.repair_rounds)"
        return None, "none: no later round of this sample is recorded"
    max_errors = _int(
        data.config.get("search", {}).get("feedback_max_errors"),
        SearchConfig.feedback_max_errors,
    )
    return repair_prompt(a, max_errors), ""


def _line_id(pid: str, a: Attempt) -> str:
    """The HTML id of a line: `p-NAME-s0-r1` for a whole round, its tree node otherwise
    (`p-NAME-s0-k1`, `p-NAME-s0-k1-compose`)."""
    if a.stage == "whole":
        return f"{pid}-s{a.sample}-r{a.round}"
    return pid + "-" + a.node[len(a.problem) + 1 :].replace("/", "-")


def _round_view(data: RunData, a: Attempt, pid: str, recorded: set[tuple[int, int]]) -> dict:
    full = a.key in data.full
    accepted = accepted_sketch(a)
    view: dict[str, Any] = {
        "a": a,
        "id": _line_id(pid, a),
        "full": full,
        "ok": a.verdict is VerdictKind.PROVED or accepted,
        "failed": a.verdict is not VerdictKind.PROVED,
        "verdict": f"accepted with {len(a.holes)} holes" if accepted else a.verdict.value,
        "reason": "" if accepted else verdict_reason(a),
        "repairs": a.stage == "whole",  # a sketch's repair turn is the decomposer's own
    }
    if full:
        view["code"] = code_view(a.proof, a.messages) if a.proof else None
        view["answer"], view["answer_cut"] = _cut(a.answer)
        if a.stage == "whole":
            next_round = (a.sample, a.round + 1) in recorded
            view["repair"], view["repair_note"] = _repair(data, a, next_round)
    return view


def _short(text: str) -> str:
    if len(text) <= _HOLE_TEXT:
        return text
    return text[:_HOLE_TEXT] + f"\n[... {len(text) - _HOLE_TEXT:,} characters not shown ...]"


def _trees_view(data: RunData, lines: list[Attempt], pid: str) -> list[dict[str, Any]]:
    """A decomposed problem, per sample: each sketch round (its line as a round view), the
    accepted sketch's holes with their outcome, and the composed proof."""
    out = []
    for tree in sample_trees(lines):
        sketches = []
        for sk in tree.sketches:
            # a sketch past a problem's first lines keeps no text: its holes show no goals either
            text = sk.line.key in data.full
            holes = [
                {
                    "index": h.index,
                    "goal": _short(h.goal) if text else None,
                    "lemma": _short(h.lemma) if text else None,
                    "outcome": h.outcome,
                    "lines": len(h.lines),
                    "verdicts": h.verdicts,
                }
                for h in sk.holes
            ]
            sketches.append(
                {
                    "round": _round_view(data, sk.line, pid, set()),
                    "accepted": sk.accepted,
                    "holes": holes,
                    "proved_holes": sum(h["outcome"] == "proved" for h in holes),
                    "compose": _round_view(data, sk.compose, pid, set()) if sk.compose else None,
                }
            )
        orphans = [_round_view(data, a, pid, set()) for a in tree.orphans if a.stage == "compose"]
        out.append({"sample": tree.sample, "sketches": sketches, "orphans": orphans})
    return out


def _problem_view(data: RunData, name: str, pid: str) -> dict[str, Any]:
    po = data.outcomes[name]
    attempts = data.attempts.get(name, [])
    whole = [a for a in attempts if a.stage == "whole"]
    recorded = {(a.sample, a.round) for a in whole}
    return {
        "name": name,
        "outcome": po,
        "status": "proved" if po.proved else "failed",
        # built as the page renders them: a long run's code views are never all in memory
        "rounds": (_round_view(data, a, pid, recorded) for a in whole),
        "decomposed": len(whole) < len(attempts),
        "trees": functools.partial(_trees_view, data, attempts, pid),  # called as it renders
        "n_rounds": len(attempts),
        "first_proof": first_proof_text(po),
        "verdicts": verdict_counts(attempts),
        "id": pid,
    }


def _ids(names: list[str]) -> dict[str, str]:
    """An HTML id per problem: its name with non-word characters replaced, made unique."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = "p-" + re.sub(r"\W", "_", name)
        pid, i = base, 2
        while pid in used:
            pid, i = f"{base}-{i}", i + 1
        used.add(pid)
        out[name] = pid
    return out


def render_html(data: RunData) -> str:
    return "".join(html_chunks(data))


def html_chunks(data: RunData) -> Iterator[str]:
    """The report as it renders, piece by piece: a long run's page (tens of MB) is written
    out as it goes instead of being held whole."""
    s = data.summary
    svg_pass = pass_at_svg({"this run": s.pass_at}) if s.pass_at else ""
    svg_verdicts = verdict_svg(s.by_verdict, s.by_stage) if s.attempts else ""
    curve = data.curve
    svg_budget = (
        [budget_svg({"this run": curve}, axis) for axis in ("tokens", "calls")]
        if curve is not None and s.attempts
        else []
    )
    names = sorted(data.outcomes)
    ids = _ids(names)
    problems = [_problem_view(data, n, ids[n]) for n in names]  # the page reads it twice
    proved = sum(1 for p in problems if p["status"] == "proved")
    return _ENV.get_template("report.html.j2").generate(
        s=s,
        title=data.suite_name,
        counts={"all": len(problems), "failed": len(problems) - proved, "proved": proved},
        facts=header_facts(data),
        svg_pass=Markup(svg_pass),
        svg_verdicts=Markup(svg_verdicts),
        svg_budget=[Markup(svg) for svg in svg_budget],
        budget=budget_rows(s),
        stages=stage_table(s.by_stage),
        c_text=C_TEXT[s.strategy != "whole"],
        problems=problems,
        wall_s=data.wall_s,
    )


def render_comparison_html(cmp: Comparison) -> str:
    labels = cmp.labels
    series = {
        label: r.summary.pass_at
        for label, r in zip(labels, cmp.runs, strict=True)
        if r.summary.pass_at
    }
    problems = []
    for name, split, outcomes in cmp.problems:
        covered = sum(po is not None for po in outcomes)
        proved = sum(po is not None and po.proved for po in outcomes)
        problems.append(
            {
                "name": name,
                "split": split,
                "cells": list(zip(outcomes, [r.summary.samples for r in cmp.runs], strict=True)),
                "proved": proved,
                "covered": covered,
            }
        )
    curves = {label: r.curve for label, r in zip(labels, cmp.runs, strict=True) if r.curve}
    budget = {}
    for axis in ("tokens", "calls"):
        points = cmp.budget_points(axis)
        budget[axis] = {
            "svg": Markup(budget_svg(curves, axis, points[-1]) if points else ""),
            "rows": cmp.solved_at(axis),
            "label": _AXIS_LABEL[axis],
        }
    return _ENV.get_template("compare.html.j2").render(
        runs=cmp.runs,
        labels=labels,
        ks=list(cmp.agg),
        agg=cmp.agg,
        problems=problems,
        mixed=len({r.suite_name for r in cmp.runs}) > 1
        or len({r.summary.problems for r in cmp.runs}) > 1,
        svg_pass=Markup(pass_at_svg(series, cmp.agg) if series else ""),
        budgets=[budget_rows(r.summary) for r in cmp.runs],
        budget=budget,
    )
