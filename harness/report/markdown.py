"""report.md: the pass@k table, breakdowns, per-problem table and the proofs found."""

from __future__ import annotations

from typing import Any

from harness.metrics import format_duration
from harness.report.data import (
    Comparison,
    RunData,
    first_proof_text,
    fmt_pct,
    header_facts,
    verdict_counts,
)
from harness.types import Summary

__all__ = ["render_markdown", "render_comparison", "fence"]


def _cell(text: Any) -> str:
    """Table cells hold untrusted names; keep them on one line and out of the table syntax."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")  # no raw HTML from model or suite text


def fence(code: str, lang: str = "lean") -> str:
    """A fenced block longer than any backtick run inside the code."""
    longest = 0
    run = 0
    for ch in code:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{code.rstrip()}\n{ticks}"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _group_rows(groups: dict[str, dict[str, Any]], ks: list[str]) -> list[list[Any]]:
    rows = []
    for name, g in groups.items():
        rows.append([name, g["problems"], g["proved"]] + [fmt_pct(g["pass_at"].get(k)) for k in ks])
    return rows


def render_markdown(data: RunData) -> str:
    s = data.summary
    lines = [f"# Run report: {_cell(data.suite_name)}", ""]
    lines += _table(["", ""], [[k, v] for k, v in header_facts(data)])
    lines += ["", "## pass@k", ""]
    lines += [
        f"{s.proved} of {s.problems} problems proved ({fmt_pct(s.proved / s.problems if s.problems else None)}); "
        f"n = {s.samples} samples per problem, c = samples with a proved round (repair rounds included); "
        "unbiased estimator, averaged over problems.",
        "",
    ]
    lines += _table(["k", "pass@k"], [[k, fmt_pct(v)] for k, v in s.pass_at.items()])
    ks = list(s.pass_at)
    lines += ["", "## By split", ""]
    heads = [f"pass@{k}" for k in ks]
    lines += _table(["split", "problems", "proved", *heads], _group_rows(s.by_split, ks))
    lines += ["", "## By category", ""]
    lines += _table(["category", "problems", "proved", *heads], _group_rows(s.by_category, ks))
    lines += ["", "## Verdicts", ""]
    lines += _table(
        ["verdict", "rounds"],
        [[k, v] for k, v in s.by_verdict.items() if v] + [["total", s.attempts]],
    )
    lines += ["", "## Tokens, cost and time", ""]
    lines += _table(
        ["", ""],
        [
            ["prompt tokens", f"{s.prompt_tokens:,}"],
            ["completion tokens", f"{s.completion_tokens:,}"],
            ["cost", "-" if s.cost is None else f"${s.cost:.4f}"],
            ["prover time (sum over rounds)", format_duration(s.prover_s)],
            ["Lean time (sum over rounds)", format_duration(s.check_s)],
            ["wall time", format_duration(data.wall_s)],
        ],
    )
    if data.outcomes:
        lines += ["", "## Problems", ""]
        rows = []
        for name, po in sorted(data.outcomes.items()):
            rounds = data.attempts.get(name, [])
            rows.append(
                [
                    name,
                    po.split or "-",
                    f"{po.c}/{s.samples}",
                    len(rounds),
                    first_proof_text(po),
                    verdict_counts(rounds),
                ]
            )
        lines += _table(
            ["problem", "split", "proved samples", "rounds", "first proof", "verdicts"], rows
        )
        proved = [(n, po.first_proof) for n, po in sorted(data.outcomes.items()) if po.first_proof]
        if proved:
            lines += ["", "## Proofs found", ""]
            for name, a in proved:
                assert a is not None
                native = " (native_decide: trusts the compiler)" if a.native else ""
                lines += [
                    f"### {_cell(name)}",
                    "",
                    f"sample {a.sample}, round {a.round}{native}",
                    "",
                    fence(a.proof or a.answer),
                    "",
                ]
    return "\n".join(lines).rstrip() + "\n"


def render_comparison(cmp: Comparison) -> str:
    """Several runs side by side; pass@k as mean ± std (sample std) over them; which run
    proved which problem."""
    runs = cmp.runs
    summaries: list[Summary] = [r.summary for r in runs]
    ks = list(cmp.agg)
    lines = [f"# {len(runs)} runs side by side", ""]
    head = ["run", "suite", "model", "samples", "problems", "proved", *(f"pass@{k}" for k in ks)]
    rows = []
    for r, s in zip(runs, summaries, strict=True):
        model = r.config.get("prover", {}).get("model", "-")
        rows.append(
            [str(r.dir), r.suite_name, model, s.samples, s.problems, s.proved]
            + [fmt_pct(s.pass_at.get(k)) for k in ks]
        )
    proved_mean = sum(s.proved for s in summaries) / len(summaries) if summaries else 0
    rows.append(
        ["mean ± std", "", "", "", "", f"{proved_mean:.1f}"]
        + [f"{100 * m:.1f}% ± {100 * sd:.1f}" for m, sd in cmp.agg.values()]
    )
    lines += _table(head, rows)
    suites = {r.suite_name for r in runs}
    counts = {s.problems for s in summaries}
    if len(suites) > 1 or len(counts) > 1:
        lines += [
            "",
            "Note: the runs cover different suites or problem counts; the mean mixes them.",
        ]
    lines += ["", "std is the sample standard deviation over runs (as the papers' ± σ)."]
    if cmp.problems:
        labels = cmp.labels
        lines += ["", "## Problems", ""]
        lines += [
            "Proved samples of n in each run (- : the run did not cover the problem).",
            "",
        ]
        prows = []
        for name, split, outcomes in cmp.problems:
            cells = [
                "-" if po is None else f"{po.c}/{r.summary.samples}"
                for po, r in zip(outcomes, runs, strict=True)
            ]
            covered = sum(po is not None for po in outcomes)
            proved = sum(po is not None and po.proved for po in outcomes)
            prows.append([name, split or "-", *cells, f"{proved}/{covered}"])
        lines += _table(["problem", "split", *labels, "proved in runs"], prows)
    return "\n".join(lines) + "\n"
