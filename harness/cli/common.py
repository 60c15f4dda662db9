"""Flags shared by every command that uses configuration."""

from __future__ import annotations

import argparse

from harness.config import Config, load_config

__all__ = ["add_config_options", "config_from_args"]


def add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="YAML config file (defaults otherwise)")
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one config key; the value is parsed as YAML (repeatable)",
    )


def config_from_args(args: argparse.Namespace, extra: dict | None = None) -> Config:
    """The config named by --config (or a positional CONFIG), with --set overrides applied."""
    path = getattr(args, "config", None) or getattr(args, "config_positional", None)
    overrides = list(getattr(args, "overrides", []) or [])
    config = load_config(path, overrides)
    if extra:
        from harness.config import _merge, config_to_dict

        config = load_config(None, _merge(config_to_dict(config), extra))
    return config
