"""harness/suites/dojo.py: LeanDojo Benchmark JSON loads without the extra; from-repo needs it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import PrerequisiteError, SuiteError
from harness.suites import load_suite
from harness.suites.dojo import (
    INSTALL_HINT,
    dojo_available,
    from_repo,
    is_leandojo_benchmark,
    load_leandojo_records,
    problem_from_source,
)
from harness.suites.loaders import read_json_list

SOURCE = """import Mathlib.Data.Nat.Basic

/-! # Basic facts -/

namespace Example

variable (n : ℕ)

def double := 2 * n

/-- Doubling adds a number to itself. -/
theorem double_eq : double n = n + n := by
  unfold double
  omega

theorem double_pos (h : 0 < n) : 0 < double n := by
  unfold double; omega

@[simp] lemma double_zero : double 0 = 0 := rfl

end Example
"""


def benchmark_record(full_name: str, line: int, end_line: int) -> dict:
    # The schema LeanDojo's generate-benchmark script writes (dojo_scale.md §1.2).
    return {
        "url": "https://github.com/example/lean4-example",
        "commit": "7b6ecb9ad4829e4e73600a3329baeb3b5df8d23f",
        "file_path": "Example/Basic.lean",
        "full_name": full_name,
        "start": [line, 1],
        "end": [end_line, 1],
        "traced_tactics": [
            {
                "tactic": "omega",
                "annotated_tactic": ["omega", []],
                "state_before": "⊢ ...",
                "state_after": "no goals",
            }
        ],
    }


@pytest.fixture
def benchmark(tmp_path: Path) -> Path:
    repo = tmp_path / "lean4-example"  # lean-dojo's cache layout: <...>/<repo name>/<file_path>
    (repo / "Example").mkdir(parents=True)
    (repo / "Example" / "Basic.lean").write_text(SOURCE, encoding="utf-8")
    lines = SOURCE.split("\n")
    at = {
        name: lines.index(next(x for x in lines if f" {name} " in x)) + 1
        for name in ("double_eq", "double_pos", "double_zero")
    }
    records = [
        benchmark_record("Example.double_eq", at["double_eq"], at["double_eq"] + 3),
        benchmark_record("Example.double_pos", at["double_pos"], at["double_pos"] + 2),
        benchmark_record("Example.double_zero", at["double_zero"], at["double_zero"] + 1),
    ]
    out = tmp_path / "random"
    out.mkdir()
    (out / "test.json").write_text(json.dumps(records), encoding="utf-8")
    return out / "test.json"


def load(path: Path):
    return load_leandojo_records(read_json_list(path), str(path))


def test_leandojo_benchmark_json_loads_without_lean_dojo(benchmark: Path) -> None:
    items = read_json_list(benchmark)
    assert is_leandojo_benchmark(items)
    assert not is_leandojo_benchmark([({"name": "a", "formal_statement": "theorem a"}, 1)])
    problems = load(benchmark)
    eq, pos, zero = problems
    assert [p.name for p in problems] == [
        "Example.double_eq",
        "Example.double_pos",
        "Example.double_zero",
    ]
    assert eq.theorem_name == "double_eq"
    assert eq.header == "import Mathlib.Data.Nat.Basic\n\n"
    assert eq.statement == "theorem double_eq : double n = n + n :="
    assert eq.informal == "Doubling adds a number to itself."
    assert "namespace Example" in eq.context and "def double := 2 * n" in eq.context
    assert "omega" not in eq.statement + eq.context  # the proof is dropped
    assert "double_eq" not in pos.context  # an unrelated earlier theorem is not context
    assert zero.statement == "@[simp] lemma double_zero : double 0 = 0 :="
    assert eq.origin.endswith("Basic.lean:12")


def test_leandojo_json_without_its_source_names_record_and_file(benchmark: Path) -> None:
    shutil.rmtree(benchmark.parent.parent / "lean4-example")
    with pytest.raises(
        SuiteError,
        match=r"test\.json:1: Example\.double_eq: source file Example/Basic\.lean not found",
    ):
        load(benchmark)


def test_leandojo_json_missing_field(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text(
        json.dumps(
            [
                {
                    "url": "u",
                    "commit": "c",
                    "file_path": "A.lean",
                    "full_name": "x",
                    "start": [1, 1],
                },
                {"url": "u", "file_path": "A.lean", "full_name": "y", "start": [1, 1]},
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "A.lean").write_text("theorem x : True := trivial\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"bad\.json:1: missing field 'commit'"):
        load(f)


def test_a_position_outside_a_declaration_with_a_signature_is_an_error() -> None:
    text = "import Mathlib\n\ninstance : Inhabited Bool where\n  default := true\n"
    with pytest.raises(ValueError, match="no declaration with ':=' at line 3"):
        problem_from_source(text, (3, 1), "instInhabitedBool", "A.lean:3")
    with pytest.raises(ValueError, match="no declaration with ':=' at line 1"):
        problem_from_source(text, (1, 1), "Mathlib", "A.lean:1")
    with pytest.raises(ValueError, match="line 9 is outside the file"):
        problem_from_source(text, (9, 1), "x", "A.lean:9")


@pytest.mark.skipif(dojo_available(), reason="lean-dojo is installed here")
def test_from_repo_without_the_extra_says_how_to_install() -> None:
    with pytest.raises(PrerequisiteError) as info:
        from_repo(
            "https://github.com/yangky11/lean4-example",
            "7b6ecb9ad4829e4e73600a3329baeb3b5df8d23f",
            "x.jsonl",
        )
    assert str(info.value) == INSTALL_HINT
    assert "pip install 'lean-harness[dojo]'" in INSTALL_HINT


@pytest.mark.network
@pytest.mark.lean
@pytest.mark.timeout(3600)
def test_from_repo_traces_a_real_repository(tmp_path: Path) -> None:
    if not dojo_available():
        pytest.skip("lean-dojo is not installed (pip install 'lean-harness[dojo]')")
    if not os.environ.get("HARNESS_NETWORK_TESTS"):
        pytest.skip("network tests are off (set HARNESS_NETWORK_TESTS=1 where GitHub is reachable)")
    out = from_repo(
        "https://github.com/yangky11/lean4-example",
        "7b6ecb9ad4829e4e73600a3329baeb3b5df8d23f",
        tmp_path / "example.jsonl",
    )
    suite = load_suite(str(out), load_config())
    assert any(p.theorem_name == "hello_world" for p in suite.problems)
