"""harness/suites/__init__.py: `load_suite` by catalogue name, by path (LeanDojo Benchmark
JSON included) and `smoke`, the built-in suite (Lean core only, each problem with a reference
proof)."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from harness.config import load_config
from harness.suites import catalogue_entry, load_suite, smoke_reference_proofs
from harness.suites.catalogue import file_sha256
from tests.conftest import shared_path
from tests.suites.helpers import FOLDERS, config_for


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_catalogued_suite_loads_from_shared_copy(name: str, tmp_path: Path) -> None:
    folder = shared_path("benchmarks", FOLDERS[name])
    entry = catalogue_entry(name)
    suite = load_suite(name, config_for(tmp_path), from_dir=str(folder))
    assert dict(Counter(p.split for p in suite.problems)) == entry.counts
    src = suite.source
    assert (src.suite, src.variant, src.commit, src.sha256) == (
        name,
        entry.repo,
        entry.commit,
        entry.sha256,
    )
    assert src.lean_toolchain == entry.lean_toolchain and src.licence == entry.licence


def test_answer_holes_skip_drops_them_with_a_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = shared_path("benchmarks", "putnambench")
    with caplog.at_level(logging.WARNING, logger="harness.suites"):
        suite = load_suite(
            "putnambench", config_for(tmp_path, answer_holes="skip"), from_dir=str(folder)
        )
    assert len(suite) == 672 - 346 and not any(p.answer_hole for p in suite.problems)
    assert any("skipped 346 answer-hole problems" in r.getMessage() for r in caplog.records)
    kept = load_suite(
        "putnambench", config_for(tmp_path, answer_holes="model"), from_dir=str(folder)
    )
    assert sum(p.answer_hole for p in kept.problems) == 346


def test_a_path_suite_records_its_checksum(tmp_path: Path) -> None:
    f = tmp_path / "mine.jsonl"
    f.write_text(json.dumps({"name": "a", "formal_statement": "theorem a : True := by"}) + "\n")
    suite = load_suite(str(f), config_for(tmp_path))
    assert suite.source.suite == str(f) and suite.source.sha256 == file_sha256(f)
    assert suite.source.commit is None
    folder = shared_path("benchmarks", "combibench", "lean", "CombiBench")
    by_dir = load_suite(str(folder), config_for(tmp_path))
    assert len(by_dir) == 101 and len(by_dir.source.sha256) == 64


def test_a_leandojo_benchmark_json_path_is_read_by_the_dojo_loader(tmp_path: Path) -> None:
    (tmp_path / "A.lean").write_text(
        "import Mathlib\n\ntheorem x : True := trivial\n", encoding="utf-8"
    )
    record = {"url": "u", "commit": "c", "file_path": "A.lean", "full_name": "A.x", "start": [3, 1]}
    f = tmp_path / "bench.json"
    f.write_text(json.dumps([record]), encoding="utf-8")
    (p,) = load_suite(str(f), load_config()).problems
    assert (p.name, p.statement, p.header) == ("A.x", "theorem x : True :=", "import Mathlib\n\n")
    assert p.origin == f"{tmp_path / 'A.lean'}:3"


# ---------------------------------------------------------------------------------------------
# The built-in `smoke` suite


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
