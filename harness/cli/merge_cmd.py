"""`harness merge`: combine shard run directories into one run directory and report."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "merge",
        help="combine shard run directories (same config) into one",
        description="Combine the run directories of `harness run --shard i/n` into one.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="shard run directories")
    p.add_argument("--out", required=True, metavar="DIR", help="the merged run directory")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness.record import merge_runs
    from harness.report import write_reports

    summary = merge_runs(args.dirs, args.out)
    write_reports(args.out)
    pass_at = ", ".join(f"pass@{k} {100 * v:.1f}%" for k, v in summary.pass_at.items())
    print(
        f"{args.out}: {len(args.dirs)} shards, {summary.proved}/{summary.problems} proved, "
        f"{summary.attempts} rounds; {pass_at}"
    )
    return 0
