"""`harness setup`: install the pinned Lean toolchain, fetch Mathlib's cache, build the REPL."""

from __future__ import annotations

import argparse

from harness.checker.toolchain import run_setup
from harness.cli.common import add_config_options, config_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "setup",
        help="install the pinned Lean toolchain, Mathlib's cache and the REPL (lean.project_dir)",
        description="Runs, in lean.project_dir: elan toolchain install $(cat lean-toolchain); "
        "lake update REPL (once); lake exe cache get; lake build repl. Stops at the first "
        "failing step, naming it and how to fix it.",
    )
    add_config_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    run_setup(config, emit=lambda line: print(line, flush=True))
    return 0
