"""Checking proofs outside a run, with the same soundness chain as a run.

`harness check` and `harness recheck` are thin commands over this: what to check (the theorems
of a Lean file, model-style answers against a suite's statements, the proved rounds of a run
directory), checking it all with one checker, and how a verdict is printed.

A Lean file's header (its imports, options and opens) goes to Lean unscreened only with
`--trust-header`. Otherwise its imports must be those of a known suite header (a catalogued
suite's, the smoke suite's or the standard miniF2F header), its options that such a header
also sets are excepted, and everything else in it is screened like a model's preamble (a
`set_option debug.skipKernelTC true` there is refused as it would be in an answer).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from harness.config import Config, SoundnessConfig
from harness.errors import HarnessError
from harness.extract import extract_proof
from harness.lean_text import parse_header
from harness.record import RunRecord
from harness.types import Candidate, NoProof, Problem, Suite, Verdict, VerdictKind

__all__ = [
    "CheckItem",
    "known_headers",
    "known_headers_for",
    "candidate_from_answer",
    "file_items",
    "suite_items",
    "proved_items",
    "check_all",
    "explain",
    "verdict_json",
]


class CheckItem(NamedTuple):
    """One theorem to check: the name it is reported under, its statement, the proof, and a
    verdict already reached without Lean (its file's header was refused), if any."""

    name: str
    problem: Problem
    candidate: Candidate | NoProof
    refused: Verdict | None = None


def read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise HarnessError(f"{path}: not UTF-8 text") from exc


def candidate_from_answer(text: str, problem: Problem) -> Candidate | NoProof:
    """A model-style answer (a whole theorem, a file, or only the proof) -> what to check."""
    found = extract_proof(text, problem.decl_name)
    if isinstance(found, NoProof) and text.strip().startswith(":="):
        found = extract_proof(text.strip()[2:].strip(), problem.decl_name)
    return found


@lru_cache(maxsize=1)
def known_headers() -> tuple[tuple[str, str], ...]:
    """(name, header text) of the suite headers a checked file may use unscreened."""
    from harness.soundness.splice import STANDARD_HEADER
    from harness.suites.catalogue import CATALOGUE

    known = [("the standard header", STANDARD_HEADER), ("smoke", "")]
    for entry in CATALOGUE:
        text = entry.header
        if "autoImplicit false" in text and "set_option autoImplicit" not in text:
            # the catalogue describes these headers in words ("import Mathlib + per-problem
            # opens (autoImplicit false)"): their imports, and the option they set
            imports = "".join(f"import {m}\n" for m in parse_header(text).imports)
            text = imports + "set_option autoImplicit false\n"
        known.append((entry.name, text))
    return tuple(known)


def known_headers_for(imports: tuple[str, ...]) -> list[str]:
    """The known suite headers whose imports are exactly `imports` (in any order)."""
    wanted = set(imports)
    return [text for _, text in known_headers() if set(parse_header(text).imports) == wanted]


def _header_refusal(
    path: str, text: str, header: str, soundness: SoundnessConfig, trust_header: bool
) -> Verdict | None:
    """The verdict for every theorem of a file whose header the screen refuses, or None. A
    header whose imports no known suite header has stops the check (HarnessError)."""
    from harness.soundness.screen import screen_header

    if trust_header or not header.strip():
        return None
    imports = parse_header(header).imports
    known = known_headers_for(imports)
    if not known:
        names = [name for name, t in known_headers() if t.strip()]
        shown = ", ".join(imports) or "none"
        raise HarnessError(
            f"{path}: its imports ({shown}) are not those of a known suite header "
            f"({', '.join(names)}); check it with --trust-header if you trust them"
        )
    found = screen_header(header, known, soundness)
    if found is None:
        return None
    return Verdict(
        VerdictKind.REJECTED,  # even a `sorry` there: a header is no place for a proof
        rule=found.rule,
        where=f"{found.line}:{found.col} {found.text}",
        checked_file=text,
        detail="the file's header (above its first theorem) is screened like a model's text; "
        "--trust-header uses it as it is",
    )


def file_items(
    path: str, soundness: SoundnessConfig | None = None, *, trust_header: bool = False
) -> list[CheckItem]:
    """Every `theorem` of a Lean file, its statement as written. Everything the file adds
    above a theorem is screened: its aux like a model's, its header as `_header_refusal` says."""
    from harness.soundness.splice import split_lean_file

    text = read_text(path)
    header, theorems = split_lean_file(text)
    if not theorems:
        raise HarnessError(f"{path}: no `theorem NAME ... :=` to check")
    refused = _header_refusal(
        path, text.replace("\r\n", "\n"), header, soundness or SoundnessConfig(), trust_header
    )
    return [CheckItem(t.problem.name, t.problem, t.candidate, refused) for t in theorems]


def suite_items(path: str, spec: str, config: Config, from_dir: str | None) -> list[CheckItem]:
    """Lines {"name", "proof"} of a JSONL file, checked against suite `spec`'s statements."""
    from harness.suites import load_suite

    suite = load_suite(spec, config, from_dir=from_dir)
    by_name = {p.name: p for p in suite.problems}
    for p in suite.problems:
        by_name.setdefault(p.decl_name, p)
    items = []
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
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
        items.append(CheckItem(row["name"], problem, candidate_from_answer(row["proof"], problem)))
    if not items:
        raise HarnessError(f"{path}: no proofs in the file")
    return items


def proved_items(record: RunRecord, suite: Suite) -> list[tuple[tuple[Any, ...], CheckItem]]:
    """(key, item) for each effective round of a run marked `proved` that proves its problem
    (a whole proof or a decomposition's composed proof; a proved hole proves nothing): its
    answer extracted again, or, with no answer recorded, the proof taken from the checked file."""
    from harness.soundness.splice import split_lean_file

    problems = {p.name: p for p in suite.problems}
    out = []
    for attempt in record.iter_effective():
        if attempt.verdict is not VerdictKind.PROVED or not attempt.decides:
            continue
        problem = problems.get(attempt.problem)
        if problem is None:
            raise HarnessError(
                f"{record.attempts_path}: problem {attempt.problem!r} is not in suite {suite.source.suite}"
            )
        candidate = candidate_from_answer(attempt.answer, problem) if attempt.answer else None
        if not isinstance(candidate, Candidate):
            _, theorems = split_lean_file(attempt.proof)
            same = [t.candidate for t in theorems if t.problem.decl_name == problem.decl_name]
            candidate = same[-1] if same else candidate
        if candidate is None:
            raise HarnessError(f"{attempt.problem}: the record holds neither answer nor proof")
        out.append((attempt.key, CheckItem(attempt.problem, problem, candidate)))
    return out


async def check_all(
    items: list[CheckItem],
    config: Config,
    progress: Callable[[int, int], None] | None = None,
) -> list[Verdict]:
    """Verify every item with one checker (the REPL pool runs them concurrently); an item
    already refused (its file's header) is not sent to Lean. `progress(done, total)` is
    called as each verdict comes."""
    from harness.checker import open_checker, preflight
    from harness.soundness.verify import verify

    if all(item.refused is not None for item in items):
        return [item.refused for item in items if item.refused is not None]
    preflight(config)  # as `harness run`: one line naming what is missing, not one per theorem
    async with open_checker(config) as checker:
        done = 0

        async def one(item: CheckItem) -> Verdict:
            nonlocal done
            if item.refused is not None:
                verdict = item.refused
            else:
                verdict = await verify(item.problem, item.candidate, checker, config)
            done += 1
            if progress is not None:
                progress(done, len(items))
            return verdict

        return list(await asyncio.gather(*(one(item) for item in items)))


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
    """One line of `--json` output."""
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
