"""Imports point one way, and the public names stay pinned (in the spirit of httpx's tests)."""

from __future__ import annotations

import ast
from pathlib import Path

import harness
from tests.conftest import ROOT

PACKAGE = ROOT / "harness"

# Pure stages: plain functions, tested without an event loop, no I/O libraries.
PURE = [
    "harness/types.py",
    "harness/extract.py",
    "harness/prompts.py",
    "harness/metrics.py",
    "harness/checker/protocol.py",
    "harness/soundness/screen.py",
    "harness/soundness/splice.py",
    "harness/soundness/audit.py",
    "harness/soundness/lexer.py",
    "harness/suites/loaders.py",
]
IO_MODULES = {"asyncio", "httpx", "subprocess", "socket"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_nothing_imports_the_cli():
    for path in _modules():
        if "cli" in path.relative_to(PACKAGE).parts or path.name == "__main__.py":
            continue
        bad = {n for n in _imports(path) if n == "harness.cli" or n.startswith("harness.cli.")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_reports_read_only_the_record():
    for path in (PACKAGE / "report").rglob("*.py"):
        bad = {
            n
            for n in _imports(path)
            if n.split(".")[:2]
            in (["harness", "client"], ["harness", "checker"], ["harness", "search"])
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_pure_stages_do_no_io():
    for rel in PURE:
        path = ROOT / rel
        if not path.exists():
            continue
        bad = {n for n in _imports(path) if n.split(".")[0] in IO_MODULES}
        assert not bad, f"{rel} is a pure stage but imports {sorted(bad)}"


def test_public_names_are_pinned():
    for name in harness.__all__:
        assert hasattr(harness, name), name
    public = {n for n in dir(harness) if not n.startswith("_")} - {
        "annotations",
        "types",
        "errors",
        "config",
        "cli",
    }
    undeclared = {n for n in public if not isinstance(getattr(harness, n), type(harness))}
    assert undeclared <= set(harness.__all__), sorted(undeclared - set(harness.__all__))
