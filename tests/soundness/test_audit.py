"""The axiom audit parser and the statement-fidelity command."""

from __future__ import annotations

from harness.soundness.audit import (
    axioms_command,
    fidelity_command,
    judge_axioms,
    judge_fidelity,
    parse_axioms,
)
from harness.types import CommandResult, LeanMessage


def info(*texts: str) -> CommandResult:
    return CommandResult(messages=tuple(LeanMessage("info", 1, 0, t) for t in texts))


def test_both_output_forms_and_wrapping():
    r = parse_axioms("'foo' depends on axioms: [propext, Classical.choice, Quot.sound]")
    assert (
        r is not None
        and r.name == "foo"
        and r.axioms == ("propext", "Classical.choice", "Quot.sound")
    )
    wrapped = "'foo' depends on axioms:\n  [propext,\n   Classical.choice,\n   Quot.sound]\n"
    assert parse_axioms(wrapped).axioms == ("propext", "Classical.choice", "Quot.sound")
    assert parse_axioms("'foo' does not depend on any axioms").axioms == ()
    # real Lean prints the full name, primes included (lean4 tests, Mathlib-using projects)
    primed = parse_axioms("'Graphiti.run'_refines' depends on axioms: [propext, Quot.sound]")
    assert primed.name == "Graphiti.run'_refines" and primed.axioms == ("propext", "Quot.sound")
    assert parse_axioms("'h'' does not depend on any axioms").name == "h'"
    assert parse_axioms("foo depends on nothing") is None
    assert parse_axioms("'foo' depends on axioms: [a, [b]]") is None


def test_only_the_standard_axioms_by_exact_name():
    ok = judge_axioms(info("'foo' depends on axioms: [propext, Quot.sound]"), "foo", False)
    assert ok.ok and not ok.native
    for bad in ("propext2", "Classical.choice'", "«propext»x", "cheat", "Quot.sound.x"):
        found = judge_axioms(info(f"'foo' depends on axioms: [propext, {bad}]"), "foo", False)
        assert not found.ok and found.rule == "axioms", bad
    spoof = judge_axioms(info("'foo' depends on axioms: [«Quot.sound : a»]"), "foo", False)
    assert not spoof.ok


def test_sorry_and_native_axioms():
    s = judge_axioms(info("'foo' depends on axioms: [propext, sorryAx]"), "foo", True)
    assert not s.ok and s.sorry
    text = "'foo' depends on axioms: [propext, Lean.ofReduceBool, Lean.trustCompiler]"
    assert judge_axioms(info(text), "foo", False).rule == "native_decide"
    assert judge_axioms(info(text), "foo", True).native
    newer = "'foo' depends on axioms: [foo._native.native_decide.ax_1_1]"
    assert judge_axioms(info(newer), "foo", True).ok
    assert not judge_axioms(info(newer), "foo", False).ok


def test_surprises_fail_closed():
    good = "'foo' depends on axioms: [propext]"
    assert not judge_axioms(info(), "foo", False).ok  # no report at all
    assert not judge_axioms(info(good, good), "foo", False).ok  # two reports
    assert not judge_axioms(info(good, "spoof"), "foo", False).ok  # an extra message
    assert not judge_axioms(info("'bar' depends on axioms: [propext]"), "foo", False).ok
    assert judge_axioms(info("'«foo»' depends on axioms: [propext]"), "foo", False).ok
    missing = CommandResult(messages=(LeanMessage("error", 1, 15, "unknown constant 'foo'"),))
    assert judge_axioms(missing, "foo", False).rule == "name_missing"
    assert not judge_axioms(CommandResult(repl_error="Unknown environment."), "foo", False).ok


def test_fidelity_command_and_judgement():
    assert axioms_command("foo.bar") == "#print axioms foo.bar"
    cmd = fidelity_command("foo")
    assert cmd == (
        "theorem __harness_fidelity : type_of% @__harness_ref := by with_reducible exact @foo"
    )
    assert judge_fidelity(CommandResult()).ok
    mismatch = CommandResult(messages=(LeanMessage("error", 1, 0, "The rfl tactic failed"),))
    assert judge_fidelity(mismatch).rule == "statement_changed"
    unknown = CommandResult(messages=(LeanMessage("error", 1, 0, "unknown identifier 'foo'"),))
    assert judge_fidelity(unknown).rule == "name_missing"
