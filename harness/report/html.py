"""report.html: the pass@k curve and the verdict breakdown as inline SVG plots, and each
problem's attempts with their Lean errors.

Model text is untrusted: the template is rendered with autoescape on, and only the SVG that
matplotlib drew from our own numbers is marked safe.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import jinja2
from markupsafe import Markup

from harness.report.data import RunData, fmt_pct, header_facts
from harness.types import VerdictKind

__all__ = ["render_html", "render_comparison_html", "pass_at_svg", "verdict_svg"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=True,  # answers, proofs and Lean messages come from the model
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["pct"] = fmt_pct

_MAX_ERRORS_SHOWN = 8  # Lean errors listed per round


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


def pass_at_svg(series: dict[str, dict[str, float]]) -> str:
    """pass@k against k (log2 axis), one line per run."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for label, pass_at in series.items():
        ks = [int(k) for k in pass_at]
        ax.plot(ks, [100 * v for v in pass_at.values()], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (samples)")
    ax.set_ylabel("pass@k (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small")
    try:
        return _svg(fig)
    finally:
        plt.close(fig)


def verdict_svg(by_verdict: dict[str, int]) -> str:
    plt = _pyplot()
    kinds = [k.value for k in VerdictKind]
    counts = [by_verdict.get(k, 0) for k in kinds]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.barh(kinds[::-1], counts[::-1], color="#4c72b0")
    ax.set_xlabel("rounds")
    for y, c in enumerate(counts[::-1]):
        if c:
            ax.text(c, y, f" {c}", va="center", fontsize="small")
    try:
        return _svg(fig)
    finally:
        plt.close(fig)


def _problem_view(data: RunData, name: str) -> dict[str, Any]:
    po = data.outcomes[name]
    rounds = []
    for a in data.attempts.get(name, []):
        errors = [m for m in a.messages if m.get("severity") == "error"]
        rounds.append(
            {
                "a": a,
                "full": a.key in data.full,
                "errors": errors[:_MAX_ERRORS_SHOWN],
                "more_errors": max(0, len(errors) - _MAX_ERRORS_SHOWN),
            }
        )
    return {"name": name, "outcome": po, "rounds": rounds, "id": re.sub(r"\W", "_", name)}


def render_html(data: RunData) -> str:
    return "".join(html_chunks(data))


def html_chunks(data: RunData) -> Iterator[str]:
    """The report as it renders, piece by piece: a long run's page (tens of MB) is written
    out as it goes instead of being held whole."""
    s = data.summary
    svg_pass = pass_at_svg({"this run": s.pass_at}) if s.pass_at else ""
    svg_verdicts = verdict_svg(s.by_verdict) if s.attempts else ""
    problems = [_problem_view(data, n) for n in sorted(data.outcomes)]  # the page reads it twice
    return _ENV.get_template("report.html.j2").generate(
        s=s,
        facts=header_facts(data),
        svg_pass=Markup(svg_pass),
        svg_verdicts=Markup(svg_verdicts),
        problems=problems,
        wall_s=data.wall_s,
    )


def render_comparison_html(runs: list[RunData], agg: dict[str, tuple[float, float]]) -> str:
    series = {str(r.dir): r.summary.pass_at for r in runs if r.summary.pass_at}
    if agg:
        series["mean"] = {k: m for k, (m, _) in agg.items()}
    return _ENV.get_template("compare.html.j2").render(
        runs=runs,
        ks=list(agg),
        agg=agg,
        svg_pass=Markup(pass_at_svg(series) if series else ""),
    )
