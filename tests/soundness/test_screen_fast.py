"""The fast paths of the lexer and the screen give exactly what the reference readings give.

The lexer's master regex is exact on "known" characters only and hands everything else to
`_Lexer.step` (the character-by-character reading of Lean's rules); the screen skips the token
pass when a cheap look at the raw text shows no rule can fire. Both are checked here against
the slow readings, on hand-picked edge cases and on seeded random texts.
"""

from __future__ import annotations

import importlib
import random

import pytest

from harness.config import SoundnessConfig
from harness.soundness import lexer
from harness.soundness.lexer import _Lexer, tokenize

# the module (the package re-exports its `screen` function under the same name)
screen_mod = importlib.import_module("harness.soundness.screen")

DEFAULT = SoundnessConfig()
NATIVE_OK = SoundnessConfig(allow_native_decide=True)

# pieces that sit on the boundaries the fast paths reason about
PIECES = [
    "sorry", "end", "open", "native", "exact?", "exact??", "apply?", "eval", "%", "set_option",
    "deriving", "instance", "scoped", "__harness", "sorryAx", "«sorryAx»", "«a b»", "«x",
    "Lean.ofReduceBool", "@[", "@ [", "@ -- c\n[", "@/- x -/[", "#eval", "#s", "#α", "#",
    "`foo", "``x", "`", 's!"a"', '"{x}"', '"a\\"b"', '"\\', "'a'", "'\\n'", "'\\x41'",
    "'\\u0041'", "'", "½", "²", "α", "λ", "Π", "ℕ", "₁", "ᵢ", "ⱼ", "\u0301", "\u200b", "\u00a0",
    "\ue000", "\U000e0100", "一", "٣", "𝔸", "\U0001f600", ".", "?", "!", "_", "1", "1.5", "x",
    " ", "\n", "\t", "--", "/-", "-/", "/--", "/-!", "+", "+native", "maxHeartbeats", "0",
    "axiom", 'r"x"', 'r#"a"#', "h.", "Nat.", "debug.skipKernelTC", "true", "in", "private",
    "variable", "stop", "admit", "theorem", ":=", "by", "'\\x--'", "-- `x` end #eval\n",
]  # fmt: skip


def reference_tokens(src: str) -> list[lexer.Token]:
    """The slow reading: `_Lexer.step` from every token start."""
    lx = _Lexer(src)
    i = 0
    while i < len(src):
        i = lx.step(i)
    return lx.tokens


def random_texts(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 10))) for _ in range(count)]


EDGE_CASES = [
    "x₁ h.«x y».z 1.5 'a' `foo r#\"a\"# #eval /- a /- b -/ -/ -- c",
    "'a'sorry ½end x?sorry h'end 1sorry #sorry",
    "a\u0301b α.β h.٣ 1.٣ x٣ ℕ.succ «unterminated",
    "/--/ x /-/ y -/ z -/",
    '"unterminated \\',
    "@ -- c\n[instance] @/- x -/[simp]",
]


@pytest.mark.parametrize("src", EDGE_CASES)
def test_fast_lexer_matches_the_reference_reading_on_edge_cases(src):
    assert tokenize(src) == reference_tokens(src)


def test_fast_lexer_matches_the_reference_reading_on_random_texts():
    for src in random_texts(11, 3000):
        assert tokenize(src) == reference_tokens(src), repr(src)


def test_tokenize_returns_a_fresh_list_each_time():
    first = tokenize("theorem t : True := trivial")
    first.clear()
    assert len(tokenize("theorem t : True := trivial")) == 7


def _token_pass(monkeypatch, text: str, config: SoundnessConfig) -> list:
    monkeypatch.setattr(screen_mod, "_may_fire", lambda _text: True)
    return screen_mod._findings(text, config, "text")


@pytest.mark.parametrize(
    "src",
    [
        "'a'sorry",
        "½end",
        "x.«sorryAx» _",
        "@ -- c\n[instance] def f := 1",
        "h.native",
        "(config := {native := true})",
        "exact?",
        "theorem __harness_x : True := trivial",
        "by decide +native",
        "set_option maxHeartbeats 0 in",
        # `--` inside an escaped char literal does not start a comment: what follows is code
        "exact '\\x--' sorry",
        "exact '\\u--ab' -- c\nsorry",
        "-- `x`\n'-'--sorry\nsorry",
    ],
)
def test_the_prefilter_never_skips_a_text_the_token_pass_refuses(monkeypatch, src):
    assert screen_mod._may_fire(src)
    assert screen_mod._findings(src, DEFAULT, "text") == _token_pass(monkeypatch, src, DEFAULT)
    assert screen_mod._findings(src, DEFAULT, "text")


def test_the_prefilter_agrees_with_the_token_pass_on_random_texts(monkeypatch):
    texts = random_texts(12, 4000)
    fast = [screen_mod._findings(t, c, "text") for t in texts for c in (DEFAULT, NATIVE_OK)]
    slow = [_token_pass(monkeypatch, t, c) for t in texts for c in (DEFAULT, NATIVE_OK)]
    assert fast == slow
    assert sum(1 for f in fast if f) > 1000  # the texts do exercise the rules


def test_non_ascii_digits_in_a_limit_are_refused_not_a_crash():
    bad = screen_mod.screen(
        "set_option maxHeartbeats 400²000 in\ntheorem t : True := trivial", DEFAULT
    )
    assert bad is not None and bad.rule == "max_heartbeats"


@pytest.mark.parametrize(
    "src, line, col, code",
    [
        ("a\nb\u200bc", 2, 1, "U+200B"),
        ("x := \ue000", 1, 5, "U+E000"),  # private use: outside the precomputed classes
        ("x\n\n  \U000e0100", 3, 2, "U+E0100"),  # variation selector
        ("a\u00a0b", 1, 1, "U+00A0"),
        ("-- ok\r\n\u202e", 2, 0, "U+202E"),
    ],
)
def test_invisible_characters_and_their_positions(src, line, col, code):
    bad = screen_mod.screen(src, DEFAULT)
    assert bad is not None and bad.rule == "invisible_unicode"
    assert (bad.line, bad.col) == (line, col) and bad.text.startswith(code)


def test_visible_unicode_is_not_invisible():
    assert screen_mod.screen("theorem t (x : ℕ) (h₁ : x ≤ 2) : x < 3 := by omega", DEFAULT) is None


@pytest.mark.parametrize(
    "src",
    [
        "by\n  -- use `h` to end the proof; #eval is not run\n  exact h -- `x`",
        "by\n  have h' : x = 1 := by simp -- `simp` closes it, sorry\n  exact h'",
    ],
)
def test_code_quoted_in_line_comments_needs_no_token_pass(monkeypatch, src):
    assert not screen_mod._may_fire(src)
    assert _token_pass(monkeypatch, src, DEFAULT) == []
