"""harness/lean_text.py: Lean's own reading of Lean text, one table per rule.

Each case states what Lean does (../shared/reference/lean_tokenizer.md, sections cited as W/T/N/C/
S/I/R) and what this reader must produce.
"""

from __future__ import annotations

import gzip
import json
import random

import pytest

from harness.lean_text import (
    Goal,
    Hypothesis,
    _Lexer,
    code_tokens,
    declarations,
    ident_parts,
    is_inaccessible,
    lex_problems,
    parse_goal,
    parse_goals,
    parse_header,
    tokenize,
)
from tests.conftest import shared_path

# (source, the tokens Lean reads (comments and literals as one token each), Lean's behaviour)
TOKENS = [
    ("a -- sorry\nb", ["a", "-- sorry", "b"], "W4: `--` runs to the end of the line"),
    ("/- x /- y -/ z -/ b", ["/- x /- y -/ z -/", "b"], "W6: block comments nest"),
    ("/-/- a -/ #eval x", ["/-/- a -/", "#eval", "x"], "W5: the char after /- is skipped"),
    ("/-/-/ b", ["/-/-/", "b"], "W5: `/-/-/` is one complete comment"),
    ('/- "-/" -/', ['/- "-/', '" -/'], "W6: quotes mean nothing in a comment"),
    ("x--y\nz", ["x", "--y", "z"], "W7: `--` starts a comment at a token boundary"),
    ("/-- doc /- in -/ c -/ d", ["/-- doc /- in -/ c -/", "d"], "W8: doc bodies nest"),
    ("#evalIO.println 1", ["#eval", "IO.println", "1"], "T3: longest `#` token"),
    ("#eval!x", ["#eval!", "x"], "T3: `#eval!` is a token of its own"),
    ("#check_failure x", ["#check_failure", "x"], "T3: longest match over `#check`"),
    ("set_option.x", ["set_option.x"], "T2: a longer identifier beats the keyword"),
    ("2set_option", ["2", "set_option"], "N5: a number stops before a letter"),
    ("1..5", ["1", "..", "5"], "N4: `..` after digits ends the number (lean4#8784)"),
    ("1_000 0x_ff 2.5 1e-3", ["1_000", "0x_ff", "2.5", "1e-3"], "N1-N3: number shapes"),
    ("h.1.ne'", ["h", ".", "1", ".", "ne'"], "I6: `.1` is a field index"),
    ("!'\"'", ["!", "'\"'"], "C4: after `!` a quote starts a char literal"),
    ("h'\"'", ["h'", "\"'"], "C4: after `h'` the `\"` opens a string"),
    ("'\n'", ["'\n'"], "C1: a char literal may hold a newline"),
    ('r"\\" x', ['r"\\"', "x"], "S3: raw strings have no escapes"),
    ('r#"a"b"# x', ['r#"a"b"#', "x"], 'S3: a raw string ends at `"` + its hashes'),
    ('br"x"', ["br", '"x"'], "S4: `br` is an identifier, then a plain string"),
    ('2r"x"', ["2", 'r"x"'], "N6: literals after a number are lexed as if spaced"),
    (
        "café ℝ x₁ α.β",
        ["café", "ℝ", "x₁", "α.β"],
        "I2: Latin-1 (lean4#9035), letter-like, subscripts",
    ),
    ("λx Πy", ["λ", "x", "Π", "y"], "I2: λ Π Σ are not identifier letters"),
    ("fooд", ["foo", "д"], "I4: Cyrillic is not an identifier letter"),
    ("exact? h!x x!=y", ["exact?", "h!x", "x!", "=", "y"], "I3: ! and ? continue names"),
    ("«a b».c", ["«a b».c"], "I5: escaped parts"),
    ("f '' s ⁻¹' t ∑' n", ["f", "''", "s", "⁻¹'", "t", "∑'", "n"], "C3/T1.6: Mathlib quote tokens"),
    ("`foo ``bar", ["foo", "bar"], "T1.4: name literals"),
]


@pytest.mark.parametrize(("src", "expected", "lean"), TOKENS, ids=[c[2] for c in TOKENS])
def test_tokens_are_the_ones_lean_reads(src, expected, lean):
    assert [t.text for t in tokenize(src)] == expected, lean


