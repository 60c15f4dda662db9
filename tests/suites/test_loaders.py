"""harness/suites/loaders.py: formats, normalisation and errors naming file and line on small
hand-written suites, how Lean text splits into header, context and statement, and every suite
file in ../shared/benchmarks with the problem counts benchmarks.md gives."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
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
    problems_in_text,
    read_json_list,
    unique_names,
)
from tests.conftest import shared_path

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
    assert [f.command.name for f in problems_in_text(text)] == ["real"]
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
    assert p.header == "import Mathlib\n\nopen Filter Topology Set\n\n"  # blank lines kept
    assert "1990" not in p.header + p.context
    assert p.informal == "Find the year."


def test_json_list_is_read_with_the_line_of_each_element(tmp_path: Path) -> None:
    f = tmp_path / "l.json"
    f.write_text('[\n  {"a": 1},\n\n  [2,\n 3],\n  "x"\n]\n', encoding="utf-8")
    assert read_json_list(f) == [({"a": 1}, 2), ([2, 3], 4), ("x", 6)]
    f.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(SuiteError, match=r"l\.json:1: expected a JSON list of records"):
        read_json_list(f)


# ---------------------------------------------------------------------------------------------
# Where the statement ends: the `:=` of the signature, not one inside the type


STATEMENTS = {
    "let": "theorem let_in (n : ℕ) :\n    let m := n + 2\n    m - 2 = n :=",
    "let_semicolon": "theorem let_semi : let k := 3; k * k = 9 :=",
    "have": "theorem have_in (a : ℕ) : have b := a; b = a :=",
    "named_argument": "theorem named (l : List ℕ) (h : l.foldl (init := 0) (· + ·) = 3) : l ≠ [] :=",
    "structure_instance": "theorem point (q : ℤ × ℤ) (hq : q = { fst := -1, snd := 4 }) : q.2 = 4 :=",
    "anonymous_fun": "theorem twice (g : ℕ → ℕ) (hg : g = fun n => 2 * n) : g 3 = 6 :=",
    "set_builder": "theorem evens : {n : ℕ | n % 2 = 0 ∧ n < 5} = {0, 2, 4} :=",
    "show_from": "theorem shown (p : Prop) (hp : p) : (show p from hp) = hp :=",
    "optional_parameter": "theorem opt (n : ℕ) (m : ℕ := n + 1) : m = m :=",
    "absolute_value": "theorem abs_le (a b : ℝ) (h₀ : a ^ 2 + b ^ 2 = 1) :\n    a * b + |a - b| ≤ 1 :=",
    "match_in_type": (
        "theorem by_cases (n : ℕ) :\n    match n with\n    | 0 => True\n    | _ + 1 => n ≠ 0 :="
    ),
}


@pytest.mark.parametrize("case", sorted(STATEMENTS))
def test_statement_ends_at_the_signatures_assignment(case: str, tmp_path: Path) -> None:
    statement = STATEMENTS[case]
    record = {
        "name": case,
        "header": "import Mathlib\n",
        "formal_statement": statement + " by\n  sorry",
    }
    (p,) = load_jsonl(write_jsonl(tmp_path / "s.jsonl", [record]))
    assert p.statement == statement


def test_a_statement_cut_inside_a_bracket_ends_at_its_last_assignment(tmp_path: Path) -> None:
    # rahul3613's ProofNet JSONL cuts two rows at the `:=` of an optional parameter; the
    # bracket never closes, and the row still loads, up to that `:=`.
    statement = "theorem Ireland_Rosen_exercise_2_4 {a : ℤ} (ha : a ≠ 0)\n  (f_a :="
    record = {"name": "r", "header": "import Mathlib\n", "formal_statement": statement + " sorry"}
    (p,) = load_jsonl(write_jsonl(tmp_path / "rahul.jsonl", [record]))
    assert p.statement == statement


def test_an_instance_with_a_sorry_field_is_context_not_a_problem() -> None:
    text = (
        "instance boxed : Inhabited Bool where\n  default := sorry\n\n"
        "theorem uses : (default : Bool) = default := by sorry\n"
    )
    (f,) = problems_in_text(text)
    assert f.command.name == "uses"
    assert f.context == "instance boxed : Inhabited Bool where\n  default := sorry\n"


def test_doc_comments_inside_a_structure_stay_in_it() -> None:
    text = (
        "import Mathlib\n\n"
        "structure Pair where\n  /-- the first -/\n  a : ℕ\n  /-- the second -/\n  b : ℕ\n\n"
        "theorem pair (p : Pair) : p.a + p.b = p.b + p.a := by sorry\n"
    )
    (f,) = problems_in_text(text)
    assert f.statement == "theorem pair (p : Pair) : p.a + p.b = p.b + p.a :="
    assert (
        f.context
        == "structure Pair where\n  /-- the first -/\n  a : ℕ\n  /-- the second -/\n  b : ℕ\n"
    )
    assert f.command.doc is None


# ---------------------------------------------------------------------------------------------
# Header and context


def test_header_takes_universes_and_commands_after_a_comment_on_their_line() -> None:
    # MOBench's header field ends `open ... Rat\n`; its formal_statement goes on with
    # `/- special open -/ open Finset`, which is a header command like the ones before it.
    text = (
        "\nimport Mathlib\nimport Aesop\n\nopen BigOperators Real\n"
        "/- special open -/ open Finset\nuniverse u\n\n\n"
        "def S (n : ℕ) : Finset ℕ := Finset.range n\n\n"
        "theorem card_S (n : ℕ) : (S n).card = n := by sorry\n"
    )
    (f,) = problems_in_text(text)
    assert f.header == text[: text.index("def S")]
    assert f.context == "def S (n : ℕ) : Finset ℕ := Finset.range n\n"


def test_text_without_header_commands_has_an_empty_header() -> None:
    (f,) = problems_in_text("\n\n-- a note\ntheorem t : True := by sorry\n")
    assert f.header == "" and f.context == "" and f.statement == "theorem t : True :="


def test_a_module_doc_after_the_header_is_context() -> None:
    text = (
        "import Mathlib\n\n/-! ## Setup -/\n\ndef two : ℕ := 2\n\ntheorem t : two = 2 := by sorry\n"
    )
    (f,) = problems_in_text(text)
    assert f.header == "import Mathlib\n\n"
    assert f.context == "/-! ## Setup -/\n\ndef two : ℕ := 2\n"
    assert f.command.doc is None


def test_a_lemma_named_only_in_a_comment_is_not_context() -> None:
    text = (
        "lemma helper : 1 + 1 = 2 := rfl\n\n"
        "def two : ℕ := 2 -- not helper\n\n"
        "theorem t : two = 2 := by sorry\n\n"
        "theorem u (h : 1 + 1 = 2 := helper.symm.symm) : True := by sorry\n"
    )
    t, u = problems_in_text(text)
    assert t.context == "def two : ℕ := 2 -- not helper\n"
    assert u.context.startswith("lemma helper : 1 + 1 = 2 := rfl\n\ndef two")
    assert "theorem t" not in u.context


def test_normalise_statement_skips_commands_before_the_declaration() -> None:
    text = "open Nat in\n@[simp] private theorem z : (0 : ℕ) + 0 = 0 := rfl"
    assert normalise_statement("set_option maxHeartbeats 400000\n\n" + text) == (
        "open Nat in\n@[simp] private theorem z : (0 : ℕ) + 0 = 0 :="
    )
    with pytest.raises(ValueError, match="no declaration"):
        normalise_statement("open Nat\n#check Nat.succ\n")


# ---------------------------------------------------------------------------------------------
# Every suite file in ../shared/benchmarks. Where a file holds more theorems than it has records
# or files, the count asserted is what the file really contains, with the reason beside it.

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
