"""The static screen: everything the model wrote, read as Lean tokens, before Lean sees it.

`screen(candidate_or_text, config.soundness) -> Rejection | None`. A `Rejection` names the rule
that fired, the offending text and where (line/column in the part of the answer it came from).
`sorry`, `admit`, `stop` and `sorryAx` give the verdict `sorry`; every other rule `rejected`.

This is the first layer, not the proof of soundness: the axiom audit and the statement-fidelity
check (audit.py) decide `proved`, and Lean itself runs sandboxed. The screen's jobs are (1) that
no model text runs code of its own on the user's machine at elaboration time (`#eval`,
`run_tac`, `macro`, `initialize`, meta-level code: `TacticM` values, `IO` actions,
`include_str`, code in tactic configurations, Aesop `tactic` rules, ...), which no later check
can undo, and (2) to refuse early, with a clear rule name, what the audit would also refuse,
plus what only a replaying kernel would catch (`debug.skipKernelTC`, environment hacks).
What only changes what the statement means (a model's instance, a local notation, `attribute
[local instance]`, a `namespace` block) is left to the statement comparison, which elaborates
the suite's statement before any model text.

It works on the tokens of harness/lean_text.py, which follows Lean's own tokenizer: a `sorry`
in a comment, docstring or string does not count, and a comment cannot hide a command. Text
where Lean's reading and a reader's could differ (an unterminated comment or string, `/-/`, a
literal glued to the token before it, a digit glued to a letter, an unknown `#word`, a control
character) is refused under the lexical rule's name: honest proofs never contain it, and after
a parse error Lean resumes at a place no reader can predict. Invisible Unicode is refused in
code and strings; bidirectional controls and line separators anywhere, comments included (they
can make the code a reviewer reads differ from the code Lean reads).
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from harness.config import SoundnessConfig
from harness.lean_text import (
    COMMAND_KEYWORDS,
    COMMENT,
    DOC,
    HASH,
    IDENT,
    LEX_RULES,
    NAME,
    STRING,
    SYMBOL,
    Token,
    ident_parts,
    is_id_rest,
    lex_problems,
    parse_header,
    tokenize,
)
from harness.soundness.splice import filter_preamble
from harness.types import Candidate, VerdictKind

__all__ = ["Rejection", "screen", "screen_all", "screen_header", "uses_native", "RULES"]


@dataclass(frozen=True)
class Rejection:
    """Why the screen refused an answer."""

    kind: VerdictKind  # SORRY or REJECTED
    rule: str  # a name from RULES
    text: str  # the offending token(s)
    line: int  # 1-based, in `part`
    col: int  # 0-based
    part: str = "text"  # "preamble" (kept lines) | "answer preamble" | "aux" | "proof" | "answer" | "header" | "text"

    def describe(self) -> str:
        return f"{self.rule}: `{self.text}` at {self.part} {self.line}:{self.col}"


# rule name -> what it refuses (docs/soundness.md lists the same)
RULES: dict[str, str] = {
    "sorry": "sorry, admit, stop (as a tactic), sorryAx: an incomplete proof",
    "invisible_unicode": "zero-width, bidirectional-control or other invisible characters",
    "reserved_name": "identifiers starting with __harness (the harness's own names)",
    "axiom": "a new axiom",
    "opaque": "an opaque constant (can wrap an axiom; its value is not unfolded)",
    "implemented_by": "@[implemented_by]: compiled code that differs from the kernel's",
    "extern": "@[extern]: compiled code the kernel never sees",
    "unsafe": "unsafe declarations and unsafe primitives (unsafeCast, ptrAddrUnsafe, ...)",
    "partial": "partial definitions (opaque to the kernel)",
    "import": "an import the header does not already provide",
    "prelude": "prelude: a file that does not import Init",
    "exit": "#exit: stops Lean before the harness's checks",
    "guard_msgs": "#guard_msgs: can hide error messages",
    "hash_command": "#-commands (#check, #print, #reduce, ...) in an answer",
    "scope": "export, a bare `open` after the first declaration, an `end` that closes nothing, a namespace or `mutual` left open before the statement, scope commands in the proof",
    "open_private": "open private: reaches private declarations (environment hacks)",
    "debug_option": "set_option debug.* (e.g. debug.skipKernelTC skips the kernel)",
    "auto_implicit": "set_option autoImplicit / relaxedAutoImplicit",
    "option_value": "a set_option with a string value (e.g. trace.profiler.output writes a file)",
    "elab_code": "code run at elaboration time: #eval, eval%, run_cmd, run_tac, elab, macro, syntax, notation3, initialize, simproc, plausible, name literals, notation whose tokens could change how later text reads, ...",
    "interpolated_string": "interpolated strings (s!, m!, f!): code inside a string",
    "meta_api": "Lean's environment/metaprogramming API (addDecl, modifyEnv, ...)",
    "meta_code": "meta-level code: Lean.Elab, Lean.Meta, TacticM, MetaM, CoreM, TermElabM, CommandElabM, MacroM, trace[...]",
    "io": "input/output: IO, EIO, BaseIO, IO.FS, IO.Process, System.FilePath, unsafeIO/unsafeBaseIO, dbgTrace",
    "include_str": "include_str: reads a file of the host into the environment at elaboration time",
    "tactic_config_code": "tactic-configuration fields that take code (linarith's discharger, preprocessors, oracle)",
    "aesop_tactic_rule": "Aesop `tactic` rules ((add safe tactic t)): run a tactic value as code",
    "widget": "widget commands (#widget, #html, show_panel_widgets, ProofWidgets)",
    "unif_hint": "unif_hint: teaches the unifier equations every later term elaborates with",
    "variable": "variable/include/omit: can add hypotheses to the statement",
    "attribute": "attributes other than an allowlist (simp, instance, simps, elab_as_elim, reducible, ...)",
    "search_tactic": "apply?, exact?, rw?, try?, hint, library_search, rw_search: can close goals without a sorry warning",
    "network_tactic": "polyrith: calls an external web service",
    "native_decide": "native_decide, decide +native, ofReduceBool, bv_decide: trusts the compiler (soundness.allow_native_decide)",
    **LEX_RULES,
}

# token text -> rule, for tokens that are refused wherever they stand
_SORRY = {"sorry", "admit"}
_KEYWORD_RULES: dict[str, str] = {
    "axiom": "axiom",
    "opaque": "opaque",
    "implemented_by": "implemented_by",
    "extern": "extern",
    "unsafe": "unsafe",
    "partial": "partial",
    "import": "import",
    "prelude": "prelude",
    "export": "scope",
    "unif_hint": "unif_hint",
    "variable": "variable",
    "run_cmd": "elab_code",
    "run_tac": "elab_code",
    "run_elab": "elab_code",
    "run_meta": "elab_code",
    "by_elab": "elab_code",
    "elab": "elab_code",
    "elab_rules": "elab_code",
    "macro": "elab_code",
    "macro_rules": "elab_code",
    "syntax": "elab_code",
    "declare_syntax_cat": "elab_code",
    "notation3": "elab_code",
    "binder_predicate": "elab_code",
    "initialize": "elab_code",
    "builtin_initialize": "elab_code",
    "simproc": "elab_code",
    "dsimproc": "elab_code",
    "simproc_decl": "elab_code",
    "dsimproc_decl": "elab_code",
    "builtin_simproc": "elab_code",
    "register_simp_attr": "elab_code",
    "register_option": "elab_code",
    "register_label_attr": "elab_code",
    "declare_simp_like_tactic": "elab_code",
    "declare_config_elab": "elab_code",
    # tactics that evaluate compiled code of the model's own definitions at elaboration time
    # (Plausible's `Testable` instances run through `evalExpr`)
    "plausible": "elab_code",
    "slim_check": "elab_code",
    "include_str": "include_str",
    "dbg_trace": "io",
    "show_panel_widgets": "widget",
    "with_panel_widgets": "widget",
    "apply?": "search_tactic",
    "exact?": "search_tactic",
    "rw?": "search_tactic",
    "library_search": "search_tactic",
    "rw_search": "search_tactic",
    "try?": "search_tactic",
    "polyrith": "network_tactic",
    "native_decide": "native_decide",
    "bv_decide": "native_decide",
}
# words that are a tactic only in tactic position; elsewhere an honest hypothesis name
_TACTIC_WORDS = {"stop": "sorry", "hint": "search_tactic"}
# words that are a command only first on their line and followed by names (`include h`)
_COMMAND_WORDS = {"include": "variable", "omit": "variable"}
# notation commands: allowed when their tokens cannot change how later text is read
_NOTATION = {"notation", "infix", "infixl", "infixr", "prefix", "postfix"}
# identifier components refused anywhere in a name (`Lean.ofReduceBool`, `h.addDecl`)
_COMPONENT_RULES: dict[str, str] = {
    "sorryAx": "sorry",
    "ofReduceBool": "native_decide",
    "reduceBool": "native_decide",
    "trustCompiler": "native_decide",
    # `Lean.reduceNat e` makes the kernel (and `whnf`) evaluate e's compiled code, like
    # `reduceBool`; its axiom `Lean.ofReduceNat` would fail the audit, but only after the code ran
    "reduceNat": "native_decide",
    "ofReduceNat": "native_decide",
    "unsafeCast": "unsafe",
    "ptrAddrUnsafe": "unsafe",
    "addDecl": "meta_api",
    "addDeclCore": "meta_api",
    "addAndCompile": "meta_api",
    "modifyEnv": "meta_api",
    "setEnv": "meta_api",
    "evalExpr": "meta_api",
    "evalConst": "meta_api",
    "Environment": "meta_api",
    "throwError": "meta_api",
    "logInfo": "meta_api",
    # meta-level code: the elaborator's monads and namespaces (`Lean.Elab.Tactic`, `open Lean
    # Meta in`); a value of these types is code that runs when a tactic or config uses it
    "Elab": "meta_code",
    "Meta": "meta_code",
    "TacticM": "meta_code",
    "MetaM": "meta_code",
    "CoreM": "meta_code",
    "TermElabM": "meta_code",
    "CommandElabM": "meta_code",
    "MacroM": "meta_code",
    "SimpM": "meta_code",
    "DelabM": "meta_code",
    "TSyntax": "meta_code",
    # input/output: an `IO` action applied to the world token runs on the host
    "IO": "io",
    "EIO": "io",
    "BaseIO": "io",
    "FilePath": "io",
    "unsafeIO": "io",
    "unsafeBaseIO": "io",
    "unsafeEIO": "io",
    "dbgTrace": "io",
    "dbgTraceIfShared": "io",
    "dbgTraceVal": "io",
    "dbgSleep": "io",
    "dbgStackTrace": "io",
    "ProofWidgets": "widget",
    "Widget": "widget",
}
# first components refused (`System.FilePath`, `System.IO`)
_ROOT_RULES = {"System": "io"}
# configuration fields whose value is code (Mathlib's `Linarith.LinarithConfig`)
_CODE_FIELDS = {"discharger", "preprocessors", "oracle"}
# tactics whose `(discharger := tac)` / `(disch := tac)` is tactic syntax (Lean core's
# `discharger` parser), screened as tactics, not a config value
_DISCHARGER_SYNTAX = {
    *("simp", "simp?", "simp!", "simp?!", "simp_all", "simp_all?", "simp_all!", "simp_all?!"),
    *("dsimp", "dsimp?", "dsimp!", "dsimp?!", "simpa", "simpa?", "simpa!", "simpa?!"),
    *("simp_arith", "simp_arith!", "simp_all_arith", "simp_all_arith!", "field_simp"),
    *("fun_prop", "norm_num", "norm_num1"),
}
_HASH_RULES = {"#widget": "widget", "#html": "widget"}
_NATIVE_RULE = "native_decide"
# attributes a declaration may carry (`@[...]`, `attribute [...]`): none runs model code
_ALLOWED_ATTRIBUTES = {
    "simp",
    "simps",
    "simps!",
    "instance",
    "elab_as_elim",
    "reducible",
    "irreducible",
    "semireducible",
    "inline",
    "noinline",
    "specialize",
    "norm_cast",
    "push_cast",
    "ext",
    "congr",
    "gcongr",
    "mono",
    "field_simps",
    "nolint",
    "symm",
    "refl",
    "trans",
}
_ATTRIBUTE_SCOPES = {"local", "scoped"}
_OPEN_TAIL = {"hiding", "renaming", "(", ")", "→", "=>"}
# scope commands: opened and closed by `end`, balanced within the preamble and aux
_OPENERS = {"namespace", "section", "mutual"}
_SCOPE_WORDS = _OPENERS | {"end", "universe"}
# a tactic word in tactic position: after one of these, or first on its line
_TACTIC_LEADERS = {
    *("by", ";", "<;>", "·", ".", "=>", "(", "{", "|", "try", "repeat", "first", "focus"),
    *("all_goals", "any_goals", "iterate", "on_goal", "classical", "case", "next"),
}
# after a name rather than a tactic: `(stop : P)`, `[h, stop]`, `⟨stop⟩`
_NAME_FOLLOWERS = {":", ",", ")", "]", "⟩", "}", ":=", "=", "⦄"}
# characters a notation's tokens may use: symbols that start no comment, string, character,
# name literal, number or identifier, so a new token cannot change how later text reads
_NOTATION_ASCII = set("+*<>=^&|~%$")
_NOTATION_NOT = set("«»⟨⟩⦃⦄⟦⟧")

# Characters that render as nothing or reorder text: category Cf (format: zero-width space and
# joiners, bidi embeddings/overrides/isolates, BOM, soft hyphen, tags, ...) plus the invisible
# letters and fillers that are not Cf.
_INVISIBLE_EXTRA = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x17B4, 0x17B5, 0x2800}
# In comments only these are refused: they reorder the text around them on screen (bidi
# controls) or start a new line there (separators), so code can look commented out or not
_BIDI_AND_BREAKS = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F)}
_BIDI_AND_BREAKS |= set(range(0x2066, 0x206A))


@lru_cache(maxsize=4096)
def _is_invisible(c: str) -> bool:
    o = ord(c)
    if c in "\n\t\r":
        return False
    cat = unicodedata.category(c)
    return (
        cat in ("Cf", "Cc", "Co", "Cs", "Zl", "Zp")
        or o in _INVISIBLE_EXTRA
        or 0xFE00 <= o <= 0xFE0F  # variation selectors
        or 0xE0100 <= o <= 0xE01EF
        or (cat == "Zs" and c != " ")  # no-break and other odd spaces
    )


def _invisible(text: str, part: str, comments: Sequence[Token] = ()) -> Rejection | None:
    """The first invisible character of `text`; inside `comments` only a bidi control or a
    line separator counts (an emoji's variation selector or a full-width space there changes
    nothing Lean reads)."""
    starts = [t.start for t in comments]
    for offset, c in enumerate(text):
        if (" " <= c <= "~") or not _is_invisible(c):  # printable ASCII is visible
            continue
        k = bisect_right(starts, offset) - 1
        in_comment = k >= 0 and offset < comments[k].end
        if in_comment and ord(c) not in _BIDI_AND_BREAKS:
            continue
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1)
        name = unicodedata.name(c, f"U+{ord(c):04X}")
        return Rejection(
            VerdictKind.REJECTED, "invisible_unicode", f"U+{ord(c):04X} {name}", line, col, part
        )
    return None


def _option_findings(toks: list[Token], i: int) -> tuple[str, str] | None:
    """`set_option NAME VALUE` at toks[i]: (rule, text) if refused. `maxHeartbeats` and
    `maxRecDepth` may take any value: the check's wall clock bounds what they allow."""
    if i + 1 >= len(toks) or toks[i + 1].kind != IDENT:
        return None
    # judged by the name Lean resolves: `«debug».skipKernelTC` is the option debug.skipKernelTC
    # (and `«debug.skipKernelTC»`, a one-component name Lean would not know, is refused alike)
    name = ".".join(ident_parts(toks[i + 1].text))
    value = toks[i + 2] if i + 2 < len(toks) else None
    shown = f"set_option {name}" + (f" {value.text}" if value else "")
    if name.startswith("debug.") or name == "debug":
        return "debug_option", shown
    if name in ("autoImplicit", "relaxedAutoImplicit"):
        return "auto_implicit", shown
    if value is not None and value.kind == STRING:
        return "option_value", shown
    return None