# (source, the lexical rule the screen refuses it under (None: honest), Lean's behaviour)
PROBLEMS = [
    ("/- never closed", "unterminated_comment", "W6: error at EOF, nothing after it is read"),
    ("/-/ x -/", "comment_trick", "W5: `/-/` is one opener whose `/` was skipped"),
    ("/--/ x -/", "comment_trick", "W5: `/--/` is not an empty doc comment"),
    ('"abc', "unterminated_string", "S1/R5: Lean resumes inside the string's text"),
    ('"\\q #eval x"', "bad_escape", "R7: after a bad escape Lean resumes at it"),
    ("'ab'", "bad_char_literal", "C1: a char literal holds one character"),
    ("0xg", "bad_number", "N1: a prefix needs a digit"),
    ("1_ x", "bad_number", "N2: `_` must be followed by a digit"),
    ("2example", "bad_number", "N5: error at the `e`, `example` becomes a command"),
    ("2set_option x", "glued_number", "N5: `2` then the keyword"),
    ("!'\"'", "glued_literal", "C4: a char literal glued to `!`"),
    ('2r"x"', "glued_literal", "N6: a raw string glued to a number"),
    ("#foo x", "unknown_hash_command", "T3: `#foo` depends on notation in scope"),
    ("a\tb", "control_character", "W2: a tab is an error, not whitespace"),
    ("a\rb", "control_character", "W2: a lone CR is an error"),
    ("/- a /- b -/ c -/", None, "a real nested comment"),
    ("'a' ['\\n', '\"']", None, "char literals"),
    ('r"x" "a\\"b"', None, "raw and escaped strings"),
    ("-- #check in a comment\nx", None, "a `#` command inside a comment"),
    ("2 * n + h.2.1 + x₂ + 1e5", None, "numbers, field indices, subscripts"),
    ("a\r\nb", None, "W1: CRLF is a line break"),
    ('"tab\tinside"', None, "S1: a tab inside a string is allowed"),
]


@pytest.mark.parametrize(("src", "rule", "lean"), PROBLEMS, ids=[c[2] for c in PROBLEMS])
def test_text_lean_reads_differently_is_flagged(src, rule, lean):
    rules = {p.rule for p in lex_problems(src)}
    assert (rule in rules) if rule else not rules, lean


def test_code_tokens_skip_comments_and_literals():
    src = 'a -- sorry\n/- x /- sorry -/ y -/ b "so\\"rry" \'"\' c /-- doc sorry -/ d'
    assert [t.text for t in code_tokens(src)] == ["a", "b", "c", "d"]


def test_positions_are_line_and_codepoint_column():
    (tok,) = [t for t in tokenize("theorem x : ℕ := by\n  sorry") if t.text == "sorry"]
    assert (tok.line, tok.col) == (2, 2)


def test_ident_parts_unescape():
    assert ident_parts("Lean.«ofReduceBool»") == ["Lean", "ofReduceBool"]
    assert ident_parts("«a.b».c") == ["a.b", "c"]


# (statement, where its signature ends) for the statements issue 11 names
STATEMENTS = [
    ("theorem t : let m := 2; m = 2 := by", "theorem t : let m := 2; m = 2 :="),
    ("theorem t (f : ℕ → ℕ) (h : f (n := 5) = 1) : True := by", None),
    ("theorem t (p : ℕ × ℕ) (h : p = { fst := 1, snd := 2 }) : p.1 = 1 := by", None),
    ("theorem t : (fun x : ℕ => x + 1) 1 = 2 := by", None),
    ("theorem t : {x : ℕ | x < 2} = {0, 1} := by", None),
    ("theorem t : (show 1 = 1 from rfl) = rfl := by", None),
    ("theorem t : (have h : 1 = 1 := rfl; h) = rfl := by", None),
    ("theorem t (x : ℕ := 3) : x = x := by", None),
    ("theorem t (x : ℝ) :\n  |x - 1| + |x| ≥ 0 := by", None),  # bars are not equations
    ("theorem t (n : ℕ) : match n with | 0 => True | _ + 1 => n ≠ 0 := by", None),  # MOBench
]


@pytest.mark.parametrize(("statement", "signature"), STATEMENTS)
def test_the_signature_ends_at_the_statements_own_assign(statement, signature):
    (decl,) = declarations(statement + "\n  simp")
    expected = signature or statement.removesuffix(" by")
    assert statement[: decl.signature_end] == expected
    assert decl.name == "t" and decl.keyword == "theorem"


