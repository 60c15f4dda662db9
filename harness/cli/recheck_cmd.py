"""`harness recheck RUN_DIR`: re-check every proof a run marked `proved`, from a cold start.

Each proved attempt's answer is extracted, screened, spliced and checked again with fresh Lean
processes and the full audit, under the run's own config.yaml (plus any --set) and suite. Prints
the attempts that no longer pass; exit status 1 if any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from harness.errors import RecordError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recheck",
        help="re-check every proved attempt of a run from a cold start",
        description=__doc__.split("\n")[0],
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (attempts.jsonl)")
    p.add_argument("--suite", metavar="SUITE", help="the suite, if not the run config's")
    p.add_argument("--from-dir", metavar="DIR", help="load the suite from this local folder")
    p.add_argument("--json", action="store_true", help="JSON Lines on stdout, one per attempt")
    p.add_argument(
        "--config", metavar="FILE", help="use this config instead of the run's config.yaml"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one key of the run's config (e.g. lean.project_dir=...)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from harness.check import check_all, explain, proved_items, verdict_json
    from harness.config import load_config
    from harness.record import RunRecord
    from harness.suites import load_suite
    from harness.types import VerdictKind

    run_dir = Path(args.run_dir)
    record = RunRecord(run_dir)
    if not record.attempts_path.exists():
        raise RecordError(f"{run_dir}: no attempts.jsonl (not a run directory?)")
    config_path = Path(args.config) if args.config else run_dir / "config.yaml"
    if args.config is None and not config_path.exists():
        config_path = None
    config = load_config(config_path, args.overrides)
    suite = load_suite(args.suite or config.suite, config, from_dir=args.from_dir)

    proved = proved_items(record, suite)
    items = [item for _, item in proved]
    verdicts = asyncio.run(check_all(items, config)) if items else []
    failed = 0
    for (key, item), verdict in zip(proved, verdicts, strict=True):
        ok = verdict.kind == VerdictKind.PROVED
        failed += not ok
        if args.json:
            row = verdict_json(item.name, verdict) | {
                "sample": key[1],
                "round": key[2],
                "still_proved": ok,
            }
            print(json.dumps(row, ensure_ascii=False))
        elif not ok:
            print(
                f"{item.name} sample {key[1]} round {key[2]}: now {verdict.kind.value}  {explain(verdict)}"
            )
    if not args.json:
        print(
            f"rechecked {len(items)} proved attempts: {len(items) - failed} still pass, {failed} no longer pass"
        )
    return 1 if failed else 0