def _open_is_scoped(toks: list[Token], i: int) -> bool:
    """`open A B in ...` (fine anywhere) rather than a bare `open A B`."""
    j = i + 1
    while j < len(toks) and (toks[j].kind == IDENT or toks[j].text in _OPEN_TAIL):
        if toks[j].text == "in":
            return True
        if toks[j].text in COMMAND_KEYWORDS:
            return False
        j += 1
    return False


def _glued(a: Token, b: Token) -> bool:
    return a.end == b.start


def _in_tactic_position(toks: list[Token], i: int) -> bool:
    """`stop`/`hint` at toks[i] read as a tactic (first on its line, or after `by`, `;`, `·`,
    ...), not as a hypothesis name (`(stop : P)`, `exact stop`, `[h, stop]`, `h.stop`)."""
    t = toks[i]
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if nxt is not None and nxt.line == t.line:
        if nxt.text in _NAME_FOLLOWERS or (nxt.text == "." and _glued(t, nxt)):
            return False
    if i == 0 or toks[i - 1].line != t.line:
        return True
    prev = toks[i - 1]
    if prev.text == "." and _glued(prev, t):
        return False  # a field: `h.1.stop`
    return prev.text in _TACTIC_LEADERS


def _discharger_is_tactic_syntax(toks: list[Token], i: int) -> bool:
    """`(discharger := tac)` at toks[i] directly in a simp-like tactic's arguments (tactic
    syntax, screened as tactics), not a configuration field holding a code value."""
    if i == 0 or toks[i - 1].text != "(":
        return False
    k = i - 2
    while k >= 0:
        text = toks[k].text
        if text == ")":  # an earlier argument group: `simp (config := ...) (disch := ...)`
            depth = 0
            while k >= 0:
                depth += toks[k].text == ")"
                depth -= toks[k].text == "("
                if depth == 0:
                    break
                k -= 1
            k -= 1
        elif toks[k].kind == IDENT and k > 0 and toks[k - 1].text in ("+", "-"):
            k -= 2  # `simp +arith (disch := omega)`
        else:
            return toks[k].kind == IDENT and text in _DISCHARGER_SYNTAX
    return False