def test_declarations_carry_doc_attributes_modifiers_and_prefixes():
    src = (
        "/-- The doc -/\n@[simp] private lemma a : True := trivial\n"
        "open Real in\ntheorem b : π > 0 := by\n  set_option maxRecDepth 100 in\n  positivity\n"
        "def f : ℕ → ℕ\n  | 0 => 1\n  | n + 1 => n\n"
        "structure P where\n  x : ℕ\nderiving Repr\n"
        "instance : Fact (Nat.Prime 7) := ⟨by norm_num⟩\n"
    )
    decls = declarations(src)
    assert [(d.keyword, d.name) for d in decls] == [
        ("lemma", "a"), ("theorem", "b"), ("def", "f"), ("structure", "P"), ("instance", None),
    ]  # fmt: skip
    a, b, f, p, inst = decls
    assert a.doc == "The doc" and a.modifiers == ("@[simp]", "private") and a.start == 0
    assert src[a.decl_start :].startswith("@[simp]")
    assert b.scoped_prefix and src[b.start :].startswith("open Real in")
    assert src[b.signature_end : b.end].strip().endswith("positivity")  # indented prefix stays
    assert f.signature_end is None  # equations `| 0 => 1`: no `:=`
    assert "deriving Repr" in src[p.start : p.end]
    assert src[: inst.signature_end].endswith("instance : Fact (Nat.Prime 7) :=")


def test_a_doc_comment_inside_an_inductive_is_not_the_next_declarations():
    src = "inductive I : Prop\n  /-- c -/\n  | a : I\n\ntheorem t : True := trivial\n"
    inductive, theorem = declarations(src)
    assert theorem.doc is None and src[theorem.start :].startswith("theorem t")


def test_unbalanced_brackets_never_swallow_the_next_declaration():
    # R7: a reserved keyword ends the command before it, open bracket or not
    src = "theorem a : (1 = 1 := rfl\ntheorem b : True := trivial\n"
    assert [d.name for d in declarations(src)] == ["a", "b"]


def test_header_is_imports_then_options_and_opens():
    src = (
        "import Mathlib\nimport Aesop\n-- note\nset_option maxHeartbeats 400000\n\n"
        "open BigOperators Real\nopen Nat in\ntheorem x : True := trivial\n"
    )
    header = parse_header(src)
    assert header.imports == ("Mathlib", "Aesop")
    assert header.import_lines == ("import Mathlib", "import Aesop")
    assert src[: header.body_start].endswith("open BigOperators Real\n")
    assert header.opens == {"BigOperators", "Real"}
    assert header.rest_line == 3
    same_line = "import Mathlib\nopen Real theorem t : True := trivial\n"
    assert same_line[parse_header(same_line).body_start :].startswith("theorem t")


