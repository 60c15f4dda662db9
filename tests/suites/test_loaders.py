"""Loaders on small hand-written suites: formats, normalisation, and errors naming file and line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.suites.loaders import (
    load_json,
    load_jsonl,
    load_lean_dir,
    load_lean_file,
    load_path,
    normalise_statement,
    parse_lean_text,
    unique_names,
)

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
SIGNATURE = "theorem t (a b : ℕ) (h₀ : a = 2 * b)\n    (h₁ : b = 3) : a = 6 :="

ENDINGS = [
    " by",
    " by\n",
    " by sorry",
    " by\n  sorry",
    "",
    " sorry",
    "\nsorry",
    "\n  sorry\n",
    " by sorry -- a comment",
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_ending_normalises_to_the_same_statement(ending: str) -> None:
    assert normalise_statement(SIGNATURE + ending) == SIGNATURE


@pytest.mark.parametrize("ending", ENDINGS)
def test_jsonl_record_statement_ends_at_the_signature(tmp_path: Path, ending: str) -> None:
    f = write_jsonl(
        tmp_path / "s.jsonl",
        [{"name": "t", "split": "test", "header": HEADER, "formal_statement": SIGNATURE + ending}],
    )
    (p,) = load_jsonl(f)
    assert p.statement == SIGNATURE
    assert p.header == HEADER
    assert p.split == "test"
    assert p.origin == f"{f}:1"
    assert p.theorem_name == "t"


def test_header_embedded_in_formal_statement_is_split_off(tmp_path: Path) -> None:
    # Goedel-Prover-V2: header + docstring + theorem in one field, no `header` field.
    record = {
        "name": "t",
        "informal_prefix": "/-- Show that a = 6.-/\n",
        "formal_statement": HEADER + "/-- Show that a = 6.-/\n" + SIGNATURE + " by\n",
        "split": "test",
    }
    (p,) = load_jsonl(write_jsonl(tmp_path / "g.jsonl", [record]))
    assert p.header == HEADER
    assert p.statement == SIGNATURE
    assert p.informal == "Show that a = 6."
    assert p.context == ""


def test_split_and_informal_may_be_missing(tmp_path: Path) -> None:
    record = {"name": "t", "header": "import Mathlib\n", "formal_statement": SIGNATURE + " sorry"}
    (p,) = load_jsonl(write_jsonl(tmp_path / "r.jsonl", [record]))
    assert p.split is None and p.informal is None
    assert p.header == "import Mathlib\n"


def test_header_without_trailing_newline_gets_one(tmp_path: Path) -> None:
    record = {"name": "t", "header": "import Mathlib", "formal_statement": SIGNATURE}
    (p,) = load_jsonl(write_jsonl(tmp_path / "r.jsonl", [record]))
    assert p.header == "import Mathlib\n"


def test_broken_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    a = json.dumps({"name": "a", "formal_statement": "theorem a : True := by"})
    b = json.dumps({"name": "b", "formal_statement": "theorem b : True := by"})
    f = tmp_path / "broken.jsonl"
    f.write_text(a + "\n" + b + '\n{"name": "c", \n', encoding="utf-8")
    with pytest.raises(SuiteError) as info:
        load_jsonl(f)
    assert info.value.path == str(f) and info.value.line == 3
    assert str(info.value).startswith(f"{f}:3: not valid JSON")


def test_missing_formal_statement_names_the_field(tmp_path: Path) -> None:
    f = write_jsonl(
        tmp_path / "m.jsonl",
        [{"name": "a", "formal_statement": "theorem a : True :="}, {"name": "b"}],
    )
    with pytest.raises(SuiteError, match=r"m\.jsonl:2: missing field 'formal_statement'"):
        load_jsonl(f)


def test_record_without_a_theorem_is_an_error(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "n.jsonl", [{"name": "a", "formal_statement": "def x : Nat := 3"}])
    with pytest.raises(SuiteError, match=r"n\.jsonl:1: a: no theorem to prove"):
        load_jsonl(f)


def test_record_that_is_not_an_object(tmp_path: Path) -> None:
    f = tmp_path / "l.jsonl"
    f.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"l\.jsonl:1: expected a JSON object"):
        load_jsonl(f)


def test_json_list_records_carry_their_line(tmp_path: Path) -> None:
    records = [
        {"name": "a", "formal_statement": "theorem a : 1 = 1 := by"},
        {"name": "b", "formal_statement": "theorem b : 2 = 2 := by sorry"},
    ]
    f = tmp_path / "list.json"
    f.write_text(json.dumps(records, indent=2), encoding="utf-8")
    a, b = load_json(f)
    assert (a.statement, b.statement) == ("theorem a : 1 = 1 :=", "theorem b : 2 = 2 :=")
    assert a.origin == f"{f}:2"
    assert b.origin == f"{f}:6"  # `[`, `{`, two fields, `},` come before it


def test_broken_json_list_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text(
        '[\n {"name": "a",\n  "formal_statement": "theorem a : True :="},\n {"name": }\n]',
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match=r"bad\.json:4: not valid JSON"):
        load_json(f)


def test_formalmath_style_header_inside_autoformalization(tmp_path: Path) -> None:
    record = {
        "theorem_names": "omni_1",
        "refined_statement": "Prove it.",
        "autoformalization": "import Mathlib\n\nopen Real Set\nopen scoped BigOperators\n\ntheorem algebra_1 (x : ℝ) : x ^ 2 ≥ 0 := by",
    }
    f = tmp_path / "fm.json"
    f.write_text(json.dumps([record]), encoding="utf-8")
    (p,) = load_json(f)
    assert p.name == "omni_1" and p.theorem_name == "algebra_1"
    assert p.header == "import Mathlib\n\nopen Real Set\nopen scoped BigOperators\n\n"
    assert p.statement == "theorem algebra_1 (x : ℝ) : x ^ 2 ≥ 0 :="
    assert p.informal == "Prove it."


PUTNAM_FILE = """import Mathlib

