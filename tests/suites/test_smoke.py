"""The built-in `smoke` suite: Lean core only, each problem with a reference proof."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from harness.config import load_config
from harness.suites import load_suite, smoke_reference_proofs


def test_smoke_is_the_default_suite_and_large_enough() -> None:
    config = load_config()
    assert config.suite == "smoke"
    suite = load_suite(config.suite, config)
    assert len(suite) >= 30
    assert suite.source.suite == "smoke" and suite.source.sha256


def test_every_problem_has_a_reference_proof_and_no_imports() -> None:
    suite = load_suite("smoke", load_config())
    proofs = smoke_reference_proofs()
    assert set(proofs) == {p.name for p in suite.problems}
    for p in suite.problems:
        assert p.header == ""
        assert p.statement.startswith("theorem ") and p.statement.endswith(":=")
        assert p.theorem_name == p.name and p.split == "test"
        assert p.informal and not p.answer_hole
        assert "import" not in p.context and "Mathlib" not in p.context + p.statement
        proof = proofs[p.name]
        assert proof.strip() and "sorry" not in proof


def test_mixed_difficulty() -> None:
    suite = load_suite("smoke", load_config())
    proofs = smoke_reference_proofs()
    tactics = Counter()
    for proof in proofs.values():
        for word in ("omega", "decide", "simp", "induction", "cases", "rfl", "constructor"):
            tactics[word] += word in proof
    assert all(tactics[w] >= 2 for w in ("omega", "decide", "simp", "induction", "cases"))
    assert sum(not proof.startswith("by") for proof in proofs.values()) >= 3  # term proofs
    assert sum(bool(p.context) for p in suite.problems) >= 2  # with a helper definition
    kinds = " ".join(p.statement for p in suite.problems)
    for word in ("Nat", "Int", "List", "Bool", "Prop", "∃"):
        assert word in kinds


@pytest.mark.lean
@pytest.mark.timeout(600)
def test_reference_proofs_check_with_real_lean(tmp_path: Path) -> None:
    lean = shutil.which("lean")
    if lean is None:
        pytest.skip("`lean` is not on PATH")
    suite = load_suite("smoke", load_config())
    proofs = smoke_reference_proofs()
    body = "".join(f"{p.context}{p.statement} {proofs[p.name]}\n\n" for p in suite.problems)
    file = tmp_path / "Smoke.lean"
    file.write_text(body, encoding="utf-8")
    proc = subprocess.run([lean, str(file)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stdout


# Tactics and notation that exist only with Mathlib (or are deprecated in core): a smoke
# problem must check with bare Lean 4, so neither its statement nor its proof may use them.
NOT_IN_CORE = (
    "norm_num",
    "linarith",
    "nlinarith",
    "positivity",
    "ring",
    "ring_nf",
    "field_simp",
    "aesop",
    "simp_arith",
    "native_decide",
    "Finset",
    "ℕ",
    "ℤ",
    "ℝ",
    "∑",
)


def test_reference_proofs_and_statements_use_lean_core_only() -> None:
    suite = load_suite("smoke", load_config())
    proofs = smoke_reference_proofs()
    for p in suite.problems:
        text = p.context + p.statement + " " + proofs[p.name]
        words = set(re.findall(r"[\w∑ℕℤℝ]+", text))
        assert not words & set(NOT_IN_CORE), (p.name, words & set(NOT_IN_CORE))
