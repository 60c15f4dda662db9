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
from pathlib import Path
from typing import Any

from harness.cli.common import add_config_options, config_from_args
from harness.config import Config
from harness.errors import HarnessError
from harness.types import Candidate, NoProof, Problem, Verdict, VerdictKind


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


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise HarnessError(f"{path}: not UTF-8 text") from exc


def candidate_from_answer(text: str, problem: Problem) -> Candidate | NoProof:
    """A model-style answer (a whole theorem, a file, or only the proof) -> what to check."""
    from harness.extract import extract_proof

    found = extract_proof(text, problem.decl_name)
    if isinstance(found, NoProof) and text.strip().startswith(":="):
        found = extract_proof(text.strip()[2:].strip(), problem.decl_name)
    return found


def file_items(path: str) -> list[tuple[str, Problem, Candidate | NoProof]]:
    from harness.soundness.splice import split_lean_file

    _, theorems = split_lean_file(_read(path))
    if not theorems:
        raise HarnessError(f"{path}: no `theorem NAME ... :=` to check")
    return [(t.problem.name, t.problem, t.candidate) for t in theorems]


def suite_items(
    path: str, spec: str, config: Config, from_dir: str | None
) -> list[tuple[str, Problem, Candidate | NoProof]]:
    from harness.suites import load_suite

    suite = load_suite(spec, config, from_dir=from_dir)
    by_name = {p.name: p for p in suite.problems}
    for p in suite.problems:
        by_name.setdefault(p.decl_name, p)
    items = []
    for lineno, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise HarnessError(f"{path}:{lineno}: not a JSON object ({exc.msg})") from exc
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise HarnessError(f'{path}:{lineno}: expected {{"name": ..., "proof": ...}}')
        if not isinstance(row.get("proof"), str):
            raise HarnessError(f"{path}:{lineno}: `proof` must be a string")
        problem = by_name.get(row["name"])
        if problem is None:
            raise HarnessError(f"{path}:{lineno}: no problem named {row['name']!r} in {spec}")
        items.append((row["name"], problem, candidate_from_answer(row["proof"], problem)))
    if not items:
        raise HarnessError(f"{path}: no proofs in the file")
    return items


async def check_all(
    items: list[tuple[str, Problem, Candidate | NoProof]], config: Config
) -> list[Verdict]:
    """Verify every item with one checker (the REPL pool runs them concurrently)."""
    from harness.checker import open_checker
    from harness.soundness.verify import verify

    async with open_checker(config) as checker:
        return list(await asyncio.gather(*(verify(p, c, checker, config) for _, p, c in items)))


def explain(verdict: Verdict) -> str:
    """The rule that fired and where, or Lean's first error, in one line."""
    if verdict.rule and verdict.kind in (VerdictKind.REJECTED, VerdictKind.SORRY):
        return f"{verdict.rule} at {verdict.where}" if verdict.where else verdict.rule
    for m in verdict.messages:
        if m.severity == "error":
            first = m.text.strip().splitlines()[0] if m.text.strip() else ""
            return f"{m.line}:{m.column}: {first}"
    if verdict.detail:
        return verdict.detail
    if verdict.goals:
        return "goal: " + verdict.goals[0].splitlines()[0]
    return verdict.rule or ""


def verdict_json(name: str, verdict: Verdict) -> dict[str, Any]:
    return {
        "name": name,
        "verdict": verdict.kind.value,
        "rule": verdict.rule,
        "where": verdict.where,
        "messages": [m.to_json() for m in verdict.messages],
        "time_s": round(verdict.seconds, 3),
        "native": verdict.native,
        "detail": verdict.detail,
    }


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.suite:
        items = suite_items(args.path, args.suite, config, args.from_dir)
    else:
        items = file_items(args.path)
    verdicts = asyncio.run(check_all(items, config))
    for (name, _, _), verdict in zip(items, verdicts, strict=True):
        if args.json:
            print(json.dumps(verdict_json(name, verdict), ensure_ascii=False))
        else:
            why = explain(verdict)
            native = " (native)" if verdict.native else ""
            print(f"{name} {verdict.kind.value}{native}" + (f"  {why}" if why else ""))
    sys.stdout.flush()
    return 0 if all(v.kind == VerdictKind.PROVED for v in verdicts) else 1
