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
    for word in ("sorry", "admit", "sorryAx _ false", "«sorryAx» _ false"):
        bad = screen(f"theorem h : False := by\n  exact {word}", DEFAULT)
        assert bad is not None and (bad.kind, bad.rule) == (VerdictKind.SORRY, "sorry")
    for proof in ("by\n  stop\n  omega", "by stop", "by\n  · stop", "by\n  simp <;> stop"):
        bad = screen(f"theorem h : False := {proof}", DEFAULT)
        assert bad is not None and (bad.kind, bad.rule) == (VerdictKind.SORRY, "sorry"), proof
    bad = screen("theorem h : False := sorry\naxiom a : False", DEFAULT)
    assert bad is not None and (bad.kind, bad.rule) == (VerdictKind.REJECTED, "axiom")


@pytest.mark.parametrize(
    "option, rule",
    [
        ("debug.skipKernelTC true", "debug_option"),
        ("autoImplicit true", "auto_implicit"),
        ("relaxedAutoImplicit false", "auto_implicit"),
        ('trace.profiler.output "/tmp/x"', "option_value"),
    ],
)
def test_set_option_rules(option, rule):
    bad = screen(f"set_option {option} in\ntheorem h : True := trivial", DEFAULT)
    assert bad is not None and bad.rule == rule


def test_max_heartbeats_and_rec_depth_take_any_value():
    # issue 12: the check's wall clock bounds them; the sandbox and the statement comparison
    # stop what a cap was meant to
    for option in ("maxHeartbeats 0", "maxHeartbeats 10000000", "«maxHeartbeats» 0",
                   "maxRecDepth 100000000", "maxRecDepth 0"):  # fmt: skip
        for form in (f"set_option {option} in\ntheorem h : True := trivial",
                     f"theorem h : True := by\n  set_option {option} in\n  trivial"):  # fmt: skip
            assert screen(form, DEFAULT) is None, form


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
    assert screen("@[csimp] theorem h : True := trivial", DEFAULT).rule == "attribute"
    assert screen("@[implemented_by f] def g : Nat := 0", DEFAULT).rule == "implemented_by"
    assert screen('attribute [extern "f"] g', DEFAULT).rule == "extern"
    assert screen("attribute [aesop safe] h", DEFAULT).rule == "attribute"
    assert screen("attribute [default_instance] h", DEFAULT).rule == "attribute"
    assert screen("attribute [norm_num Nat.add _ _] h", DEFAULT).rule == "attribute"
    # issue 12: instances and these attributes only change what a statement means, which the
    # statement comparison judges; their arguments are screened like any text
    for honest in (
        "@[instance] def i : Inhabited Nat := ⟨0⟩",
        "@[instance 100] def i : Inhabited Nat := ⟨0⟩",
        "instance : Fact (Nat.Prime 7) := ⟨by norm_num⟩",
        "instance (n : Nat) : Decidable (n = n) := isTrue rfl",
        "attribute [local instance] Classical.propDecidable",
        "attribute [instance] foo",
        "attribute [local simp] foo bar",
        "attribute [-simp] foo",
        "@[simps] def p : Nat × Nat := (1, 2)",
        "@[simps (config := .asFn)] def p : Nat × Nat := (1, 2)",
        "@[elab_as_elim] theorem h {P : Nat → Prop} (n : Nat) (h : P 0) : P n := sorry_free",
        "@[local simp] theorem h : True := trivial",
        "structure S where\n  x : Nat\nderiving instance Inhabited for S",
    ):
        assert screen(honest, DEFAULT) is None, honest
    bad = screen("@[simps (config := Lean.Meta.foo)] def p : Nat := 1", DEFAULT)
    assert bad.rule == "meta_code"  # an attribute's arguments are screened


