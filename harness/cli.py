"""`harness`: the command line. Each subcommand is a pair, `_add_NAME_command(subparsers)` and
`_NAME_command(args) -> int`; the work is in the library (nothing imports this module). A
HarnessError becomes one line on stderr."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import yaml

from harness import __version__
from harness.check import check_all, explain, file_items, suite_items, verdict_json
from harness.checker.toolchain import doctor_checks, run_setup
from harness.config import Config, config_to_dict, load_config
from harness.errors import HarnessError, RecordError, SuiteError
from harness.extract import extract_proof
from harness.types import NoProof, VerdictKind


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Proof search for LLM provers on Lean 4 suites, checked soundly.",
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in COMMANDS.values():
        add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except HarnessError as exc:
        if args.debug:
            raise
        print(f"harness: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path that cannot be made, read or written: one line naming it
        if args.debug:
            raise
        print(f"harness: error: {os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130


def os_error_line(exc: OSError) -> str:
    """`PATH: reason` for a file-system error (both paths for a rename), in one line."""
    reason = exc.strerror or str(exc) or exc.__class__.__name__
    if isinstance(exc, FileExistsError) and exc.filename is not None:
        if not Path(exc.filename).is_dir():  # mkdir on a file
            reason = "exists and is not a directory"
    paths = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
    if paths:
        # record.write_atomic writes DIR/.NAME.XXXXXXXX then renames it: name DIR/NAME instead
        tmp = re.fullmatch(r"\.(.+)\.[a-z0-9_]{8}", Path(paths[0]).name)
        if tmp and not Path(paths[0]).exists():
            paths[0] = str(Path(paths[0]).with_name(tmp.group(1)))
            reason = f"cannot write ({reason})"
    return one_line(f"{' -> '.join(paths)}: {reason}" if paths else reason)


def one_line(text: str) -> str:
    """A message's lines joined with "; " (an error is one line on stderr)."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


if __name__ == "__main__":
    sys.exit(main())


# ---------------------------------------------------------------------------------------------
# Options every command that reads a config shares


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
        from harness.config import config_to_dict, merge_dicts

        config = load_config(None, merge_dicts(config_to_dict(config), extra))
    return config


# ---------------------------------------------------------------------------------------------
# harness run: sample, check and repair over a suite, into a resumable run directory.


def _add_run_command(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument(
        "--out",
        metavar="DIR",
        help="run directory (default runs/<suite>-<model>-<config hash>: the same command "
        "resumes the same run)",
    )
    p.add_argument("--limit", type=int, metavar="N", help="only the first N problems")
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="run the I-th of N deterministic shares (default: from SLURM_ARRAY_TASK_ID/COUNT)",
    )
    p.add_argument("--force", action="store_true", help="resume even if the config changed")
    p.add_argument("--no-progress", action="store_true", help="plain progress lines, no bar")
    p.set_defaults(handler=_run_command)


