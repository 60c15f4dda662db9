"""`harness run`: sample, check and repair over a suite, into a resumable run directory."""

from __future__ import annotations

import argparse
import asyncio

from harness.cli.common import add_config_options, config_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the proof search on a suite (resumes when --out already holds a run)",
        description=(
            "Prompt the prover for each problem, check every answer with Lean, feed failures "
            "back for repair rounds, and record everything in a run directory. Running the "
            "same command on the same --out continues where it stopped."
        ),
    )
    p.add_argument("config_positional", nargs="?", metavar="CONFIG", help="YAML config file")
    add_config_options(p)
    p.add_argument("--suite", help="suite name or path (overrides the config's `suite`)")
    p.add_argument("--from", dest="from_dir", metavar="DIR", help="read a catalogue suite from DIR")
    p.add_argument("--out", metavar="DIR", help="run directory (default runs/<suite>-<time>)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="run the I-th of N deterministic shares (default: from SLURM_ARRAY_TASK_ID/COUNT)",
    )
    p.add_argument("--force", action="store_true", help="resume even if the config changed")
    p.add_argument("--no-progress", action="store_true", help="plain progress lines, no bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.search import default_out_dir, parse_shard, run_async, shard_from_env

    config = config_from_args(args, {"suite": args.suite} if args.suite else None)
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit {args.limit}: expected a positive number")
    shard = parse_shard(args.shard) if args.shard else shard_from_env()
    out = args.out or str(default_out_dir(config.suite, shard))
    summary = asyncio.run(
        run_async(
            config,
            out,
            from_dir=args.from_dir,
            limit=args.limit,
            shard=shard,
            force=args.force,
            progress=not args.no_progress,
        )
    )
    pass_at = ", ".join(f"pass@{k} {100 * v:.1f}%" for k, v in summary.pass_at.items())
    state = "" if summary.complete else " (stopped early; run again to continue)"
    print(
        f"{out}: {summary.proved}/{summary.problems} proved, {summary.attempts} rounds; "
        f"{pass_at}{state}"
    )
    return 0