def _in_aesop_add_clause(toks: list[Token], i: int) -> bool:
    """toks[i] inside an Aesop clause `(add ... )`."""
    depth = 0
    for k in range(i - 1, -1, -1):
        text = toks[k].text
        if text in (")", "]", "⟩", "}"):
            depth += 1
        elif text in ("(", "[", "⟨", "{"):
            if depth == 0:
                return k + 1 < i and toks[k + 1].text in ("add", "erase")
            depth -= 1
    return False


def _notation_problem(toks: list[Token], i: int) -> Token | None:
    """A `notation`/`infix` command at toks[i]: None if every token it declares (its string
    literals before `=>`) is made of symbols that cannot start a comment, string, name or
    number or continue an identifier; else the offending token (or the keyword itself)."""
    atoms = []
    for k in range(i + 1, len(toks)):
        t = toks[k]
        if t.text == "=>":
            break
        if t.kind == IDENT and t.text in COMMAND_KEYWORDS:
            return toks[i]  # no `=>`: not a notation command this reader understands
        if t.kind == STRING:
            atoms.append(t)
    else:
        return toks[i]
    if not atoms:
        return toks[i]
    for t in atoms:
        body = t.text[1:-1].strip() if t.text.startswith('"') else ""
        if not body or "\\" in t.text:
            return t
        for c in body:
            if c.isascii():
                if c not in _NOTATION_ASCII:
                    return t
            elif is_id_rest(c) or c in _NOTATION_NOT or _is_invisible(c) or c.isspace():
                return t
    return None


