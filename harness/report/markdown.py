"""report.md: the pass@k table, breakdowns, the budget, per-problem table, the proofs found and
each decomposed problem's sketches, holes and composed proofs."""

from __future__ import annotations

from typing import Any

from harness.metrics import format_duration
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
from harness.report.tree import decomposed, sample_trees
from harness.types import Attempt, Summary

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
        f"n = {s.samples} samples per problem, c = {C_TEXT[s.strategy != 'whole']}; "
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
    by_stage = stage_table(s.by_stage)
    if by_stage is None:
        lines += _table(
            ["verdict", "rounds"],
            [[k, v] for k, v in s.by_verdict.items() if v] + [["total", s.attempts]],
        )
    else:  # a proved subgoal is one hole filled, not a proved problem: by stage
        lines += [
            "Lines by verdict and stage; only whole and composed proofs prove a problem.",
            "",
        ]
        lines += _table(["verdict", *by_stage[0]], by_stage[1])
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
    lines += ["", "## Budget", ""]
    lines += [
        f"Strategy {s.strategy}. A model call is an answered request (prover: whole and subgoal "
        "rounds; decomposer: sketch rounds); a composed proof is only checked. Per problem: the "
        f"total over the run's {s.problems} problems; per solved: over the {s.proved} proved.",
        "",
    ]
    lines += _table(
        ["", "total", "per problem", "per solved problem"], [list(r) for r in budget_rows(s)]
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
                    f"{first_proof_text(data.outcomes[name])}{native}",
                    "",
                    fence(a.proof or a.answer),
                    "",
                ]
        trees = [(n, r) for n, r in sorted(data.attempts.items()) if decomposed(r)]
        if trees:
            lines += ["", "## Decompositions", ""]
            for name, rounds in trees:
                lines += _decomposition(name, rounds, data.full)
    return "\n".join(lines).rstrip() + "\n"


def _line_verdict(a: Attempt) -> str:
    reason = verdict_reason(a)
    return f"{a.verdict.value}" + (f" ({_cell(reason)})" if reason else "")


def _decomposition(name: str, rounds: list[Attempt], full: set[tuple[Any, ...]]) -> list[str]:
    """A decomposed problem: per sample, each sketch round's verdict (the accepted sketch in
    full), its holes' outcomes and the composed proof's verdict (the proof itself, when proved,
    is under "Proofs found")."""
    lines = [f"### {_cell(name)}", ""]
    for tree in sample_trees(rounds):
        for sk in tree.sketches:
            k = sk.line
            head = f"sample {tree.sample}, sketch round {k.round}"
            if not sk.accepted:
                lines += [f"- {head}: {_line_verdict(k)}"]
                continue
            lines += ["", f"{head}: accepted with {len(sk.holes)} holes", ""]
            if k.proof:
                lines += [fence(k.proof), ""]
            text = k.key in full  # a sketch past a problem's first lines keeps no text
            rows = [
                [
                    h.index,
                    " ".join((h.lemma or h.goal).split()) if text else "-",
                    h.outcome,
                    len(h.lines),
                ]
                for h in sk.holes
            ]
            lines += _table(["hole", "lemma", "outcome", "lines"], rows)
            compose = sk.compose
            lines += [
                "",
                f"composed proof: {_line_verdict(compose) if compose else 'not recorded'}",
                "",
            ]
    return lines + [""]


def render_comparison(cmp: Comparison) -> str:
    """Several runs side by side; pass@k as mean ± std (sample std) over them; which run
    proved which problem."""
    runs = cmp.runs
    summaries: list[Summary] = [r.summary for r in runs]
    ks = list(cmp.agg)
    lines = [f"# {len(runs)} runs side by side", ""]
    head = [
        "run",
        "suite",
        "model",
        "strategy",
        "samples",
        "problems",
        "proved",
        *(f"pass@{k}" for k in ks),
    ]
    rows = []
    for r, s in zip(runs, summaries, strict=True):
        model = r.config.get("prover", {}).get("model", "-")
        rows.append(
            [str(r.dir), r.suite_name, model, s.strategy, s.samples, s.problems, s.proved]
            + [fmt_pct(s.pass_at.get(k)) for k in ks]
        )
    proved_mean = sum(s.proved for s in summaries) / len(summaries) if summaries else 0
    rows.append(
        ["mean ± std", "", "", "", "", "", f"{proved_mean:.1f}"]
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
    lines += _comparison_budget(cmp)
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


def _comparison_budget(cmp: Comparison) -> list[str]:
    """Each run's budget, and the problems each had solved at equal budget."""
    labels = cmp.labels
    lines = ["", "## Budget", ""]
    lines += [
        "A model call is an answered request (prover: whole and subgoal rounds; decomposer: "
        "sketch rounds); a composed proof is only checked. Each cell: the total, then per "
        "problem (mean over the run's problems) / per solved problem (over the problems proved).",
        "",
    ]
    budgets = [budget_rows(r.summary) for r in cmp.runs]
    head = ["run", "strategy", "proved", *(row[0] for row in budgets[0])] if budgets else []
    rows = [
        [label, r.summary.strategy, f"{r.summary.proved}/{r.summary.problems}"]
        + [f"{total}; {per} / {solved}" for _, total, per, solved in budget]
        for label, r, budget in zip(labels, cmp.runs, budgets, strict=True)
    ]
    lines += _table(head, rows)
    for axis, what in (("tokens", "tokens"), ("calls", "model calls")):
        solved = cmp.solved_at(axis)
        if not solved:
            continue
        lines += ["", f"### Solved within a budget of {what}", ""]
        lines += [
            f"Problems each run had solved when it had spent at most this many {what}, in the "
            "order its rounds finished (the last row: the smaller run's total).",
            "",
        ]
        lines += _table(
            [f"{what} at most", *labels],
            [[fmt_number(x), *("-" if n is None else n for n in ns)] for x, ns in solved],
        )
    return lines