def _shared_texts():
    corpora = shared_path("corpora")
    benchmarks = shared_path("benchmarks")
    for path in sorted(corpora.glob("*/extracted/*/*.lean")):
        yield path.read_text(encoding="utf-8")
    for path in sorted(corpora.glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield from (v for v in json.loads(line).values() if isinstance(v, str))
    for path in sorted(benchmarks.rglob("*.lean")):
        yield path.read_text(encoding="utf-8")
    for path in sorted(benchmarks.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield from (v for v in record.values() if isinstance(v, str))


def _both_readings(text: str) -> tuple[_Lexer, _Lexer]:
    fast, slow = _Lexer(text), _Lexer(text)
    fast.run()
    slow.run(fast=False)
    return fast, slow


def test_every_answer_and_suite_file_in_shared_reads_without_an_exception():
    count = 0
    for text in _shared_texts():
        fast, slow = _both_readings(text)
        assert (fast.tokens, fast.problems) == (slow.tokens, slow.problems), text[:200]
        declarations(text)
        parse_header(text)
        count += 1
    assert count > 18_000


def test_the_fast_reading_is_the_character_by_character_one_on_random_text():
    rng = random.Random(11)
    alphabet = list("ab1 \n.'\"#r-/{}()[]:=<>|_!?«»xe0₁ℝλ\t\\`@≤⟨∑⁻¹")
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
        fast, slow = _both_readings(text)
        assert (fast.tokens, fast.problems) == (slow.tokens, slow.problems), repr(text)


# ---------------------------------------------------------------------------------------------
# Goals, as `ppGoal` (src/Lean/Meta/PPGoal.lean) prints them


def H(names: str | tuple[str, ...], type_: str, value: str | None = None) -> Hypothesis:
    return Hypothesis(names if isinstance(names, tuple) else tuple(names.split()), type_, value)


# (text as Lean prints it, (case, hypotheses, target), Lean's behaviour)
GOALS = [
    ("⊢ Nat", (None, [], "Nat"), "no hypotheses: only the `⊢ ` line"),
    ("\n⊢ Nat", (None, [], "Nat"), "older REPLs put a newline before the goal"),
    ("x : Int\n⊢ x = 1", (None, [H("x", "Int")], "x = 1"), "one `name : type` line each"),
    (
        "x y : Nat\nf : Nat → Nat\nh0 : f 5 = 3\n⊢ ∃ k, f 2015 = k",
        (None, [H("x y", "Nat"), H("f", "Nat → Nat"), H("h0", "f 5 = 3")], "∃ k, f 2015 = k"),
        "consecutive hypotheses of one type share a line",
    ),
    (
        "case succ\nn✝ : Nat\nthis : true = true\n⊢ n✝ + 1 = 0",
        ("succ", [H("n✝", "Nat"), H("this", "true = true")], "n✝ + 1 = 0"),
        "`case TAG` first when the goal has a tag",
    ),
    (
        "case h.e'_2.h\nx : ℝ\n⊢ x = x",
        ("h.e'_2.h", [H("x", "ℝ")], "x = x"),
        "tags are dotted names (eraseMacroScopes)",
    ),
    (
        "x✝¹ x✝ : ℕ\n⊢ x✝¹ + x✝ = x✝ + x✝¹",
        (None, [H("x✝¹ x✝", "ℕ")], "x✝¹ + x✝ = x✝ + x✝¹"),
        "sanitizeNames: inaccessible names, the earlier one numbered in superscript",
    ),
    (
        "α : Type u_1\ninst✝¹ : Fintype α\ninst✝ : DecidableEq α\ns : Finset α\n"
        "⊢ s.card ≤ Fintype.card α",
        (
            None,
            [
                H("α", "Type u_1"),
                H("inst✝¹", "Fintype α"),
                H("inst✝", "DecidableEq α"),
                H("s", "Finset α"),
            ],
            "s.card ≤ Fintype.card α",
        ),
        "anonymous instance binders are inaccessible `inst✝`",
    ),
    (
        "n : ℕ\nh₀ : 0 < n\n⊢ ↑n ^ 2 = ↑n * ↑(n + 0)",
        (None, [H("n", "ℕ"), H("h₀", "0 < n")], "↑n ^ 2 = ↑n * ↑(n + 0)"),
        "coercions print as `↑`; subscripts continue names",
    ),
    (
        "z : ℂ\nh₀ : z = (1 + Complex.I) / ↑√2\n"
        "⊢ (∑ k ∈ Finset.Icc 1 12, z ^ k ^ 2) * ∑ k ∈ Finset.Icc 1 12, 1 / z ^ k ^ 2 = 36",
        (
            None,
            [H("z", "ℂ"), H("h₀", "z = (1 + Complex.I) / ↑√2")],
            "(∑ k ∈ Finset.Icc 1 12, z ^ k ^ 2) * ∑ k ∈ Finset.Icc 1 12, 1 / z ^ k ^ 2 = 36",
        ),
        "a miniF2F goal (amc12a_2019_p21, ../shared/reference/provers.md)",
    ),
    (
        "f : ℕ → ℕ\nh : ∀ (x : ℕ), f x = x\n⊢ ∀ (n : ℕ), f (f n) = n",
        (None, [H("f", "ℕ → ℕ"), H("h", "∀ (x : ℕ), f x = x")], "∀ (n : ℕ), f (f n) = n"),
        "` : ` inside a type: the names end at the first ` :` after them",
    ),
    (
        "n : ℕ\nm : ℕ := n + 1\nhm : m = n + 1\n⊢ n < m",
        (None, [H("n", "ℕ"), H("m", "ℕ", "n + 1"), H("hm", "m = n + 1")], "n < m"),
        "a let-bound hypothesis: `name : type := value`",
    ),
    (
        "s : Finset ℕ := ⋯\n⊢ s.card = 3",
        (None, [H("s", "Finset ℕ", "⋯")], "s.card = 3"),
        "a hidden let value prints as `⋯` (pp.showLetValues)",
    ),
    (
        "c : Config := { width := 120, indent := 2 }\n⊢ c.width = 120",
        (None, [H("c", "Config", "{ width := 120, indent := 2 }")], "c.width = 120"),
        "`:=` inside a structure instance is not the let's",
    ),
    (
        "x : let k := 2;\nFin k := 0\n⊢ ↑x = 0",
        (None, [H("x", "let k := 2;\nFin k", "0")], "↑x = 0"),
        "a `let` in the type takes its own `:=`; a let's type is not nested",
    ),
    (
        "S : Finset ℕ :=\n  Finset.filter (fun n => n % 3 = 0 ∧ n % 5 = 0 ∧ n % 7 = 0 ∧ 0 < n)\n"
        "    (Finset.range 1000000)\n⊢ S.card = 9523",
        (
            None,
            [
                H(
                    "S",
                    "Finset ℕ",
                    "Finset.filter (fun n => n % 3 = 0 ∧ n % 5 = 0 ∧ n % 7 = 0 ∧ 0 < n)\n"
                    "  (Finset.range 1000000)",
                )
            ],
            "S.card = 9523",
        ),
        "a long let value breaks after `:=` and is nested by 2",
    ),
    (
        "a b c : ℝ\nh₀ : 0 < a ∧ 0 < b ∧ 0 < c\nh₁ :\n  ∀ (x y : ℝ),\n"
        "    0 < x → 0 < y → Real.logb 2 (x * y) = Real.logb 2 x + Real.logb 2 y ∧ "
        "Real.logb 2 (x / y) = Real.logb 2 x - Real.logb 2 y\n⊢ a * b * c ≤ 1",
        (
            None,
            [
                H("a b c", "ℝ"),
                H("h₀", "0 < a ∧ 0 < b ∧ 0 < c"),
                H(
                    "h₁",
                    "∀ (x y : ℝ),\n  0 < x → 0 < y → Real.logb 2 (x * y) = Real.logb 2 x + "
                    "Real.logb 2 y ∧ Real.logb 2 (x / y) = Real.logb 2 x - Real.logb 2 y",
                ),
            ],
            "a * b * c ≤ 1",
        ),
        "a type too long for the width starts on the next line, nested by 2 (`h :` line)",
    ),
    (
        "n : ℕ\nih : ∑ i ∈ Finset.range (n + 1), ↑i ^ 3 = (∑ i ∈ Finset.range (n + 1), ↑i) ^ 2\n"
        "⊢ ∑ i ∈ Finset.range (n + 1 + 1), (↑i : ℝ) ^ 3 + ∑ i ∈ Finset.range (n + 1 + 1), 0 =\n"
        "    (∑ i ∈ Finset.range (n + 1 + 1), (↑i : ℝ)) ^ 2 + 0",
        (
            None,
            [
                H("n", "ℕ"),
                H(
                    "ih",
                    "∑ i ∈ Finset.range (n + 1), ↑i ^ 3 = (∑ i ∈ Finset.range (n + 1), ↑i) ^ 2",
                ),
            ],
            "∑ i ∈ Finset.range (n + 1 + 1), (↑i : ℝ) ^ 3 + ∑ i ∈ Finset.range (n + 1 + 1), 0 =\n"
            "  (∑ i ∈ Finset.range (n + 1 + 1), (↑i : ℝ)) ^ 2 + 0",
        ),
        "a multi-line target: `⊢ ` then the type nested by 2",
    ),
    (
        "«h y» : 1 = 1\nx' x₁ ε.pos : ℕ\n⊢ True",
        (None, [H(("«h y»",), "1 = 1"), H("x' x₁ ε.pos", "ℕ")], "True"),
        "escaped «names», primes, subscripts and dotted names",
    ),
    (
        "case inl\nh✝² h✝¹ : p\nh✝ : q\n⊢ p ∨ q",
        ("inl", [H("h✝² h✝¹", "p"), H("h✝", "q")], "p ∨ q"),
        "several inaccessible `h✝` numbered from the last",
    ),
]


@pytest.mark.parametrize(("text", "want", "lean"), GOALS, ids=[g[2] for g in GOALS])
def test_parse_goal_reads_what_lean_prints(text, want, lean):
    case, hypotheses, target = want
    assert parse_goal(text) == Goal(case, tuple(hypotheses), target), lean


# (text, Lean's behaviour: why it is not one goal)
NOT_GOALS = [
    ("", "nothing at all"),
    ("x : ℕ", "hypotheses without a `⊢` line"),
    ("unsolved goals\n⊢ x = 1", "a message's first line is not part of the goal"),
    ("| x + 0 = x", "a conv goal (`| ` prefix) is not a `⊢` goal"),
    ("⊢ p\n\n⊢ q", "a blank line separates two goals"),
    ("⊢ p\n⊢ q", "one goal has one `⊢` line"),
    ("h :\n⊢ p", "ppGoal never prints a hypothesis without its type"),
    ("⊢ ", "ppGoal never prints an empty target"),
    ("x := 1\n⊢ p", "a hypothesis line has a ` : ` after the names"),
]


@pytest.mark.parametrize(("text", "lean"), NOT_GOALS, ids=[g[1] for g in NOT_GOALS])
def test_text_that_is_not_one_goal_is_a_one_line_value_error(text, lean):
    with pytest.raises(ValueError) as raised:
        parse_goal(text)
    assert "\n" not in str(raised.value), lean


# (name, inaccessible?, Lean's rule: Name.isInaccessibleUserName)
NAMES = [
    ("x✝", True, "sanitizeNames appends ✝"),
    ("x✝¹", True, "then the index in superscript digits"),
    ("inst✝¹²", True, "indices of several digits"),
    ("h.mp✝", True, "the last string part decides"),
    ("x", False, "an ordinary name"),
    ("x₁", False, "subscripts are ordinary"),
    ("«x y»", False, "an escaped ordinary name"),
    ("_inaccessible", True, "Lean's other spelling"),
]


@pytest.mark.parametrize(("name", "want", "lean"), NAMES, ids=[n[2] for n in NAMES])
def test_is_inaccessible(name, want, lean):
    assert is_inaccessible(name) is want, lean


def test_parse_goals_splits_at_blank_lines():
    text = "case zero\n⊢ 0 + 1 > 0\n\ncase succ\nx : Nat\nhx : x + 1 > x\n⊢ x + 1 + 1 > x + 1"
    zero, succ = parse_goals(text)
    assert (zero.case, zero.target) == ("zero", "0 + 1 > 0")
    assert succ.hypotheses == (H("x", "Nat"), H("hx", "x + 1 > x"))
    assert parse_goals("") == ()


def _render(goal: Goal) -> str:
    """One-line goals as ppGoal prints them (for the round trip over recorded goals)."""
    lines = [f"case {goal.case}"] if goal.case else []
    for h in goal.hypotheses:
        value = f" := {h.value}" if h.value is not None else ""
        lines.append(f"{' '.join(h.names)} : {h.type}{value}")
    return "\n".join([*lines, f"⊢ {goal.target}"])


def _recorded_goals(value, key=None):
    """Every goal text in a recorded REPL reply: `goal`, `goals` (lists, or one string with
    blank lines between goals), goalsBefore/After, and "unsolved goals" messages."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _recorded_goals(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _recorded_goals(v, key)
    elif isinstance(value, str):
        if key in ("goal", "goals", "goalsBefore", "goalsAfter"):
            yield from (g for g in value.split("\n\n") if g)
        elif key == "data" and value.startswith("unsolved goals\n"):
            yield from value.split("\n", 1)[1].split("\n\n")


def test_every_goal_the_recorded_repl_printed_parses():
    from tests.doubles.fake_repl import read_reply_texts

    root = shared_path("fixtures", "lean-repl")
    texts = []
    for path in sorted(root.rglob("*.expected.out")):
        for reply in read_reply_texts(path.read_text(encoding="utf-8")):
            try:
                texts.extend(_recorded_goals(json.loads(reply)))
            except ValueError:
                continue  # a reply that is not JSON (none at the pinned commit)
    assert len(texts) >= 30
    for text in texts:
        assert _render(parse_goal(text)) == text.strip("\n")
