"""`harness extract`."""

from __future__ import annotations

import argparse

from harness.cli.common import add_config_options
from harness.errors import HarnessError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="(not yet implemented)")
    add_config_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise HarnessError("harness extract: not implemented yet")