def _run_command(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.search import default_out_dir, parse_shard, run_async, shard_from_env

    config = config_from_args(args, {"suite": args.suite} if args.suite else None)
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit {args.limit}: expected a positive number")
    shard = parse_shard(args.shard) if args.shard else shard_from_env()
    out = args.out or str(default_out_dir(config.suite, shard, config, args.limit))
    try:
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
    except KeyboardInterrupt:
        print(f"harness: interrupted; the run directory is {out}", file=sys.stderr)
        print(f"harness: to resume, run: {_resume_command(args)}", file=sys.stderr)
        return 130
    from harness.record import infrastructure_failures

    infra = infrastructure_failures(summary)
    pass_at = ", ".join(f"pass@{k} {100 * v:.1f}%" for k, v in summary.pass_at.items())
    state = "" if summary.complete else " (stopped early; run again to continue)"
    if infra:
        state = f" ({infra} rounds ended in infrastructure failures; run again to retry them)"
    calls = ""
    if summary.strategy == "decompose":
        calls = (
            f" (decompose: {summary.decomposer_calls} decomposer and "
            f"{summary.prover_calls} prover calls)"
        )
    print(
        f"{out}: {summary.proved}/{summary.problems} proved, {summary.attempts} rounds{calls}; "
        f"{pass_at}{state}"
    )
    return 1 if infra else 0


def _resume_command(args: argparse.Namespace) -> str:
    """The `harness run` command line that resumes this run (the same one, as given)."""
    import shlex

    words = ["harness", "run"]
    if args.config_positional:
        words.append(args.config_positional)
    if args.config:
        words += ["--config", args.config]
    for item in args.overrides or []:
        words += ["--set", item]
    for flag, value in (
        ("--suite", args.suite),
        ("--from", args.from_dir),
        ("--out", args.out),
        ("--limit", args.limit),
        ("--shard", args.shard),
    ):
        if value is not None:
            words += [flag, str(value)]
    words += [
        flag for flag, on in (("--force", args.force), ("--no-progress", args.no_progress)) if on
    ]
    return shlex.join(words)


# ---------------------------------------------------------------------------------------------
# harness check: check proofs with the full soundness chain, outside a run.


def _add_check_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check a Lean file, or a JSONL of answers against a suite, soundly",
        description="Check proofs with the full soundness chain, outside a run.",
    )
    p.add_argument("path", metavar="FILE", help="a .lean file, or (with --suite) a JSONL file")
    p.add_argument("--suite", metavar="SUITE", help="check PROOFS.jsonl against this suite")
    p.add_argument("--from-dir", metavar="DIR", help="load the suite from this local folder")
    p.add_argument("--json", action="store_true", help="JSON Lines on stdout, one per theorem")
    p.add_argument(
        "--trust-header",
        action="store_true",
        help="send a FILE's header (imports, options, opens) to Lean unscreened; without it "
        "the imports must be a known suite header's and the rest is screened",
    )
    _add_backend_option(p)
    add_config_options(p)
    p.set_defaults(handler=_check_command)


def _add_backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=("repl", "oneshot", "kimina"),
        help="where Lean runs (short for --set lean.backend=...; kimina: lean.kimina_urls)",
    )


def _with_backend(args: argparse.Namespace) -> None:
    if args.backend:
        args.overrides = [*args.overrides, f"lean.backend={args.backend}"]


def _check_command(args: argparse.Namespace) -> int:
    _with_backend(args)
    config = config_from_args(args)
    if args.suite:
        items = suite_items(args.path, args.suite, config, args.from_dir)
    else:
        items = file_items(args.path, config.soundness, trust_header=args.trust_header)
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


# ---------------------------------------------------------------------------------------------
# harness extract: what would be checked for one model answer.


def _add_extract_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "extract",
        help="show the proof the harness would check for one model answer",
        description=(
            "Read one model answer (a file, or - for stdin) and print what would be checked: "
            "the auxiliary declarations and the main theorem with its proof. The statement "
            "line is the model's own, shown for context; the suite's original statement is "
            "what gets checked. Exits 1 with the reason when the answer has no proof."
        ),
    )
    p.add_argument("answer", metavar="FILE", help="the model's answer text, or - for stdin")
    p.add_argument("--name", metavar="THEOREM", help="the main theorem's name (default: the last)")
    p.add_argument("--json", action="store_true", help="print the extraction as JSON")
    p.set_defaults(handler=_extract_command)


def _read(path: str) -> str:
    if path == "-":
        raw = getattr(sys.stdin, "buffer", None)
        if raw is None:  # a text-only stream (an embedding program's, a test's)
            return sys.stdin.read()
        # bytes, decoded leniently: junk on stdin is an answer without a proof, not a traceback
        return raw.read().decode("utf-8", errors="replace")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read answer ({exc.strerror or exc})") from exc


def _extract_command(args: argparse.Namespace) -> int:
    found = extract_proof(_read(args.answer), args.name)
    if isinstance(found, NoProof):
        if args.json:
            print(json.dumps({"no_proof": found.reason}))
        print(f"harness extract: no proof: {found.reason}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(found), ensure_ascii=False, indent=2))
        return 0
    print(f"-- found: {found.note}")
    if found.preamble:
        print("-- the answer's own preamble (the suite's header is used instead):")
        print("\n".join("--   " + line for line in found.preamble.split("\n")))
    if found.aux:
        print("-- auxiliary declarations:")
        print(found.aux)
        print()
    if found.statement:
        print("-- main theorem (the model's statement; the suite's original one is checked):")
        print(found.statement, found.proof)
    else:
        print("-- proof (to follow the suite's statement, after `:=`):")
        print(found.proof)
    return 0


# ---------------------------------------------------------------------------------------------
# harness recheck: re-check every proof a run marked `proved`, from a cold start.


def _add_recheck_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recheck",
        help="re-check every proved attempt of a run from a cold start",
        description="Re-check every proof a run marked `proved`, from a cold start.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (attempts.jsonl)")
    p.add_argument("--suite", metavar="SUITE", help="the suite, if not the run config's")
    p.add_argument("--from-dir", metavar="DIR", help="load the suite from this local folder")
    p.add_argument("--json", action="store_true", help="JSON Lines on stdout, one per attempt")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="use this config instead of the run's config.yaml (and the defaults)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one config key (e.g. lean.project_dir=...)",
    )
    _add_backend_option(p)
    p.set_defaults(handler=_recheck_command)


