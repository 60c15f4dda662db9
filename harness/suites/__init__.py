"""Theorem suites: `load_suite(name or path) -> Suite`, the catalogue, and the built-in `smoke`.

A spec is, in this order: `smoke` (built in, no Mathlib); a catalogue name (`minif2f-test`,
`putnambench`, ...), read from the user cache (`harness suites fetch NAME`) or from `from_dir`;
or a path to a suite file or directory. Every problem name in a suite is unique (repeats
become `name#2`, ... with one warning). With `suites.answer_holes: skip`, problems with an
answer hole are dropped and their count logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.config import Config
from harness.errors import SuiteError
from harness.suites.catalogue import (
    CATALOGUE,
    CatalogueEntry,
    catalogue_entry,
    file_sha256,
)
from harness.suites.fetch import (
    cached_artifact,
    check_counts,
    fetch_suite,
    load_artifact,
    locate_local,
    verify_artifact,
)
from harness.suites.loaders import load_path, read_json_list, record_to_problems, unique_names
from harness.types import Problem, Suite, SuiteSource

__all__ = [
    "load_suite",
    "smoke_reference_proofs",
    "smoke_suite",
    "suite_names",
    "SuiteListing",
    "list_suites",
    "load_artifact",
    "fetch_suite",
    "CATALOGUE",
    "catalogue_entry",
]

log = logging.getLogger("harness.suites")

SMOKE = "smoke"
_SMOKE_FILE = "smoke.jsonl"


# ---------------------------------------------------------------------------------------------
# The built-in suite


def _smoke_text() -> str:
    return (
        resources.files("harness.suites").joinpath("data", _SMOKE_FILE).read_text(encoding="utf-8")
    )


def _smoke_records() -> list[dict]:
    return [json.loads(line) for line in _smoke_text().splitlines() if line.strip()]


def smoke_suite() -> Suite:
    """The built-in `smoke` suite: Lean core only (header ""), each with a reference proof."""
    text = _smoke_text()
    origin = f"harness/suites/data/{_SMOKE_FILE}"
    problems = []
    for i, record in enumerate(_smoke_records(), start=1):
        problems.extend(record_to_problems(record, origin, i))
    source = SuiteSource(
        suite=SMOKE,
        variant="built-in",
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        lean_toolchain=None,  # core Lean 4 only; written for v4.24, nothing version-specific
        licence="Apache-2.0",
    )
    return Suite(source=source, problems=tuple(unique_names(problems, origin)))


def smoke_reference_proofs() -> dict[str, str]:
    """Problem name -> the proof text that follows its `:=` (e.g. "by\\n  omega")."""
    return {r["name"]: r["reference_proof"] for r in _smoke_records()}


# ---------------------------------------------------------------------------------------------
# Loading


def _load_catalogued(entry: CatalogueEntry, config: Config, from_dir: str | None) -> Suite:
    if from_dir is not None:
        artifact = locate_local(entry, from_dir)
    else:
        found = cached_artifact(entry, config.suites.cache_dir)
        if found is None:
            raise SuiteError(
                entry.name,
                None,
                f"not in the cache ({config.suites.cache_dir}); run `harness suites fetch {entry.name}` "
                f"(or `harness suites fetch {entry.name} --from DIR` with a local copy)",
            )
        artifact = found
    verify_artifact(entry, artifact)
    problems = load_artifact(entry, artifact)
    check_counts(entry, artifact, problems)
    source = SuiteSource(
        suite=entry.name,
        variant=entry.variant,
        commit=entry.commit,
        sha256=entry.sha256,
        lean_toolchain=entry.lean_toolchain,
        licence=entry.licence,
    )
    return Suite(source=source, problems=tuple(problems))


def _read_path(path: Path) -> list[Problem]:
    """`load_path`, and LeanDojo Benchmark JSON files, whose statements sit in the source files
    of the repository beside them (`harness.suites.dojo`)."""
    if path.is_file() and path.suffix.lower() == ".json":
        # imported here: `python -m harness.suites.dojo` (from-repo's child) must find the module
        # not yet imported when this package initialises
        from harness.suites.dojo import is_leandojo_benchmark, load_leandojo_records

        items = read_json_list(path)
        if is_leandojo_benchmark(items):
            return load_leandojo_records(items, str(path))
    return load_path(path)


def _load_path(spec: str) -> Suite:
    path = Path(spec).expanduser()
    if not path.exists():
        names = ", ".join(suite_names())
        raise SuiteError(spec, None, f"unknown suite: not a file or directory, nor one of: {names}")
    problems = unique_names(_read_path(path), str(path))
    if path.is_dir():
        # one digest over the files the problems came from, as for catalogued directories
        files = sorted({Path(p.origin.rsplit(":", 1)[0]) for p in problems})
        lines = "".join(f"{file_sha256(f)}  {f.relative_to(path).as_posix()}\n" for f in files)
        digest = hashlib.sha256(lines.encode()).hexdigest()
    else:
        digest = file_sha256(path)
    return Suite(source=SuiteSource(suite=str(path), sha256=digest), problems=tuple(problems))


def _drop_answer_holes(suite: Suite, mode: str) -> Suite:
    if mode != "skip":
        return suite
    kept = tuple(p for p in suite.problems if not p.answer_hole)
    dropped = len(suite.problems) - len(kept)
    if dropped:
        log.warning(
            "%s: skipped %d answer-hole problems (suites.answer_holes: skip)",
            suite.source.suite,
            dropped,
        )
    return Suite(source=suite.source, problems=kept)


def load_suite(spec: str, config: Config, from_dir: str | None = None) -> Suite:
    """A suite by built-in or catalogue name, or by path to a suite file or directory."""
    if spec == SMOKE:
        suite = smoke_suite()
    else:
        entry = catalogue_entry(spec)
        suite = _load_catalogued(entry, config, from_dir) if entry else _load_path(spec)
    return _drop_answer_holes(suite, config.suites.answer_holes)


def suite_names() -> list[str]:
    return [SMOKE] + [e.name for e in CATALOGUE]


# ---------------------------------------------------------------------------------------------
# Listing


@dataclass(frozen=True)
class SuiteListing:
    name: str
    status: str  # "built-in", "cached", "not cached"
    counts: str  # "test=244 valid=244"
    lean: str  # "v4.24.0"
    mathlib: str  # short revision, or "-"
    source: str  # "owner/repo@commit7:path"
    licence: str
    description: str

    def line(self) -> str:
        return (
            f"{self.name:<17} {self.status:<10} {self.counts:<19} lean {self.lean:<8} "
            f"mathlib {self.mathlib:<18} {self.source}  [{self.licence}]"
        )


def _short_rev(rev: str) -> str:
    if "@" in rev:  # a fork: owner/mathlib4@<sha>
        owner_repo, sha = rev.split("@", 1)
        return f"{owner_repo.split('/')[0]}@{sha[:7]}"
    return rev[:7] if len(rev) == 40 else rev.split(" ")[0]


def list_suites(config: Config) -> list[SuiteListing]:
    """One row per built-in and catalogued suite, with whether it is in the cache."""
    smoke = smoke_suite()
    rows = [
        SuiteListing(
            name=SMOKE,
            status="built-in",
            counts=f"test={len(smoke)}",
            lean="any",
            mathlib="none",
            source="harness/suites/data/smoke.jsonl",
            licence="Apache-2.0",
            description="Lean-core smoke suite with reference proofs",
        )
    ]
    for e in CATALOGUE:
        cached = cached_artifact(e, config.suites.cache_dir) is not None
        rows.append(
            SuiteListing(
                name=e.name,
                status="cached" if cached else "not cached",
                counts=e.counts_text(),
                lean=e.lean_toolchain.removeprefix("leanprover/lean4:"),
                mathlib=_short_rev(e.mathlib),
                source=f"{e.repo}@{e.commit[:7]}:{e.path}",
                licence=e.licence.split(" (")[0],
                description=e.description,
            )
        )
    return rows
