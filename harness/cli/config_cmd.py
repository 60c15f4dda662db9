"""`harness config`: print the resolved configuration (defaults, file, overrides) as YAML."""

from __future__ import annotations

import argparse

import yaml

from harness.cli.common import add_config_options, config_from_args
from harness.config import config_to_dict


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print the resolved configuration as YAML")
    add_config_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    print(yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True), end="")
    return 0
