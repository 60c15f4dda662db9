"""`harness check`: check proofs with the full soundness chain, outside a run.

    harness check FILE.lean                      every `theorem` in the file, statements as written
    harness check --suite S PROOFS.jsonl         lines {"name", "proof"}: model-style answers
                                                 checked against suite S's statements

One line per theorem, `NAME VERDICT`, then the rule that fired and where, or Lean's first error;
`--json` prints JSON Lines only. Exit status 0 only when every theorem is proved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from harness.check import check_all, explain, file_items, suite_items, verdict_json
from harness.cli.common import add_config_options, config_from_args
from harness.types import VerdictKind


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check a Lean file, or a JSONL of answers against a suite, soundly",
        description=__doc__.split("\n")[0],
    )
    p.add_argument("path", metavar="FILE", help="a .lean file, or (with --suite) a JSONL file")
    p.add_argument("--suite", metavar="SUITE", help="check PROOFS.jsonl against this suite")
    p.add_argument("--from-dir", metavar="DIR", help="load the suite from this local folder")
    p.add_argument("--json", action="store_true", help="JSON Lines on stdout, one per theorem")
    add_config_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.suite:
        items = suite_items(args.path, args.suite, config, args.from_dir)
    else:
        items = file_items(args.path)
    verdicts = asyncio.run(check_all(items, config))
    for item, verdict in zip(items, verdicts, strict=True):
        if args.json:
            print(json.dumps(verdict_json(item.name, verdict), ensure_ascii=False))
        else:
            why = explain(verdict)
            native = " (native)" if verdict.native else ""
            print(f"{item.name} {verdict.kind.value}{native}" + (f"  {why}" if why else ""))
    sys.stdout.flush()
    return 0 if all(v.kind == VerdictKind.PROVED for v in verdicts) else 1
