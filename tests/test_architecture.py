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
    "harness/plan.py",
    "harness/budget.py",
    "harness/checker/protocol.py",
    "harness/soundness/screen.py",
    "harness/soundness/splice.py",
    "harness/soundness/audit.py",
    "harness/lean_text.py",
    "harness/suites/loaders.py",
]
IO_MODULES = {"asyncio", "httpx", "subprocess", "socket"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _import_nodes(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement in the file, those inside functions included;
    relative imports resolved. `import a.b` gives ("a.b", [])."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    out: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.append((module, [alias.name for alias in node.names]))
    return out


def _imports(path: Path) -> set[str]:
    """Every dotted name a file imports: the modules, and module.name for `from` imports."""
    names: set[str] = set()
    for module, imported in _import_nodes(path):
        names.add(module)
        names.update(f"{module}.{name}" for name in imported)
    return names


def import_graph() -> dict[str, set[str]]:
    """harness module -> the harness modules whose code its imports run.

    `from harness.x import y` is an edge to `harness.x.y` when y is a submodule and to
    `harness.x` (its `__init__`) otherwise. The parent packages Python initialises on the way
    are not edges: a package's `__init__` that imports its submodules is the usual layout."""
    paths = {_module_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        for module, imported in _import_nodes(path):
            if module not in paths:
                continue  # outside the package
            subs = [f"{module}.{n}" for n in imported if f"{module}.{n}" in paths]
            if len(subs) < len(imported) or not imported:
                graph[name].add(module)
            graph[name].update(subs)
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> ... -> a) per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is small
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)

    out = []
    for component in components:
        # the shortest way back to the component's first module, breadth first
        start = min(component)
        paths = {start: [start]}
        frontier = [start]
        found: list[str] | None = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & component):
                    if w == start:
                        found = paths[v] + [start]
                        break
                    if w not in paths:
                        paths[w] = paths[v] + [w]
                        nxt.append(w)
                if found:
                    break
            frontier = nxt
        assert found is not None
        out.append(found)
    return sorted(out)


def test_cycle_finder_names_each_cycle_once():
    graph = {
        "a": {"b"},
        "b": {"c", "d"},
        "c": {"a"},
        "d": set(),
        "e": {"f"},
        "f": {"e"},
        "g": {"a"},
    }
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_in_functions_and_submodules(tmp_path):
    graph = import_graph()
    # a submodule imported by name from its package is an edge to the submodule
    assert "harness.search" in graph["harness"]  # `from harness import search`, in a function
    assert "harness.suites" in graph["harness.search"]  # inside a function
    assert "harness.report" in graph["harness.search"]


def test_no_import_cycles():
    """Every module of the package, imports inside functions included: none leads back to itself."""
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_nothing_imports_the_cli():
    """The command line only parses arguments and prints; the library never needs it."""
    for path in _modules():
        if path.name in ("cli.py", "__main__.py"):
            continue
        bad = {n for n in _imports(path) if n == "harness.cli" or n.startswith("harness.cli.")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_reports_read_only_the_record():
    for path in (PACKAGE / "report").rglob("*.py"):
        bad = {
            n
            for n in _imports(path)
            if n.split(".")[:2]
            in (
                ["harness", "client"],
                ["harness", "checker"],
                ["harness", "search"],
                ["harness", "engine"],
            )
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
