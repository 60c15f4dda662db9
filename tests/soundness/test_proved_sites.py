"""`proved` is made in exactly one place: harness/soundness/verify.py."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGE = ROOT / "harness"
ONLY = "harness/soundness/verify.py"
# Functions that rebuild a Verdict from what the record already says (no new claim is made):
# each is listed with why. Anything else that can build `proved` fails the test.
REBUILT_FROM_RECORD = {
    "harness/attempt.py:verdict_of": "turns a recorded attempt back into a Verdict for a repair turn",
    "harness/types.py:__post_init__": "turns a recorded verdict string back into a VerdictKind",
}


def _mentions_proved(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "PROVED":
            return True
        if isinstance(sub, ast.Constant) and sub.value == "proved":
            return True
    return False


def _is_fixed_other_kind(node: ast.AST) -> bool:
    """`VerdictKind.X` for some X other than PROVED."""
    return isinstance(node, ast.Attribute) and node.attr != "PROVED" and node.attr.isupper()


def construction_sites() -> list[str]:
    """Places that build a Verdict (or replace one's kind) whose kind may be `proved`."""
    sites = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner: dict[ast.AST, str] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for sub in ast.walk(fn):
                    owner.setdefault(sub, fn.name)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if f"{rel}:{owner.get(node, '')}" in REBUILT_FROM_RECORD:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            kinds: list[ast.AST] = []
            if name == "Verdict":
                kinds = node.args[:1] + [k.value for k in node.keywords if k.arg == "kind"]
            elif name == "replace":
                kinds = [k.value for k in node.keywords if k.arg == "kind"]
            elif name == "VerdictKind":
                kinds = node.args[:1]
            for kind in kinds:
                if _mentions_proved(kind) or not _is_fixed_other_kind(kind):
                    sites.append(f"{rel}:{node.lineno}")
    return sites


def test_only_verify_constructs_proved():
    outside = [s for s in construction_sites() if not s.startswith(ONLY + ":")]
    assert outside == [], (
        "a Verdict whose kind is (or may be) PROVED is built outside soundness/verify.py: "
        + ", ".join(outside)
    )


def test_verify_does_construct_proved():
    text = (ROOT / ONLY).read_text(encoding="utf-8")
    assert "VerdictKind.PROVED" in text
    assert any(s.startswith(ONLY) for s in construction_sites())
