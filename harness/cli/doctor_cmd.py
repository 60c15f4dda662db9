"""`harness doctor`: one line per prerequisite, OK or FAIL with how to fix it."""

from __future__ import annotations

import argparse

from harness.checker.toolchain import doctor_checks
from harness.cli.common import add_config_options, config_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check Python deps, elan/lake/lean, the REPL, Mathlib's cache, endpoint and key",
    )
    add_config_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    failed = 0
    for check in doctor_checks(config):
        print(check.line(), flush=True)
        failed += not check.ok
    print(f"doctor: {'all OK' if not failed else f'{failed} check(s) failed'}")
    return 0 if not failed else 1