def _attribute_names(toks: list[Token]) -> tuple[dict[int, str | None], set[int]]:
    """Attribute names in `@[...]` and `attribute [...]`: index -> rule (None: allowed), and the
    indices of the `attribute` keywords whose brackets were read."""
    names: dict[int, str | None] = {}
    commands: set[int] = set()
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.text == "@[":
            start = i + 1
        elif t.kind == IDENT and t.text == "attribute" and i + 1 < len(toks):
            if toks[i + 1].text != "[":
                i += 1
                continue
            commands.add(i)
            start = i + 2
        else:
            i += 1
            continue
        depth = 0
        expect_name = True
        k = start
        while k < len(toks):
            u = toks[k]
            if u.text in ("[", "(", "{", "⟨", "@["):
                depth += 1
            elif u.text in (")", "}", "⟩"):
                depth -= 1
            elif u.text == "]":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and u.text == ",":
                expect_name = True
            elif depth == 0 and expect_name and u.kind == IDENT:
                if u.text in _ATTRIBUTE_SCOPES:
                    k += 1
                    continue
                expect_name = False
                rule = _KEYWORD_RULES.get(u.text)
                if u.text in _ALLOWED_ATTRIBUTES:
                    names[k] = None
                elif rule in ("implemented_by", "extern"):
                    names[k] = rule
                else:
                    names[k] = "attribute"
            k += 1
        i = k + 1
    return names, commands