open Filter Topology

abbrev putnam_x_solution : ℕ := sorry
-- 17
/--
Find the number.
-/
theorem putnam_x (n : ℕ) (h : n = putnam_x_solution) :
    let m := n
    m = 42 :=
sorry
"""


def test_answer_hole_is_context_and_its_answer_is_hidden(tmp_path: Path) -> None:
    f = tmp_path / "putnam_x.lean"
    f.write_text(PUTNAM_FILE, encoding="utf-8")
    (p,) = load_lean_file(f)
    assert p.header == "import Mathlib\n\nopen Filter Topology\n\n"
    assert p.context == "abbrev putnam_x_solution : ℕ := sorry\n"
    assert p.answer_hole is True
    assert p.answer_reference == "17"
    assert "17" not in p.context + p.statement
    assert p.informal == "Find the number."
    # `let m := n` inside the type does not end the signature.
    assert (
        p.statement
        == "theorem putnam_x (n : ℕ) (h : n = putnam_x_solution) :\n    let m := n\n    m = 42 :="
    )
    assert p.origin == f"{f}:10"


def test_lean_file_with_many_theorems_and_helpers(tmp_path: Path) -> None:
    text = (
        "import Mathlib\n\nopen Real\nnoncomputable section\n\n"
        "def f (x : ℝ) : ℝ := x + 1\n\n"
        "lemma helper : f 0 = 1 := by\n  simp [f]\n\n"
        "@[simp]\ntheorem one : f 1 = 2 := by sorry\n\n"
        "open Finset in\ntheorem two : f 0 = 1 ∧ helper = helper :=\nsorry\n\n"
        " theorem three : True := by\n    sorry\n"
    )
    f = tmp_path / "Book.lean"
    f.write_text(text, encoding="utf-8")
    one, two, three = load_lean_file(f, split="valid")
    assert one.header == "import Mathlib\n\nopen Real\nnoncomputable section\n\n"
    assert one.statement == "@[simp]\ntheorem one : f 1 = 2 :="
    # the proven lemma is context only where the statement names it
    assert one.context == "def f (x : ℝ) : ℝ := x + 1\n"
    assert "lemma helper" in two.context
    assert two.statement == "open Finset in\ntheorem two : f 0 = 1 ∧ helper = helper :="
    assert three.statement == "theorem three : True :="
    assert [p.split for p in (one, two, three)] == ["valid"] * 3
    assert [p.origin.rsplit(":", 1)[1] for p in (one, two, three)] == ["11", "14", "18"]


def test_lean_file_without_a_theorem_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "Empty.lean"
    f.write_text("import Mathlib\n\ndef x : Nat := 3\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"Empty\.lean: no theorem to prove"):
        load_lean_file(f)


def test_comments_and_strings_do_not_fool_the_reader() -> None:
    text = (
        "import Mathlib\n/- theorem fake : False := sorry -/\n"
        'theorem real (s : String) (h : s = ":= sorry") : s.length = 8 := by sorry\n'
        "-- theorem other : False := sorry\n"
    )
    parsed = parse_lean_text(text)
    names = [d.name for d in parsed.decls if d.is_problem]
    assert names == ["real"]
    assert normalise_statement(text[text.index("theorem real") :]).endswith("s.length = 8 :=")


def test_directory_of_lean_files_takes_split_from_subdirectories(tmp_path: Path) -> None:
    root = tmp_path / "MiniF2F"
    for split in ("Test", "Valid"):
        (root / split).mkdir(parents=True)
        for i in range(3):
            (root / split / f"p{i}.lean").write_text(
                f"import Mathlib\n\ntheorem {split.lower()}_{i} : {i} = {i} := by sorry",
                encoding="utf-8",
            )
        # the import-index file beside the folder is not a problem file
        (root / f"{split}.lean").write_text(
            "".join(f"import MiniF2F.{split}.p{i}\n" for i in range(3)), encoding="utf-8"
        )
    (root / "Test" / "with_solution").mkdir()
    (root / "Test" / "with_solution" / "x.lean").write_text(
        "theorem x : True := trivial\n", encoding="utf-8"
    )
    problems = load_lean_dir(root)
    assert [(p.name, p.split) for p in problems] == [(f"test_{i}", "test") for i in range(3)] + [
        (f"valid_{i}", "valid") for i in range(3)
    ]
    assert load_path(root / "Test")[0].split == "test"


def test_directory_with_a_theorem_less_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "a.lean").write_text("theorem a : True := by sorry\n", encoding="utf-8")
    (tmp_path / "b.lean").write_text("import Mathlib\ndef b : Nat := 1\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"b\.lean: no theorem to prove"):
        load_lean_dir(tmp_path)


def test_unknown_format_and_missing_path(tmp_path: Path) -> None:
    f = tmp_path / "suite.csv"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(SuiteError, match="unknown suite format"):
        load_path(f)
    with pytest.raises(SuiteError, match="no such file"):
        load_path(tmp_path / "absent.jsonl")


def test_repeated_names_get_suffixes_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = [
        {"name": n, "formal_statement": f"theorem {n} : True := by"}
        for n in ["a", "b", "a", "a", "b"]
    ]
    problems = load_jsonl(write_jsonl(tmp_path / "dup.jsonl", records))
    with caplog.at_level(logging.WARNING, logger="harness.suites"):
        unique = unique_names(problems, "dup.jsonl")
    assert [p.name for p in unique] == ["a", "b", "a#2", "a#3", "b#2"]
    assert [p.theorem_name for p in unique] == ["a", "b", "a", "a", "b"]
    assert len(caplog.records) == 1
    assert "a -> a#2" in caplog.records[0].getMessage()


def test_comments_after_the_header_are_not_shown_as_header(tmp_path: Path) -> None:
    # Goedel's PutnamBench copy: the answer sits in a comment at the end of the `header` field.
    record = {
        "name": "p",
        "header": "import Mathlib\n\nopen Filter Topology Set\n\n-- 1990\n/--\nFind the year.\n-/",
        "formal_statement": "theorem p : (1990 : ℕ) = 1990 := by\n",
    }
    (p,) = load_jsonl(write_jsonl(tmp_path / "putnam.jsonl", [record]))
    assert p.header == "import Mathlib\n\nopen Filter Topology Set\n"
    assert "1990" not in p.header + p.context
    assert p.informal == "Find the year."