def _recheck_command(args: argparse.Namespace) -> int:
    from harness.check import check_all, explain, proved_items, verdict_json
    from harness.config import load_config
    from harness.record import RunRecord
    from harness.suites import load_suite
    from harness.types import VerdictKind

    _with_backend(args)
    run_dir = Path(args.run_dir)
    record = RunRecord(run_dir)
    if not record.attempts_path.exists():
        raise RecordError(f"{run_dir}: no attempts.jsonl (not a run directory?)")
    if args.config is not None:
        config = load_config(args.config, args.overrides)
    else:
        from harness.config import merge_dicts, parse_overrides
        from harness.errors import ConfigError

        # A run directory may come from someone else: its lean.* (which program runs as Lean,
        # the environment it sees), soundness.* (what counts as proved) and prover.* are never
        # taken; they come from the current config (defaults, --set). Suite and search stay.
        untrusted = ("lean", "soundness", "prover")
        recorded = record.read_config() or {}
        kept = {k: v for k, v in recorded.items() if k not in untrusted}
        try:
            load_config(None, kept)
        except ConfigError as exc:
            raise ConfigError(f"{record.config_path}: {exc}") from exc
        config = load_config(None, merge_dicts(kept, parse_overrides(args.overrides)))
        if recorded:
            print(
                f"harness recheck: the run's suite and search settings are used; "
                f"{', '.join(k + '.*' for k in untrusted)} come from the current "
                f"config (defaults, --set), never from {record.config_path}",
                file=sys.stderr,
            )
    suite = load_suite(args.suite or config.suite, config, from_dir=args.from_dir)

    proved = proved_items(record, suite)
    items = [item for _, item in proved]

    def progress(done: int, total: int) -> None:  # a line at each tenth, and at the end
        if done == total or done % max(1, total // 10) == 0:
            print(f"harness recheck: {done}/{total} re-checked", file=sys.stderr, flush=True)

    verdicts = asyncio.run(check_all(items, config, progress)) if items else []
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


# ---------------------------------------------------------------------------------------------
# harness report: report.md and report.html from a run directory, or runs side by side.


def _add_report_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a run's report (or compare several runs: mean ± std of pass@k)",
        description=(
            "With one DIR: (re)write DIR/report.md and DIR/report.html from the record. With "
            "several: print the runs side by side, pass@k as mean ± std over them, and which "
            "run proved which problem; --format csv|json exports per-problem rows and pass@k "
            "per run instead."
        ),
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="run directories")
    p.add_argument(
        "--out", metavar="FILE", help="also write the comparison to FILE (.md, .html, .csv, .json)"
    )
    p.add_argument(
        "--format",
        choices=_REPORT_FORMATS,
        help="the comparison's format (default: from --out's suffix, else md); csv and json "
        "give per-problem rows and pass@k per run, on stdout without --out",
    )
    p.set_defaults(handler=_report_command)


_REPORT_FORMATS = ("md", "html", "csv", "json")


def _report_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.record import write_atomic
    from harness.report import (
        compare_runs,
        compare_runs_html,
        export_csv,
        export_json,
        load_run,
        write_reports,
    )

    if len(args.dirs) == 1 and not args.out and not args.format:
        paths = write_reports(args.dirs[0])
        s = load_run(args.dirs[0], with_attempts=False).summary
        pass_at = ", ".join(f"pass@{k} {100 * v:.1f}%" for k, v in s.pass_at.items())
        print(f"{s.proved}/{s.problems} proved, {s.attempts} rounds; {pass_at}")
        for path in paths:
            print(path)
        return 0
    out = Path(args.out) if args.out else None
    suffix = out.suffix.lstrip(".").lower() if out else ""
    fmt = args.format or (suffix if suffix in _REPORT_FORMATS else "md")
    if fmt in ("csv", "json"):  # data: per-problem rows and pass@k per run
        data = (export_csv if fmt == "csv" else export_json)(args.dirs)
        if out is None:
            print(data, end="")
        else:
            write_atomic(out, data)
            print(out)
        return 0
    if fmt == "html" and out is None:
        print(compare_runs_html(args.dirs), end="")
        return 0
    text = compare_runs(args.dirs)
    print(text, end="")
    if out is not None:
        write_atomic(out, compare_runs_html(args.dirs) if fmt == "html" else text)
        print(out)
    return 0