def _scope_findings(toks: list[Token], part: str, balance: bool) -> list[Rejection]:
    """`namespace`/`section`/`mutual` ... `end`: balanced in the preamble and aux (`balance`),
    so the suite's statement is declared where it would be at the top of the file; refused in
    the proof and the answer (they would come after the statement)."""
    found: list[Rejection] = []

    def refuse(tok: Token, shown: str) -> None:
        found.append(Rejection(VerdictKind.REJECTED, "scope", shown, tok.line, tok.col, part))

    stack: list[tuple[str, str, Token]] = []  # (kind, name, opener)
    for i, t in enumerate(toks):
        if t.kind != IDENT or t.text not in _SCOPE_WORDS:
            continue
        if not balance:
            refuse(t, t.text)
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        name = nxt.text if nxt is not None and nxt.kind == IDENT and nxt.line == t.line else ""
        if t.text == "universe":
            continue
        if t.text in _OPENERS:
            stack.append((t.text, "" if t.text == "mutual" else name, t))
            continue
        # `end` closes the innermost scope, named as it was opened (`end A.B` closes `A.B`)
        if not stack:
            refuse(t, "end (closes nothing)")
        elif stack[-1][1] != name:
            refuse(t, f"end {name}".rstrip() + f" (closes {stack[-1][0]} {stack[-1][1]})".rstrip())
        else:
            stack.pop()
    for kind, name, opener in stack:
        if kind != "section":  # an open section changes no name; a namespace would
            refuse(opener, f"{kind} {name}".rstrip() + " (not closed before the statement)")
    return found


