"""The static screen: unit behaviour a user relies on."""

from __future__ import annotations

import pytest

from harness.config import SoundnessConfig
from harness.soundness.screen import RULES, screen, screen_all, uses_native
from harness.types import Candidate, VerdictKind

DEFAULT = SoundnessConfig()


def test_words_in_comments_docstrings_and_strings_do_not_count():
    honest = (
        "/-- Uses no sorry, axiom, instance, notation, variable or #exit. -/\n"
        'theorem h : True := by\n  -- sorry, admit, native_decide\n  have : "sorry" = "sorry" := rfl\n  trivial\n'
    )
    assert screen(honest, DEFAULT) is None


def test_a_comment_cannot_hide_a_command():
    bad = screen("theorem h : True := by\n  trivial /- fine -/ #eval 1", DEFAULT)
    assert bad is not None and (bad.rule, bad.text, bad.line) == ("elab_code", "#eval", 2)


def test_sorry_family_gives_sorry_and_other_rules_win():
    for word in ("sorry", "admit", "stop", "sorryAx _ false", "«sorryAx» _ false"):
        bad = screen(f"theorem h : False := by\n  exact {word}", DEFAULT)
        assert bad is not None and (bad.kind, bad.rule) == (VerdictKind.SORRY, "sorry")
    bad = screen("theorem h : False := sorry\naxiom a : False", DEFAULT)
    assert bad is not None and (bad.kind, bad.rule) == (VerdictKind.REJECTED, "axiom")


@pytest.mark.parametrize(
    "option, rule",
    [
        ("maxHeartbeats 0", "max_heartbeats"),
        ("maxHeartbeats 400001", "max_heartbeats"),
        ("maxRecDepth 20000", "max_rec_depth"),
        ("debug.skipKernelTC true", "debug_option"),
        ("autoImplicit true", "auto_implicit"),
        ("relaxedAutoImplicit false", "auto_implicit"),
        ('trace.profiler.output "/tmp/x"', "option_value"),
    ],
)
def test_set_option_rules(option, rule):
    bad = screen(f"set_option {option} in\ntheorem h : True := trivial", DEFAULT)
    assert bad is not None and bad.rule == rule


def test_set_option_within_limits_is_fine_and_limits_come_from_config():
    ok = "set_option maxHeartbeats 400000 in\nset_option maxRecDepth 5000 in\ntheorem h : True := trivial"
    assert screen(ok, DEFAULT) is None
    assert screen(ok, SoundnessConfig(max_heartbeats=1000)).rule == "max_heartbeats"
    assert (
        screen(
            "set_option maxHeartbeats 0 in\ntheorem h : True := trivial",
            SoundnessConfig(max_heartbeats=0),
        )
        is None
    )


def test_native_decide_is_a_policy_switch():
    forms = ["by native_decide", "by decide +native", "by decide (config := {native := true})",
             "of_decide_eq_true (Lean.ofReduceBool _ _ rfl)"]  # fmt: skip
    for form in forms:
        text = f"theorem h : 2 ^ 10 = 1024 := {form}"
        bad = screen(text, DEFAULT)
        assert bad is not None and bad.rule == "native_decide", form
        assert screen(text, SoundnessConfig(allow_native_decide=True)) is None, form
        assert uses_native(text)
    assert not uses_native("theorem h : 2 ^ 10 = 1024 := by decide")


def test_open_in_is_fine_but_bare_open_and_open_private_are_not():
    assert screen("open Finset in\ntheorem h : True := trivial", DEFAULT) is None
    assert screen("open Finset Real in\ntheorem h : True := trivial", DEFAULT) is None
    assert screen("theorem h : True := by\n  open Real in trivial", DEFAULT) is None
    assert screen("open scoped BigOperators in\ntheorem h : True := trivial", DEFAULT) is None
    assert screen("open Finset\ntheorem h : True := trivial", DEFAULT).rule == "scope"
    assert screen("open scoped Finset\ntheorem h : True := trivial", DEFAULT).rule == "scope"
    assert (
        screen("open private foo in\ntheorem h : True := trivial", DEFAULT).rule == "open_private"
    )


def test_attributes_allowlist():
    assert screen("@[simp] theorem h : True := trivial", DEFAULT) is None
    assert screen("@[simp, norm_cast] theorem h : True := trivial", DEFAULT) is None
    assert screen("@[instance] def i : Inhabited Nat := ⟨0⟩", DEFAULT).rule == "instance"
    assert screen("@[csimp] theorem h : True := trivial", DEFAULT).rule == "attribute"
    assert screen("@[implemented_by f] def g : Nat := 0", DEFAULT).rule == "implemented_by"


def test_invisible_unicode_anywhere():
    for ch in ("\u200b", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u3164", "\u00a0"):
        bad = screen(f"theorem h : True := by\n  -- a comment {ch} here\n  trivial", DEFAULT)
        assert bad is not None and bad.rule == "invisible_unicode" and bad.line == 2, repr(ch)
    # ordinary mathematical Unicode is fine
    assert screen("theorem h (x : ℝ) (h₀ : 0 ≤ x) : √x ≥ 0 := Real.sqrt_nonneg x", DEFAULT) is None


def test_reserved_names():
    assert screen("theorem h : True := __harness_ref", DEFAULT).rule == "reserved_name"


def test_candidate_parts_are_all_screened_and_named():
    found = screen_all(
        Candidate(proof="by\n  sorry", aux="axiom a : False\n", answer_fill="by exact?"), DEFAULT
    )
    assert [(r.part, r.rule) for r in found] == [
        ("aux", "axiom"), ("proof", "sorry"), ("answer", "search_tactic"),
    ]  # fmt: skip


def test_rules_are_documented():
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "soundness.md").read_text(encoding="utf-8")
    missing = [rule for rule in RULES if f"`{rule}`" not in doc]
    assert not missing, f"rules missing from docs/soundness.md: {missing}"


def test_raw_strings_and_char_escapes_end_where_lean_ends_them():
    # a raw string has no escapes: `r"\"` ends at its second quote, so `sorry` is code
    bad = screen('theorem h : True := by\n  have := r"\\" ; sorry ; exact "x"', DEFAULT)
    assert bad is not None and bad.rule == "sorry"
    assert screen("theorem h : True := by\n  have := '\\''\n  sorry", DEFAULT).rule == "sorry"


def test_hash_commands_and_unknown_hash_words():
    # Mathlib's scoped `#s` (`Finset.card s`) reads as `#` `s` or as an error depending on the
    # notation in scope: no honest answer in the corpora uses it, so it is refused unread
    bad = screen("theorem h (s : Finset ℕ) : #s = s.card := by\n  rfl", DEFAULT)
    assert bad.rule == "unknown_hash_command"
    assert screen("theorem h : True := by\n  trivial #eval 1", DEFAULT).rule == "elab_code"
    assert screen("theorem h : True := by trivial #sample Nat", DEFAULT).rule == "hash_command"
    bad = screen("theorem h : True := trivial\n#mystery_command x", DEFAULT)
    assert bad.rule == "unknown_hash_command"
