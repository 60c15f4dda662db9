"""`harness report`: report.md and report.html from a run directory, or runs side by side."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a run's report (or compare several runs: mean ± std of pass@k)",
        description=(
            "With one DIR: (re)write DIR/report.md and DIR/report.html from the record. With "
            "several: print the runs side by side, pass@k as mean ± std over them."
        ),
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="run directories")
    p.add_argument("--out", metavar="FILE", help="also write the comparison to FILE (.md or .html)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.record import write_atomic
    from harness.report import compare_runs, compare_runs_html, load_run, write_reports

    if len(args.dirs) == 1 and not args.out:
        paths = write_reports(args.dirs[0])
        s = load_run(args.dirs[0], with_attempts=False).summary
        pass_at = ", ".join(f"pass@{k} {100 * v:.1f}%" for k, v in s.pass_at.items())
        print(f"{s.proved}/{s.problems} proved, {s.attempts} rounds; {pass_at}")
        for path in paths:
            print(path)
        return 0
    text = compare_runs(args.dirs)
    print(text, end="")
    if args.out:
        out = Path(args.out)
        write_atomic(out, compare_runs_html(args.dirs) if out.suffix == ".html" else text)
        print(out)
    return 0