@lru_cache(maxsize=65536)  # answers repeat their identifiers (h₀, le_refl, ...)
def _ident_rule(text: str) -> str | None:
    """The rule an identifier breaks by its components (`Lean.ofReduceBool`, `IO.FS.x`)."""
    parts = ident_parts(text)
    if any(p.startswith("__harness") for p in parts):
        return "reserved_name"
    rule = _ROOT_RULES.get(parts[0])
    if rule is None:
        rule = next((r for p in parts if (r := _COMPONENT_RULES.get(p))), None)
    return rule


def _findings(
    text: str,
    config: SoundnessConfig,
    part: str,
    allow_bare_open: bool = False,
    scopes: bool = True,
) -> list[Rejection]:
    """Every finding in `text`. `scopes`: scope commands may stand here if balanced (preamble,
    aux, a file's header); False for the proof and the answer, which follow the statement."""
    found: list[Rejection] = []
    all_toks = tokenize(text)
    comments = [t for t in all_toks if t.kind in (COMMENT, DOC)]
    bad = _invisible(text, part, comments)
    if bad:
        found.append(bad)
    for p in lex_problems(text):
        found.append(Rejection(VerdictKind.REJECTED, p.rule, p.text, p.line, p.col, part))
    # code plus string/char literals (values of `set_option`); comments and docs never count
    toks = [t for t in all_toks if t.kind not in (COMMENT, DOC)]

    def add(rule: str, tok: Token, shown: str | None = None) -> None:
        if rule == _NATIVE_RULE and config.allow_native_decide:
            return
        kind = VerdictKind.SORRY if rule == "sorry" else VerdictKind.REJECTED
        found.append(Rejection(kind, rule, shown or tok.text, tok.line, tok.col, part))

    lexical = len(found)  # invisible and lexical findings first, then the rest by position
    found += _scope_findings(toks, part, balance=scopes)
    attribute_names, attribute_commands = _attribute_names(toks)
    notation_end = -1  # the notation command being read: its string literals are its tokens
    for i, t in enumerate(toks):
        text_ = t.text
        if t.kind == HASH:
            if text_ == "#exit":
                add("exit", t)
            elif text_.startswith("#guard_msgs"):
                add("guard_msgs", t)
            elif text_.startswith("#eval") or text_ in ("#run", "#exec"):
                add("elab_code", t)
            else:
                add(_HASH_RULES.get(text_, "hash_command"), t)
            continue
        if t.kind == NAME:
            add("elab_code", t, "`" + text_)
            continue
        if i in attribute_names:
            rule = attribute_names[i]
            if rule is not None:
                add(rule, t, f"@[{text_}]" if rule == "attribute" else None)
            continue
        if t.kind == SYMBOL:
            if text_ == "+" and i + 1 < len(toks) and toks[i + 1].text == "native":
                add(_NATIVE_RULE, t, "+native")
            continue
        if t.kind == IDENT and text_ == "eval" and i + 1 < len(toks) and toks[i + 1].text == "%":
            # Mathlib's `eval% e` evaluates e's compiled code while elaborating
            add("elab_code", t, "eval%")
            continue
        if t.kind != IDENT:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt.kind == STRING and text_.endswith("!"):
            add("interpolated_string", t, f'{text_}"..."')
        if text_ in _SORRY:
            add("sorry", t)
            continue
        if text_ in _TACTIC_WORDS:
            if _in_tactic_position(toks, i):
                add(_TACTIC_WORDS[text_], t)
            continue
        if text_ in _COMMAND_WORDS:
            first = i == 0 or toks[i - 1].line != t.line
            if first and nxt is not None and nxt.kind == IDENT and nxt.line == t.line:
                add(_COMMAND_WORDS[text_], t)
            continue
        if text_ == "native":
            if nxt is not None and nxt.text == ":=":  # `(config := {native := true})`
                add(_NATIVE_RULE, t, "native := ...")
            continue
        if text_ in _SCOPE_WORDS:
            continue  # judged by _scope_findings
        if text_ == "attribute":
            if i not in attribute_commands:
                add("attribute", t)
            continue
        if text_ in _NOTATION and i > notation_end:
            bad_tok = _notation_problem(toks, i)
            if bad_tok is not None:
                add("elab_code", bad_tok, f"{text_} {bad_tok.text}" if bad_tok is not t else None)
            notation_end = next(
                (k for k in range(i + 1, len(toks)) if toks[k].text == "=>"), len(toks)
            )
            continue
        if text_ == "trace" and nxt is not None and nxt.text == "[" and _glued(t, nxt):
            add("meta_code", t, "trace[")
            continue
        if text_ in _CODE_FIELDS and nxt is not None and nxt.text == ":=":
            prev = toks[i - 1].text if i else ""
            if prev in ("(", "{", ",", "with") and not (
                text_ == "discharger" and _discharger_is_tactic_syntax(toks, i)
            ):
                add("tactic_config_code", t, f"{text_} := ...")
                continue
        if text_ == "tactic" and _in_aesop_add_clause(toks, i):
            add("aesop_tactic_rule", t, "(add ... tactic ...)")
            continue
        if text_ == "set_option":
            hit = _option_findings(toks, i)
            if hit:
                add(hit[0], t, hit[1])
            continue
        if text_ == "open":
            if nxt is not None and nxt.text == "private":
                add("open_private", t, "open private")
            elif not allow_bare_open and not _open_is_scoped(toks, i):
                add("scope", t, "open (without `in`)")
            continue
        if text_ in ("local", "scoped"):
            continue  # a modifier: what it modifies is judged on its own
        if text_ == "unsafe" and _in_aesop_add_clause(toks, i):
            continue  # Aesop's phase: `(add unsafe 50% apply foo)`
        rule = _KEYWORD_RULES.get(text_)
        if rule:
            add(rule, t)
            continue
        rule = _ident_rule(text_)
        if rule:
            add(rule, t)
    found[lexical:] = sorted(found[lexical:], key=lambda r: (r.line, r.col))
    return found