def test_invisible_unicode_in_code_and_strings_bidi_controls_anywhere():
    for ch in ("\u200b", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u3164", "\u00a0"):
        for text in (
            f"theorem h : True := by\n  tri{ch}vial",
            f'theorem h : True := by\n  have := "{ch}"',
        ):
            bad = screen(text, DEFAULT)
            assert bad is not None and bad.rule == "invisible_unicode" and bad.line == 2, repr(ch)
    # in comments only what reorders or breaks the displayed text counts
    for ch in ("\u202e", "\u2066", "\u200f", "\u2028"):
        for comment in (f"-- a comment {ch} here", f"/- a comment {ch} -/", f"/-- doc {ch} -/"):
            bad = screen(f"theorem h : True := by\n  {comment}\n  trivial", DEFAULT)
            assert bad is not None and bad.rule == "invisible_unicode" and bad.line == 2, repr(ch)
    # issue 12: emoji (variation selectors, joiners), full-width and no-break spaces in comments
    for ch in ("✔\ufe0f", "👨\u200d👩", "\u3000", "\u00a0", "\u2009", "\u200b", "\u00ad"):
        for comment in (f"-- a comment {ch} here", f"/- a comment {ch} -/", f"/-- doc {ch} -/"):
            assert screen(f"theorem h : True := by\n  {comment}\n  trivial", DEFAULT) is None
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


# issue 12, point 3: meta-level code, each under its rule's name
@pytest.mark.parametrize(
    "text, rule",
    [
        ("def t : Lean.Elab.Tactic.TacticM Unit := pure ()", "meta_code"),
        ("open Lean Meta in\ndef t := whnf", "meta_code"),
        ("def t : MetaM Unit := pure ()", "meta_code"),
        ("def t : CoreM Unit := pure ()", "meta_code"),
        ("def t : TermElabM Unit := pure ()", "meta_code"),
        ("def t : CommandElabM Unit := pure ()", "meta_code"),
        ("def t := Lean.Meta.whnf", "meta_code"),
        ('def t (n : Nat) : Nat := trace[debug] "x"; n', "meta_code"),
        ('def t : IO Unit := IO.println "x"', "io"),
        ("def t : EIO String Unit := pure ()", "io"),
        ("def t : BaseIO Unit := pure ()", "io"),
        ('def t := IO.FS.writeFile "/tmp/x" "y"', "io"),
        ('def t := IO.Process.run { cmd := "sh" }', "io"),
        ('def t : System.FilePath := "/etc/passwd"', "io"),
        ("def t := unsafeIO (pure 1)", "io"),
        ("def t := unsafeBaseIO (pure 1)", "io"),
        ('def t (n : Nat) : Nat := dbgTrace "x" fun _ => n', "io"),
        ('def t (n : Nat) : Nat := dbg_trace "x"; n', "io"),
        ('def t : String := include_str "../../.bashrc"', "include_str"),
        (
            "theorem h : True := by\n  linarith (config := { discharger := t })",
            "tactic_config_code",
        ),
        ("theorem h : True := by\n  linarith (discharger := t)", "tactic_config_code"),
        (
            "theorem h : True := by\n  nlinarith (config := { preprocessors := [] })",
            "tactic_config_code",
        ),
        (
            "theorem h : True := by\n  linarith (config := { cfg with oracle := o })",
            "tactic_config_code",
        ),
        ("def cfg : Foo := { exfalso := false, discharger := t }", "tactic_config_code"),
        ("theorem h : True := by\n  aesop (add safe tactic t)", "aesop_tactic_rule"),
        (
            "theorem h : True := by\n  aesop (add unsafe 50% tactic t, safe apply foo)",
            "aesop_tactic_rule",
        ),
        ("#widget foo", "widget"),
        ("#html foo", "widget"),
        ("theorem h : True := by\n  with_panel_widgets [foo]\n  trivial", "widget"),
        ("show_panel_widgets [foo]", "widget"),
        ("def w := ProofWidgets.Html.text", "widget"),
    ],
)
def test_meta_level_code_is_refused_by_rule(text, rule):
    found = [r.rule for r in screen_all(text, DEFAULT)]
    assert rule in found, found
    assert screen(text, DEFAULT).rule == rule


def test_tactic_syntax_dischargers_and_aesop_rules_without_code_pass():
    for honest in (
        "theorem h : True := by\n  simp_all (discharger := omega)",
        "theorem h : True := by\n  simp (disch := positivity) [foo]",
        "theorem h : True := by\n  simp (config := {}) (discharger := norm_num) only [foo]",
        "theorem h : True := by\n  simp +arith (discharger := omega)",
        "theorem h : True := by\n  field_simp (discharger := positivity)",
        "theorem h : True := by\n  aesop (add safe apply foo, unsafe 50% cases bar)",
        "theorem h (oracle : 1 = 1) : True := by\n  have oracle := oracle\n  trivial",
    ):
        assert screen(honest, DEFAULT) is None, honest


def test_hypotheses_named_like_tactics_and_commands_pass():
    # issue 12, point 4: `hint`, `stop`, `include`, `native` as names are not the tactics
    honest = (
        "theorem h (a b : Nat) (hint : a = 2) (stop : b = 3) (native : 0 < a) (include : 0 < b) :\n"
        "    a + b = 5 := by\n"
        "  have h₁ := native\n"
        "  obtain ⟨x, hx⟩ : ∃ x, x = a := ⟨a, rfl⟩\n"
        "  rw [hint, stop]\n"
        "  exact absurd include (by omega)\n"
        "  nlinarith [hint,\n    stop]\n"
        "  exact stop.symm ▸ hint.trans stop.1\n"
    )
    assert screen(honest, DEFAULT) is None
    assert screen("theorem h : True := by\n  hint", DEFAULT).rule == "search_tactic"
    assert (
        screen("theorem h : True := by\n  first | hint | trivial", DEFAULT).rule == "search_tactic"
    )
    assert screen("variable (x : Nat)\ninclude x\ntheorem h : True := trivial", DEFAULT).rule == (
        "variable"
    )
    assert screen("include x\ntheorem h : True := trivial", DEFAULT).rule == "variable"
    assert screen("omit x in\ntheorem h : True := trivial", DEFAULT).rule == "variable"
    for native in ("by decide +native", "by decide (config := { native := true })"):
        assert screen(f"theorem h : 1 = 1 := {native}", DEFAULT).rule == "native_decide"


def test_plain_strings_may_hold_braces_interpolation_may_not():
    assert screen('def s : String := "{x} and {y}"\ntheorem h : True := trivial', DEFAULT) is None
    for prefix in ("s!", "m!", "f!"):
        bad = screen(f'def s := {prefix}"{{x}}"\ntheorem h : True := trivial', DEFAULT)
        assert bad.rule == "interpolated_string", prefix


def test_scope_blocks_must_close_before_the_statement():
    ok = (
        "universe u\n"
        "namespace A\ntheorem x : True := trivial\nend A\n"
        "namespace B.C\ntheorem y : True := trivial\nend B.C\n"
        "section\ntheorem z : True := trivial\nend\n"
        "section S\ntheorem w : True := trivial\nend S\n"
        "mutual\ndef f : Nat → Nat\n  | 0 => 0\n  | n + 1 => g n\n"
        "def g : Nat → Nat\n  | 0 => 0\n  | n + 1 => f n\nend\n"
        "noncomputable section\n"  # an open section changes no name
    )
    assert screen(ok, DEFAULT) is None
    refused = {
        "namespace A\ntheorem x : True := trivial\n": "namespace A (not closed before the statement)",
        "mutual\ntheorem x : True := trivial\n": "mutual (not closed before the statement)",
        "theorem x : True := trivial\nend\n": "end (closes nothing)",
        "namespace A\nend B\n": "end B (closes namespace A)",
    }
    for text, shown in refused.items():
        assert ("scope", shown) in [(r.rule, r.text) for r in screen_all(text, DEFAULT)], text
    # after the statement (the proof, the answer) no scope command belongs
    bad = screen_all(Candidate(proof="by\n  trivial\nend"), DEFAULT)
    assert [(r.part, r.rule) for r in bad] == [("proof", "scope")]
    assert screen("export Nat (succ)", DEFAULT).rule == "scope"


def test_notation_only_with_tokens_that_cannot_change_how_text_reads():
    for honest in (
        'local notation:50 (priority := high) a:51 " ≤ " b:51 => b < a',
        'notation a " ⊕⊕ " b => a + b',
        'infixl:65 " +++ " => Nat.add',
        'local infix:50 " ≺ " => fun (a b : Nat) => a < b',
        'prefix:max "√√" => Real.sqrt',
    ):
        assert screen(honest + "\ntheorem h : True := trivial", DEFAULT) is None, honest
    for bad_text in (
        'notation "five" => 5',  # a keyword: `five` no longer reads as an identifier
        'notation "⊢\\"" x => x',  # swallows a quote: a string a reader sees is code to Lean
        'infixl:65 " +\' " => Nat.add',  # `'` starts a character literal
        'notation "/-" => 0',
        'notation x " #eval " y => x',
        'notation "x2" => 2',
        'prefix:max "«" => id',
        "notation => 0",  # no token at all
        'notation3 "∑\' " => 0',
    ):
        bad = screen(bad_text + "\ntheorem h : True := trivial", DEFAULT)
        assert bad is not None and bad.rule in ("elab_code", "unterminated_string"), bad_text


def test_a_files_header_options_of_a_known_header_are_excepted():
    from harness.soundness.screen import screen_header
    from harness.soundness.splice import STANDARD_HEADER

    deepseek = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen Real\n"
    assert screen_header(deepseek, STANDARD_HEADER, DEFAULT) is None
    known = "import Mathlib\n\nset_option autoImplicit false\n"
    assert screen_header("import Mathlib\nset_option autoImplicit false\n", known, DEFAULT) is None
    smuggled = "import Mathlib\nimport Aesop\n\nset_option debug.skipKernelTC true\nopen Real\n"
    bad = screen_header(smuggled, STANDARD_HEADER, DEFAULT)
    assert (bad.rule, bad.part, bad.line, bad.col) == ("debug_option", "header", 4, 0)
    assert screen_header("import Mathlib\nset_option autoImplicit true\n", known, DEFAULT).rule == (
        "auto_implicit"
    )
    bad = screen_header("import Mathlib\nopen private Foo.bar\n", STANDARD_HEADER, DEFAULT)
    assert bad.rule == "open_private"
    bad = screen_header('import Mathlib\nset_option trace.profiler.output "/tmp/x"\n', "", DEFAULT)
    assert bad.rule == "option_value"
