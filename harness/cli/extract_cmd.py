"""`harness extract FILE|-`: what would be checked for one model answer."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from harness.errors import HarnessError
from harness.extract import extract_proof
from harness.types import NoProof


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(handler=run)


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


def run(args: argparse.Namespace) -> int:
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