def _choose(found: list[Rejection]) -> Rejection | None:
    """A refusal other than sorry wins (an answer with `axiom` and `sorry` is a cheat, not a gap)."""
    for r in found:
        if r.kind == VerdictKind.REJECTED:
            return r
    return found[0] if found else None


def screen_all(
    candidate_or_text: Candidate | str, config: SoundnessConfig, *, header: str | None = None
) -> list[Rejection]:
    """Every finding, in part order (preamble, aux, proof, answer) then source order."""
    if isinstance(candidate_or_text, str):
        return _findings(candidate_or_text, config, "text")
    cand = candidate_or_text
    found: list[Rejection] = []
    pre = filter_preamble(cand.preamble, header)
    refused = pre.refused_import
    if refused is not None:
        found.append(
            Rejection(
                VerdictKind.REJECTED,
                "import",
                f"import {refused.module}",
                refused.line,
                refused.col,
                "answer preamble",
            )
        )
    # the preamble's own opens and options come before any declaration: a bare `open` is fine
    # (it holds only `set_option`/`open` commands: extraction ends it at any other command)
    found += _findings(pre.kept, config, "preamble", allow_bare_open=True)
    found += _findings(cand.aux, config, "aux")
    # an invisible character in a dropped line is still refused
    dropped = "\n".join(pre.dropped)
    bad = _invisible(dropped, "preamble")
    if bad:
        found.append(bad)
    found += _findings(cand.proof, config, "proof", scopes=False)
    if cand.answer_fill is not None:
        found += _findings(cand.answer_fill, config, "answer", scopes=False)
    return found


