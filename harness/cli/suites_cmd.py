"""`harness suites`: list, show, fetch, and import suites.

harness suites                          one line per built-in/catalogued suite
harness suites show SPEC [--from DIR]   load a suite (name or path) and count its problems
harness suites fetch NAME [--from DIR]  download (or copy) pinned files into the cache
harness suites from-repo URL --commit C [--path GLOB] [--out FILE]   (needs the dojo extra)
"""

from __future__ import annotations

import argparse
from collections import Counter

from harness.cli.common import add_config_options, config_from_args
from harness.errors import SuiteError


def _add_config_options_late(parser: argparse.ArgumentParser) -> None:
    """--config/--set after a sub-subcommand, without resetting values given before it."""
    parser.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS, help="YAML config file"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=argparse.SUPPRESS,
        help="override one config key (repeatable)",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "suites",
        help="list, show, fetch and import theorem suites",
        description="List the built-in and catalogued suites (default), or manage them.",
    )
    add_config_options(p)
    p.set_defaults(handler=run, suites_command="list")
    actions = p.add_subparsers(dest="suites_command", metavar="ACTION")

    show = actions.add_parser("show", help="load a suite (name or path) and count its problems")
    show.add_argument("spec", help="a suite name, or a path to a suite file or directory")
    show.add_argument(
        "--from", dest="from_dir", metavar="DIR", help="load a catalogued suite from DIR"
    )
    _add_config_options_late(show)

    fetch = actions.add_parser("fetch", help="download a catalogued suite into the cache, verified")
    fetch.add_argument("name", help="a catalogue name (see `harness suites`)")
    fetch.add_argument(
        "--from", dest="from_dir", metavar="DIR", help="copy from a local folder instead"
    )
    _add_config_options_late(fetch)

    repo = actions.add_parser(
        "from-repo", help="turn a Lean 4 git repository's theorems into a suite (needs lean-dojo)"
    )
    repo.add_argument("url", help="git URL of the repository")
    repo.add_argument("--commit", required=True, help="commit to trace")
    repo.add_argument("--path", dest="path_glob", metavar="GLOB", help="only files matching GLOB")
    repo.add_argument(
        "--out", default=None, help="JSONL file to write (default: <repo>-<commit>.jsonl)"
    )
    _add_config_options_late(repo)


def run(args: argparse.Namespace) -> int:
    from harness import suites

    action = getattr(args, "suites_command", None) or "list"
    config = config_from_args(args)
    if action == "list":
        for row in suites.list_suites(config):
            print(row.line())
        return 0
    if action == "show":
        suite = suites.load_suite(args.spec, config, from_dir=args.from_dir)
        counts = Counter(p.split or "all" for p in suite.problems)
        holes = sum(p.answer_hole for p in suite.problems)
        src = suite.source
        print(
            f"{src.suite}: {len(suite)} problems ("
            + " ".join(f"{k}={v}" for k, v in counts.items())
            + f"), {holes} with answer holes"
        )
        if src.variant or src.commit:
            print(f"  source: {src.variant or '-'}@{src.commit or '-'}")
        print(f"  sha256: {src.sha256}")
        print(f"  lean:   {src.lean_toolchain or 'not pinned'}")
        return 0
    if action == "fetch":
        entry = suites.catalogue_entry(args.name)
        if entry is None:
            names = ", ".join(e.name for e in suites.CATALOGUE)
            raise SuiteError(args.name, None, f"not a catalogued suite (known: {names})")
        path = suites.fetch_suite(entry, config.suites.cache_dir, from_dir=args.from_dir)
        print(f"{entry.name}: {entry.counts_text()} verified, cached at {path}")
        return 0
    if action == "from-repo":
        from harness.suites.dojo import from_repo

        out = args.out or (
            args.url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
            + f"-{args.commit[:12]}.jsonl"
        )
        path = from_repo(args.url, args.commit, out, args.path_glob)
        print(f"wrote {path}; run it with `harness run --set suite={path}`")
        return 0
    raise SuiteError(action, None, "unknown suites action")
