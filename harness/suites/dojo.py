"""Theorems of any Lean 4 repository as a suite, with lean-dojo (optional `dojo` extra).

Two entry points:

* `load_leandojo_records`: a LeanDojo Benchmark JSON file (a list of records with `url`,
  `commit`, `file_path`, `full_name`, `start` [line, column], `end`, `traced_tactics`) loads
  without lean-dojo. Records carry positions, not statements, so the statement is read from the
  source file: `file_path` is looked up under the JSON file's folder and up to two folders
  above it (also inside a `<repo name>/` subfolder there, lean-dojo's cache layout).
  `load_suite` sends a `.json` path here when `is_leandojo_benchmark` says so.
* `from_repo`: `harness suites from-repo URL --commit C [--path GLOB]` traces the repository
  with lean-dojo's `trace(LeanGitRepo(url, commit))` in a child process (lean-dojo starts and
  asserts its own Ray instance, so it must not share our process) and writes a JSONL suite.

A repository theorem becomes a problem whose header is its file's imports, whose context is
the file up to the theorem (namespaces, variables, definitions; earlier lemmas only when the
statement names them), and whose statement is the theorem up to its `:=`; its proof is dropped.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, PrerequisiteError, SuiteError
from harness.lean_text import declarations
from harness.suites.loaders import problems_in_text
from harness.types import Problem

__all__ = [
    "INSTALL_HINT",
    "dojo_available",
    "problem_from_source",
    "is_leandojo_benchmark",
    "load_leandojo_records",
    "from_repo",
]

INSTALL_HINT = "lean-dojo is not installed; install the extra: pip install 'lean-harness[dojo]'"
_REQUIRED = ("url", "commit", "file_path", "full_name", "start")


def dojo_available() -> bool:
    return importlib.util.find_spec("lean_dojo") is not None


def _offset(text: str, line: int, column: int) -> int:
    """Offset of a 1-based (line, column) position, as lean-dojo's `Pos` gives them."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise ValueError(f"line {line} is outside the file ({len(lines)} lines)")
    return sum(len(s) + 1 for s in lines[: line - 1]) + max(0, column - 1)


def problem_from_source(
    text: str, start: tuple[int, int], full_name: str, origin: str, split: str | None = None
) -> Problem:
    """The theorem starting at `start` in a Lean source file, as a problem (proof dropped)."""
    begin = _offset(text, *start)
    decl = next((d for d in declarations(text) if d.start <= begin < d.end), None)
    if decl is None or decl.signature_end is None:
        raise ValueError(f"no declaration with ':=' at line {start[0]}")
    # Cut the file after the theorem's `:=` and give it a `sorry` body: it is then the last
    # theorem to prove, and everything before it is header or context.
    found = problems_in_text(text[: decl.signature_end] + " sorry\n")
    if not found:
        raise ValueError(f"no theorem at line {start[0]}")
    f = found[-1]
    problem = f.problem(full_name, split, f.command.doc, origin)
    return problem if problem.theorem_name else replace(problem, theorem_name=full_name)


def _source_roots(json_path: Path, repo_name: str) -> list[Path]:
    roots = []
    folder = json_path.parent
    for base in (folder, folder.parent, folder.parent.parent):
        roots.extend([base, base / repo_name])
    return roots


def is_leandojo_benchmark(items: list[tuple[Any, int]]) -> bool:
    """Records of a LeanDojo Benchmark file: positions (`file_path`, `full_name`, `start`)."""
    return (
        bool(items)
        and isinstance(items[0][0], dict)
        and {"file_path", "full_name", "start"} <= set(items[0][0])
    )


def load_leandojo_records(items: list[tuple[Any, int]], path: str) -> list[Problem]:
    """LeanDojo Benchmark records (each with the line it starts on) -> problems."""
    json_path = Path(path)
    problems: list[Problem] = []
    texts: dict[Path, str] = {}
    for record, line in items:
        if not isinstance(record, dict):
            raise SuiteError(path, line, "expected a JSON object")
        missing = [k for k in _REQUIRED if k not in record]
        if missing:
            raise SuiteError(path, line, f"missing field '{missing[0]}'")
        start = record["start"]
        if not (
            isinstance(start, list) and len(start) == 2 and all(isinstance(x, int) for x in start)
        ):
            raise SuiteError(path, line, "field 'start' must be [line, column]")
        repo_name = str(record["url"]).rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
        file_path = str(record["file_path"])
        source = next(
            (
                r / file_path
                for r in _source_roots(json_path, repo_name)
                if (r / file_path).is_file()
            ),
            None,
        )
        if source is None:
            raise SuiteError(
                path,
                line,
                f"{record['full_name']}: source file {file_path} not found; put a checkout of "
                f"{record['url']} at {str(record['commit'])[:12]} beside the JSON file",
            )
        if source not in texts:
            try:
                texts[source] = source.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SuiteError(str(source), None, f"cannot read ({exc})") from None
        split = record.get("split") if isinstance(record.get("split"), str) else None
        try:
            problems.append(
                problem_from_source(
                    texts[source],
                    (start[0], start[1]),
                    str(record["full_name"]),
                    f"{source}:{start[0]}",
                    split,
                )
            )
        except ValueError as exc:
            raise SuiteError(path, line, f"{record['full_name']}: {exc} of {file_path}") from None
    return problems


# ---------------------------------------------------------------------------------------------
# from-repo: lean-dojo in a child process


def from_repo(url: str, commit: str, out: str | Path, path_glob: str | None = None) -> Path:
    """Trace a Lean 4 repository with lean-dojo and write its theorems as a JSONL suite."""
    if not dojo_available():
        raise PrerequisiteError(INSTALL_HINT)
    out = Path(out)
    cmd = [sys.executable, "-m", "harness.suites.dojo", url, commit, str(out)]
    if path_glob:
        cmd += ["--path", path_glob]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    if proc.returncode != 0:
        raise HarnessError(
            f"from-repo: lean-dojo tracing of {url}@{commit} failed (exit {proc.returncode})"
        )
    return out


def _trace_main(argv: list[str] | None = None) -> int:  # pragma: no cover - needs lean-dojo
    parser = argparse.ArgumentParser(prog="python -m harness.suites.dojo")
    parser.add_argument("url")
    parser.add_argument("commit")
    parser.add_argument("out")
    parser.add_argument("--path", default=None)
    args = parser.parse_args(argv)

    from lean_dojo import LeanGitRepo, trace  # the optional extra, only in this child

    repo = LeanGitRepo(args.url, args.commit)
    traced = trace(repo)
    root = Path(traced.root_dir)
    tmp = Path(str(args.out) + ".partial")
    count = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for tt in traced.get_traced_theorems():
            if tt.repo != traced.repo:
                continue  # theorems of dependencies (Mathlib, core) are not this repo's suite
            file_path = str(tt.theorem.file_path)
            if args.path and not fnmatch.fnmatch(file_path, args.path):
                continue
            text = (root / file_path).read_text(encoding="utf-8")
            try:
                p = problem_from_source(
                    text, (tt.start.line_nb, tt.start.column_nb), tt.theorem.full_name, file_path
                )
            except ValueError:
                continue
            record = {
                "name": p.name,
                "header": p.header,
                "formal_statement": p.context
                + ("\n" if p.context else "")
                + p.statement
                + " sorry",
                "informal": p.informal,
                "source": f"{args.url}@{args.commit}:{file_path}:{tt.start.line_nb}",
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, args.out)
    print(f"{count} theorems written to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_trace_main())