def screen(
    candidate_or_text: Candidate | str,
    config: SoundnessConfig,
    *,
    header: str | None = None,
    holes: bool = False,
) -> Rejection | None:
    """The first refusal (any `rejected` rule before a `sorry`), or None if the text may go to Lean.

    `header` is the suite's header: the answer's preamble lines it already provides are dropped
    (see splice.filter_preamble); without it, the standard miniF2F header is assumed.
    `holes`: the text is a proof sketch; each `sorry` token in its proof is a hole to fill, not
    a refusal (`admit`, `stop`, `sorryAx` and a `sorry` anywhere else still are). Every other
    rule holds as for any proof.
    """
    found = screen_all(candidate_or_text, config, header=header)
    if holes:
        found = [
            r for r in found if not (r.rule == "sorry" and r.text == "sorry" and r.part == "proof")
        ]
    return _choose(found)


def screen_header(
    header: str, known: str | Sequence[str], config: SoundnessConfig
) -> Rejection | None:
    """The header of a user's Lean file (`harness check FILE`), whose imports the caller found
    to be those of the suite header(s) `known`: its `set_option` commands that one of them
    also has are excepted; everything else after its imports (options, opens, `universe`,
    `noncomputable section`) is screened as a model's preamble. Positions are `header`'s."""
    parsed = parse_header(header)
    rest = parsed.rest
    excepted: set[tuple[str, str]] = set()
    for text in [known] if isinstance(known, str) else known:
        excepted |= {key for _, _, key in _option_spans(parse_header(text).rest)}
    for start, end, key in _option_spans(rest):
        if key in excepted:  # blanked, lines and columns kept
            rest = (
                rest[:start]
                + "".join(c if c == "\n" else " " for c in rest[start:end])
                + rest[end:]
            )
    found = _findings(rest, config, "header", allow_bare_open=True)
    offset = parsed.rest_line - 1
    return _choose(
        [Rejection(r.kind, r.rule, r.text, r.line + offset, r.col, "header") for r in found]
    )


def _option_spans(text: str) -> list[tuple[int, int, tuple[str, str]]]:
    """(start, end, (name, value)) of each `set_option NAME VALUE` in `text`."""
    toks = [t for t in tokenize(text) if t.kind not in (COMMENT, DOC)]
    spans = []
    for i, t in enumerate(toks):
        if t.kind == IDENT and t.text == "set_option" and i + 2 < len(toks):
            name = ".".join(ident_parts(toks[i + 1].text))
            spans.append((t.start, toks[i + 2].end, (name, toks[i + 2].text)))
    return spans


def uses_native(candidate_or_text: Candidate | str) -> bool:
    """Whether the text asks for native evaluation (for marking a verdict `native`)."""
    texts = (
        [candidate_or_text]
        if isinstance(candidate_or_text, str)
        else [candidate_or_text.aux, candidate_or_text.proof, candidate_or_text.answer_fill or ""]
    )
    strict = SoundnessConfig(allow_native_decide=False)
    return any(r.rule == _NATIVE_RULE for text in texts for r in _findings(text, strict, "text"))
