"""Every suite file in ../shared/benchmarks loads, with the problem counts benchmarks.md gives.

Where a file holds more theorems than it has records or files, the count asserted is what the
file really contains, with the reason beside it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from harness.suites.loaders import load_path, unique_names
from tests.conftest import shared_path

# (path under shared/benchmarks, {split: problems}, files or records if that differs)
CASES = [
    ("minif2f-deepseek-prover-v1.5/minif2f.jsonl", {"test": 244, "valid": 244}),
    ("minif2f-deepseek-prover-v1.5/minif2f_valid_few_shot.jsonl", {"valid": 67}),
    ("minif2f-goedel-prover-v2/minif2f.jsonl", {"test": 244}),
    ("minif2f-goedel-prover-v2/test.jsonl", {"test": 8}),
    ("minif2f-lean4-yangky11/MiniF2F", {"test": 244, "valid": 244}),
    ("minif2f-lean4-yangky11/MiniF2F/Test", {"test": 244}),
    ("minif2f-lean4-yangky11/MiniF2F/Valid", {"valid": 244}),
    ("minif2f-lean4-yangky11/minif2f_yangky11_head.jsonl", {"test": 244, "valid": 244}),
    ("minif2f-lean4-yangky11/history/minif2f_lean4.jsonl", {"test": 244, "valid": 244}),
    ("minif2f-lean4-yangky11/history/Test.lean", {None: 244}),
    # 82 of the monolithic Valid.lean theorems carry a human proof: they are not to be proved.
    ("minif2f-lean4-yangky11/history/Valid.lean", {None: 162}),
    ("proofnet-deepseek-prover-v1.5/proofnet.jsonl", {"valid": 185, "test": 186}),
    ("proofnet-lean4-rahul3613/proofnet_lean4.jsonl", {None: 374}),
    # the 11 book files hold the same 374 (360 theorems + 14 named instances)
    ("proofnet-lean4-rahul3613/formal", {None: 374}),
    ("putnambench/lean4/src", {None: 672}),
    # 100 files; imo_2019_p5 states two theorems (parts a and b)
    ("combibench/lean/CombiBench", {None: 101}),
    ("combibench/combibench_atf.jsonl", {None: 101}),
    # 425 records; u-math_59 holds four theorems
    ("formalmath-lite/FormalMATH_lite.json", {None: 428}),
    # 418 records, the same four-theorem record among them
    ("formalmath-lite/formalmath-lite_atf.jsonl", {None: 421}),
    ("matholympiadbench-goedel-v2/MOBench.jsonl", {"test": 360}),
    ("goedel-prover-v1/putnam.jsonl", {None: 644}),
    ("goedel-prover-v1/mathd_algebra_338.jsonl", {"test": 1}),
    # 230 records; one holds three theorems
    ("proverbench-partial/proverbench_atf_subset.jsonl", {None: 232}),
]

_PROOF_WORDS = re.compile(r"(?:\bby|\bsorry)\s*:=\s*$|:=\s*(?:by|sorry)\s*$")


def load(rel: str):
    path = shared_path("benchmarks", *rel.split("/"))
    return unique_names(load_path(path), rel)


@pytest.mark.parametrize(("rel", "expected"), CASES, ids=[c[0] for c in CASES])
def test_suite_file_loads_with_expected_counts(rel: str, expected: dict) -> None:
    problems = load(rel)
    assert dict(Counter(p.split for p in problems)) == expected
    names = [p.name for p in problems]
    assert len(set(names)) == len(names)
    for p in problems:
        assert p.statement.endswith(":="), p.origin
        assert not _PROOF_WORDS.search(p.statement), p.origin
        assert "sorry" not in re.findall(r"\w+", p.statement), p.origin
        assert p.header == "" or p.header.endswith("\n"), p.origin
        assert p.theorem_name and p.theorem_name in p.statement, p.origin
        assert re.fullmatch(r".+:\d+", p.origin), p.origin


def test_record_and_file_counts_behind_the_problem_counts() -> None:
    fm = json.loads(
        shared_path("benchmarks", "formalmath-lite", "FormalMATH_lite.json").read_text("utf-8")
    )
    assert len(fm) == 425
    combi = shared_path("benchmarks", "combibench", "lean", "CombiBench")
    assert len(list(combi.glob("*.lean"))) == 100
    putnam = shared_path("benchmarks", "putnambench", "lean4", "src")
    assert len(list(putnam.glob("putnam_*.lean"))) == 672


def test_deepseek_proofnet_repeated_names_are_disambiguated() -> None:
    problems = load("proofnet-deepseek-prover-v1.5/proofnet.jsonl")
    renamed = [p for p in problems if "#" in p.name]
    assert len({p.theorem_name for p in problems}) == 349  # distinct names over 371 rows
    assert len(renamed) == 371 - 349
    assert {"exercise_5_1#2", "exercise_5_1#3"} <= {p.name for p in problems}
    for p in renamed:
        assert p.name.split("#")[0] == p.theorem_name


def test_putnambench_answer_holes_are_flagged_and_answers_hidden() -> None:
    problems = load("putnambench/lean4/src")
    holes = [p for p in problems if p.answer_hole]
    assert len(holes) == 346
    for p in holes:
        assert f"{p.theorem_name}_solution" in p.context
        assert p.answer_reference  # the `-- answer` comment, kept out of the context
        assert "\n--" not in p.context
    assert all(p.informal for p in problems)  # the docstring is the informal statement
    assert all(p.header.startswith("import Mathlib\n") for p in problems)


def test_combibench_answer_holes() -> None:
    problems = load("combibench/lean/CombiBench")
    assert sum(p.answer_hole for p in problems) == 46
    part_b = next(p for p in problems if p.name == "imo_2019_p5_2")
    assert "theorem imo_2019_p5_1" in part_b.context  # its statement names part (a)


def test_headers_split_off_as_documented() -> None:
    deepseek = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
    assert {p.header for p in load("minif2f-deepseek-prover-v1.5/minif2f.jsonl")} == {deepseek}
    # Goedel-V2 embeds the same header at the top of formal_statement
    assert {p.header for p in load("minif2f-goedel-prover-v2/minif2f.jsonl")} == {deepseek}
    yangky11 = "import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
    assert {p.header for p in load("minif2f-lean4-yangky11/MiniF2F")} == {yangky11}
    assert not any("--" in p.header for p in load("goedel-prover-v1/putnam.jsonl"))
    rahul = load("proofnet-lean4-rahul3613/proofnet_lean4.jsonl")
    assert sum(p.header.endswith("noncomputable section\n") for p in rahul) > 300


def _normalised(statement: str) -> str:
    return " ".join(statement.split())


def test_goedel_v2_differs_from_deepseek_in_exactly_the_15_repaired_statements() -> None:
    deepseek = {
        p.name: p for p in load("minif2f-deepseek-prover-v1.5/minif2f.jsonl") if p.split == "test"
    }
    goedel = {p.name: p for p in load("minif2f-goedel-prover-v2/minif2f.jsonl")}
    assert set(deepseek) == set(goedel)
    changed = {
        name
        for name in goedel
        if _normalised(goedel[name].statement) != _normalised(deepseek[name].statement)
    }
    assert changed == {
        "aime_1994_p3",
        "mathd_numbertheory_618",
        "amc12a_2020_p10",
        "algebra_ineq_nto1onlt2m1on",
        "amc12a_2020_p7",
        "amc12a_2021_p18",
        "mathd_algebra_314",
        "mathd_algebra_275",
        "algebra_cubrtrp1oncubrtreq3_rcubp1onrcubeq5778",
        "induction_pord1p1on2powklt5on2",
        "induction_prod1p1onk3le3m1onn",
        "amc12a_2021_p9",
        "mathd_algebra_158",
        "mathd_algebra_342",
        "mathd_numbertheory_343",
    }
    assert all(goedel[n].header == deepseek[n].header for n in goedel)


def test_yangky11_files_match_the_generated_jsonl() -> None:
    files = {p.name: p for p in load("minif2f-lean4-yangky11/MiniF2F")}
    rows = {p.name: p for p in load("minif2f-lean4-yangky11/minif2f_yangky11_head.jsonl")}
    assert set(files) == set(rows)
    for name, p in files.items():
        assert p.statement == rows[name].statement
        assert p.split == rows[name].split
        assert Path(p.origin.rsplit(":", 1)[0]).name == f"{name}.lean"