# ---------------------------------------------------------------------------------------------
# harness merge: combine shard run directories into one run directory and report.


def _add_merge_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "merge",
        help="combine shard run directories (same config) into one",
        description="Combine the run directories of `harness run --shard i/n` into one.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="shard run directories")
    p.add_argument("--out", required=True, metavar="DIR", help="the merged run directory")
    p.set_defaults(handler=_merge_command)


def _merge_command(args: argparse.Namespace) -> int:
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


# ---------------------------------------------------------------------------------------------
# harness suites: list, show, fetch, and import suites.


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


def _add_suites_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "suites",
        help="list, show, fetch and import theorem suites",
        description="List the built-in and catalogued suites (default), or manage them.",
    )
    add_config_options(p)
    p.set_defaults(handler=_suites_command, suites_command="list")
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


def _suites_command(args: argparse.Namespace) -> int:
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


# ---------------------------------------------------------------------------------------------
# harness setup: install the pinned Lean toolchain, fetch Mathlib's cache, build the REPL.


def _add_setup_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "setup",
        help="install the pinned Lean toolchain, Mathlib's cache and the REPL (lean.project_dir)",
        description="Runs, in lean.project_dir: elan toolchain install $(cat lean-toolchain); "
        "lake update REPL (once); lake exe cache get; lake build repl. Stops at the first "
        "failing step, naming it and how to fix it.",
    )
    add_config_options(p)
    p.set_defaults(handler=_setup_command)


def _setup_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    run_setup(config, emit=lambda line: print(line, flush=True))
    return 0


# ---------------------------------------------------------------------------------------------
# harness doctor: one line per prerequisite, OK or FAIL with how to fix it.


def _add_doctor_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check Python deps, elan/lake/lean, the REPL, Mathlib's cache, endpoint and key",
        description=(
            "Check each prerequisite of a run, one line each: OK, or FAIL with how to fix it. "
            "All checks are local except those marked (network): one GET of the prover "
            "endpoint's /models (with the key when it is set; only a 2xx answer is OK), and "
            "with lean.backend kimina the Lean servers. A custom lean.repl_command (not run "
            "through lake) is started once instead of the elan/lake checks. Exits 1 when a "
            "check fails."
        ),
    )
    p.add_argument("config_positional", nargs="?", metavar="CONFIG", help="YAML config file")
    add_config_options(p)
    p.set_defaults(handler=_doctor_command)


def _doctor_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    failed = 0
    for check in doctor_checks(config):
        print(check.line(), flush=True)
        failed += not check.ok
    print(f"doctor: {'all OK' if not failed else f'{failed} check(s) failed'}")
    return 0 if not failed else 1


# ---------------------------------------------------------------------------------------------
# harness config: print the resolved configuration (defaults, file, overrides) as YAML.


def _add_config_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "config",
        help="print the resolved configuration as YAML",
        description=(
            "Print the configuration a command would use, as YAML: the defaults, then the "
            "config file (CONFIG or --config), then each --set. A relative lean.project_dir "
            "is shown resolved (against the config file's directory)."
        ),
    )
    p.add_argument("config_positional", nargs="?", metavar="CONFIG", help="YAML config file")
    add_config_options(p)
    p.set_defaults(handler=_config_command)


def _config_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    print(yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True), end="")
    return 0


# name -> the function adding its parser, in the order `harness --help` lists them
COMMANDS = {
    "run": _add_run_command,
    "check": _add_check_command,
    "extract": _add_extract_command,
    "recheck": _add_recheck_command,
    "report": _add_report_command,
    "merge": _add_merge_command,
    "suites": _add_suites_command,
    "setup": _add_setup_command,
    "doctor": _add_doctor_command,
    "config": _add_config_command,
}
