"""The harness's own checks after Lean accepts: builders for the commands, parsers for the replies.

Both audits are issued by the harness as separate commands of the job, in the environment the
model's command left, never appended to the model's text (an appended `#print axioms` can be cut
off by `#exit` or re-scoped by `end`; here it is a command of its own, and its messages come back
in a result of their own that model text cannot write into).

1. **Axioms.** `#print axioms NAME` lists every axiom NAME depends on, transitively, walking
   opaque values too. Lean prints either `'NAME' depends on axioms: [a, b, c]` (the list may be
   wrapped over several lines) or `'NAME' does not depend on any axioms`. Only `propext`,
   `Classical.choice` and `Quot.sound` are accepted, by exact name; with native_decide allowed,
   also the compiler-trust axioms (`Lean.ofReduceBool`, `Lean.trustCompiler`, and the
   per-computation `..._native.native_decide.ax_*` of newer Lean). `sorryAx` means an
   incomplete proof. Anything else, or output that does not parse, is refused.

2. **Statement fidelity.** Before any model text, the job elaborates the suite's statement under
   a reserved name, `theorem __harness_ref <binders> : <type> := sorry` (splice.py's
   `reference_statement`), in the header's environment. After the model's command, the audit

       theorem __harness_fidelity : type_of% @__harness_ref := by with_reducible exact @NAME

   must elaborate without error. `type_of% e` is core Lean 4 syntax (`Lean.Parser.Term.typeOf`,
   elaborated as `inferType e`); `@` keeps every binder explicit, so `type_of% @__harness_ref` is
   the reference's full Pi-type, a proposition. Why this is sound and strict:
   - It is a theorem whose *type is the reference statement*, proved by NAME: the kernel checks
     it, so passing means NAME proves the statement the suite wrote, elaborated before any model
     text ran (model instances, notations, `variable`s or shadowing definitions cannot change
     it; they can only change NAME's type, which then fails here).
   - `with_reducible` makes `exact`'s unification of NAME's type with the reference use reducible
     transparency only: the types must agree up to reducible abbreviations, never merely after
     unfolding ordinary definitions, instances or heavy computation. Being stricter than the
     kernel can only refuse, never accept, a proof of another statement.
   - Universes: a theorem's header is elaborated first and its universe metavariables become
     parameters (`levelMVarToParamHeaders`) before the body is elaborated, so the reference's
     levels are rigid while `@NAME`'s fresh levels may only be instantiated to them. A NAME
     proved only at a smaller universe (`Type` where the suite says `Type u`) fails. (The
     earlier form, `#check (by with_reducible rfl : type_of% @__harness_ref = type_of% @NAME)`,
     let `rfl` unify both sides' level metavariables, which would accept that.)
   - A missing NAME is an error; an ambiguous one (two visible declarations of that name) is an
     "ambiguous, possible interpretations" error: both fail closed. A coercion the model
     declared could bridge a mismatch; the coerced term is still a kernel-checked proof of the
     reference statement, and the confirming process also audits `#print axioms
     __harness_fidelity`, so the coercion's axioms count too.
   It declares `__harness_fidelity` in a throwaway environment (the audit is the last command of
   the job); a model declaration of that name makes the audit fail, i.e. `rejected`. It prints
   nothing when it passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.types import CommandResult

__all__ = [
    "STANDARD_AXIOMS",
    "NATIVE_AXIOMS",
    "AxiomReport",
    "AuditFinding",
    "axioms_command",
    "fidelity_command",
    "compare_command",
    "FIDELITY_NAME",
    "parse_axioms",
    "judge_axioms",
    "judge_fidelity",
]

STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.trustCompiler"})
# Lean >= 4.27 (lean4 PR #12217): one axiom per native computation, named after its declaration
_NATIVE_AUX = re.compile(r"^[^\s,\[\]]+\._native\.native_decide\.ax_\d+(?:_\d+)*$")
SORRY_AXIOM = "sorryAx"

_DEPENDS = re.compile(r"^'(?P<name>.+?)' depends on axioms:\s*\[(?P<axioms>.*)\]\s*$", re.DOTALL)
_NONE = re.compile(r"^'(?P<name>.+?)' does not depend on any axioms\s*$", re.DOTALL)


@dataclass(frozen=True)
class AxiomReport:
    name: str  # the declaration name as Lean printed it
    axioms: tuple[str, ...]


@dataclass(frozen=True)
class AuditFinding:
    """The outcome of one audit: ok, or the rule and what was found."""

    ok: bool
    rule: str | None = None  # "axioms" | "sorry_axiom" | "native_decide" | "audit_output" | ...
    detail: str = ""
    native: bool = False  # passed only because native axioms were allowed
    sorry: bool = False  # the proof depends on sorryAx


def axioms_command(name: str) -> str:
    return f"#print axioms {name}"


FIDELITY_NAME = "__harness_fidelity"


def fidelity_command(name: str, reference: str = "__harness_ref") -> str:
    return f"theorem {FIDELITY_NAME} : type_of% @{reference} := by with_reducible exact @{name}"


def compare_command(reference: str) -> str:
    """Prints the statement's type in full (every implicit argument and instance by name): the
    confirming process prints it where no model text exists and where the model's declarations
    were replayed, and the two must be equal (a model instance or notation that changed what
    the statement means shows here)."""
    return f"set_option pp.all true in\n#check @{reference}"


def _unescape(name: str) -> str:
    return name.replace("«", "").replace("»", "")


def parse_axioms(text: str) -> AxiomReport | None:
    """One `#print axioms` message -> its report, or None when it is not one of the two forms."""
    text = text.strip()
    m = _NONE.match(text)
    if m:
        return AxiomReport(m.group("name"), ())
    m = _DEPENDS.match(text)
    if not m:
        return None
    body = m.group("axioms")
    if "[" in body or "]" in body:
        return None  # a name with brackets in it: refuse rather than guess
    axioms = tuple(a.strip() for a in body.split(",") if a.strip())
    if any(re.search(r"\s", a) for a in axioms):
        return None  # a name broken by whitespace: not something this parser can trust
    return AxiomReport(m.group("name"), axioms)


def _same_name(printed: str, name: str) -> bool:
    return _unescape(printed).removeprefix("_root_.") == _unescape(name).removeprefix("_root_.")


def judge_axioms(result: CommandResult, name: str, allow_native: bool) -> AuditFinding:
    """The `#print axioms NAME` result -> accepted or the reason not (fails closed)."""
    if result.repl_error:
        return AuditFinding(False, "audit_output", f"REPL error: {result.repl_error}")
    if result.errors:
        first = result.errors[0].text.strip().splitlines()[0] if result.errors[0].text else ""
        rule = "name_missing" if "unknown" in first.lower() else "audit_output"
        return AuditFinding(False, rule, f"#print axioms failed: {first}")
    reports = [r for r in (parse_axioms(m.text) for m in result.messages) if r is not None]
    if len(reports) != 1 or len(result.messages) != 1:
        shown = " | ".join(m.text.strip()[:120] for m in result.messages) or "no output"
        return AuditFinding(
            False, "audit_output", f"expected one axiom report, got {len(reports)}: {shown}"
        )
    report = reports[0]
    if not _same_name(report.name, name):
        return AuditFinding(
            False, "audit_output", f"axiom report is for '{report.name}', not {name}"
        )
    native = False
    unknown: list[str] = []
    for ax in report.axioms:
        if ax in STANDARD_AXIOMS:
            continue
        if ax == SORRY_AXIOM:
            return AuditFinding(False, "sorry_axiom", "depends on sorryAx", sorry=True)
        if ax in NATIVE_AXIOMS or _NATIVE_AUX.match(ax):
            native = True
            continue
        unknown.append(ax)
    if unknown:
        return AuditFinding(False, "axioms", "depends on " + ", ".join(unknown))
    if native and not allow_native:
        return AuditFinding(False, "native_decide", "depends on the compiler (native_decide)")
    return AuditFinding(True, native=native)


def judge_fidelity(result: CommandResult) -> AuditFinding:
    """The fidelity audit's result: any error (or REPL error) means the statement differs."""
    if result.repl_error:
        return AuditFinding(False, "audit_output", f"REPL error: {result.repl_error}")
    if result.errors:
        first = result.errors[0].text.strip()
        one = first.splitlines()[0] if first else ""
        rule = "name_missing" if "unknown" in one.lower() else "statement_changed"
        return AuditFinding(False, rule, one)
    if result.sorries or any("sorry" in m.text for m in result.messages):
        return AuditFinding(False, "audit_output", "the fidelity check reported a sorry")
    return AuditFinding(True)
