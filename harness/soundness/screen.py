"""The static screen: everything the model wrote, read as Lean tokens, before Lean sees it.

`screen(candidate_or_text, config.soundness) -> Rejection | None`. A `Rejection` names the rule
that fired, the offending text and where (line/column in the part of the answer it came from).
`sorry`, `admit`, `stop` and `sorryAx` give the verdict `sorry`; every other rule `rejected`.

This is the first layer, not the proof of soundness: the axiom audit and the statement-fidelity
check (audit.py) decide `proved`. The screen's jobs are (1) that no model text runs code on the
user's machine at elaboration time (`#eval`, `run_tac`, `macro`, `initialize`, ...), which no
later check can undo, and (2) to refuse early, with a clear rule name, what the audit would also
refuse, plus what only a replaying kernel would catch (`debug.skipKernelTC`, environment hacks).

It works on the tokens of harness/lean_text.py, which follows Lean's own tokenizer: a `sorry`
in a comment, docstring or string does not count, and a comment cannot hide a command. Text
where Lean's reading and a reader's could differ (an unterminated comment or string, `/-/`, a
literal glued to the token before it, a digit glued to a letter, an unknown `#word`, a control
character) is refused under the lexical rule's name: honest proofs never contain it, and after
a parse error Lean resumes at a place no reader can predict. Invisible and bidirectional
Unicode is refused anywhere in the raw text, comments and strings included (it can make the
code a reviewer reads differ from the code Lean reads).
"""

from __future__ import annotations

import unicodedata
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
    Token,
    ident_parts,
    lex_problems,
    tokenize,
)
from harness.soundness.splice import filter_preamble
from harness.types import Candidate, VerdictKind

__all__ = ["Rejection", "screen", "screen_all", "uses_native", "RULES"]


@dataclass(frozen=True)
class Rejection:
    """Why the screen refused an answer."""

    kind: VerdictKind  # SORRY or REJECTED
    rule: str  # a name from RULES
    text: str  # the offending token(s)
    line: int  # 1-based, in `part`
    col: int  # 0-based
    part: str = (
        "text"  # "preamble" (kept lines) | "answer preamble" | "aux" | "proof" | "answer" | "text"
    )

    def describe(self) -> str:
        return f"{self.rule}: `{self.text}` at {self.part} {self.line}:{self.col}"


# rule name -> what it refuses (docs/soundness.md lists the same)
RULES: dict[str, str] = {
    "sorry": "sorry, admit, stop, sorryAx: an incomplete proof",
    "invisible_unicode": "zero-width, bidirectional-control or other invisible characters",
    "reserved_name": "identifiers starting with __harness (the harness's own names)",
    "axiom": "a new axiom",
    "opaque": "an opaque constant (can wrap an axiom; its value is not unfolded)",
    "implemented_by": "@[implemented_by]: compiled code that differs from the kernel's",
    "extern": "@[extern]: compiled code the kernel never sees",
    "unsafe": "unsafe declarations and unsafe primitives (unsafeCast, unsafeBaseIO, ...)",
    "partial": "partial definitions (opaque to the kernel)",
    "import": "an import the header does not already provide",
    "prelude": "prelude: a file that does not import Init",
    "exit": "#exit: stops Lean before the harness's checks",
    "guard_msgs": "#guard_msgs: can hide error messages",
    "hash_command": "#-commands (#check, #print, #reduce, ...) in an answer",
    "scope": "namespace/section/end/universe/export/local/scoped, or a bare `open` after the first declaration",
    "open_private": "open private: reaches private declarations (environment hacks)",
    "debug_option": "set_option debug.* (e.g. debug.skipKernelTC skips the kernel)",
    "max_heartbeats": "set_option maxHeartbeats beyond soundness.max_heartbeats (0 = unlimited)",
    "max_rec_depth": "set_option maxRecDepth beyond soundness.max_rec_depth",
    "auto_implicit": "set_option autoImplicit / relaxedAutoImplicit",
    "option_value": "a set_option with a string value (e.g. trace.profiler.output writes a file)",
    "elab_code": "code run at elaboration time: #eval, eval%, run_cmd, run_tac, elab, macro, syntax, notation, infix, initialize, simproc, plausible, name literals, ...",
    "interpolated_string": "interpolated strings (s!, m!, f!, or a string containing `{`): code inside a string",
    "meta_api": "Lean's environment/metaprogramming API (addDecl, modifyEnv, ...)",
    "instance": "instance declarations and instance attributes: they change what the statement means",
    "variable": "variable/include/omit: can add hypotheses to the statement",
    "attribute": "attribute changes other than a small allowlist (simp, reducible, ...)",
    "search_tactic": "apply?, exact?, rw?, try?, hint, library_search, rw_search: can close goals without a sorry warning",
    "network_tactic": "polyrith: calls an external web service",
    "native_decide": "native_decide, decide +native, ofReduceBool, bv_decide: trusts the compiler (soundness.allow_native_decide)",
    **LEX_RULES,
}

# token text -> rule, for tokens that are refused wherever they stand
_SORRY = {"sorry", "admit", "stop"}
_KEYWORD_RULES: dict[str, str] = {
    "axiom": "axiom",
    "opaque": "opaque",
    "implemented_by": "implemented_by",
    "extern": "extern",
    "unsafe": "unsafe",
    "partial": "partial",
    "import": "import",
    "prelude": "prelude",
    "namespace": "scope",
    "section": "scope",
    "end": "scope",
    "universe": "scope",
    "export": "scope",
    "local": "scope",
    "scoped": "scope",
    "instance": "instance",
    "default_instance": "instance",
    "unif_hint": "instance",
    "variable": "variable",
    "include": "variable",
    "omit": "variable",
    "attribute": "attribute",
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
    "notation": "elab_code",
    "notation3": "elab_code",
    "infix": "elab_code",
    "infixl": "elab_code",
    "infixr": "elab_code",
    "prefix": "elab_code",
    "postfix": "elab_code",
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
    # (Plausible's `Testable` instances run through `evalExpr`): a `def` whose compiled code
    # does IO (`(act : IO Unit) ()`) would run on the user's machine
    "plausible": "elab_code",
    "slim_check": "elab_code",
    "apply?": "search_tactic",
    "exact?": "search_tactic",
    "rw?": "search_tactic",
    "hint": "search_tactic",
    "library_search": "search_tactic",
    "rw_search": "search_tactic",
    "try?": "search_tactic",
    "polyrith": "network_tactic",
    "native_decide": "native_decide",
    "bv_decide": "native_decide",
}
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
    "native": "native_decide",  # `decide +native`, `(config := {native := true})`
    "unsafeCast": "unsafe",
    "unsafeBaseIO": "unsafe",
    "unsafeIO": "unsafe",
    "unsafeEIO": "unsafe",
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
}
_NATIVE_RULE = "native_decide"
# attributes an auxiliary declaration may carry: none of them changes what a statement means
_ALLOWED_ATTRIBUTES = {
    "simp",
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
    "local",  # only inside @[...]: `@[local simp]`
    "high",
    "low",
    "mid",
    "default",
}
_OPEN_TAIL = {"hiding", "renaming", "(", ")", "→", "=>"}

# Characters that render as nothing or reorder text: category Cf (format: zero-width space and
# joiners, bidi embeddings/overrides/isolates, BOM, soft hyphen, tags, ...) plus the invisible
# letters and fillers that are not Cf.
_INVISIBLE_EXTRA = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x17B4, 0x17B5, 0x2800}


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


def _invisible(text: str, part: str) -> Rejection | None:
    for offset, c in enumerate(text):
        if not (" " <= c <= "~") and _is_invisible(c):  # printable ASCII is visible
            line = text.count("\n", 0, offset) + 1
            col = offset - (text.rfind("\n", 0, offset) + 1)
            name = unicodedata.name(c, f"U+{ord(c):04X}")
            return Rejection(
                VerdictKind.REJECTED, "invisible_unicode", f"U+{ord(c):04X} {name}", line, col, part
            )
    return None


def _option_findings(toks: list[Token], i: int, config: SoundnessConfig) -> tuple[str, str] | None:
    """`set_option NAME VALUE` at toks[i]: (rule, text) if refused."""
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
    limits = {"maxHeartbeats": ("max_heartbeats", config.max_heartbeats)}
    limits["maxRecDepth"] = ("max_rec_depth", config.max_rec_depth)
    if name in limits:
        rule, limit = limits[name]
        # ASCII digits only: `400²000` is a number token whose text `isdigit` but `int` refuses
        digits = value is not None and value.text.isascii() and value.text.isdigit()
        if value is None or value.kind != "number" or not digits:
            return rule, shown
        n = int(value.text)
        if limit and (n == 0 or n > limit):
            return rule, shown
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


def _findings(
    text: str, config: SoundnessConfig, part: str, allow_bare_open: bool = False
) -> list[Rejection]:
    found: list[Rejection] = []
    bad = _invisible(text, part)
    if bad:
        found.append(bad)
    for p in lex_problems(text):
        found.append(Rejection(VerdictKind.REJECTED, p.rule, p.text, p.line, p.col, part))
    all_toks = tokenize(text)
    # code plus string/char literals (values of `set_option`); comments and docs never count
    toks = [t for t in all_toks if t.kind not in (COMMENT, DOC)]

    def add(rule: str, tok: Token, shown: str | None = None) -> None:
        if rule == _NATIVE_RULE and config.allow_native_decide:
            return
        kind = VerdictKind.SORRY if rule == "sorry" else VerdictKind.REJECTED
        found.append(Rejection(kind, rule, shown or tok.text, tok.line, tok.col, part))

    for t in all_toks:
        if t.kind == STRING and "{" in t.text:
            add("interpolated_string", t)

    attr_depth = 0  # inside `@[ ... ]`
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
                add("hash_command", t)
            continue
        if t.kind == NAME:
            add("elab_code", t, "`" + text_)
            continue
        if text_ == "@[":
            attr_depth = 1
            continue
        if attr_depth:
            if text_ == "[":
                attr_depth += 1
            elif text_ == "]":
                attr_depth -= 1
            elif t.kind == IDENT and text_ not in _ALLOWED_ATTRIBUTES:
                rule = _KEYWORD_RULES.get(text_)
                if rule in ("implemented_by", "extern", "instance"):
                    add(rule, t)
                else:
                    add("attribute", t, f"@[{text_}]")
            continue
        if t.kind == IDENT and text_ == "eval" and i + 1 < len(toks) and toks[i + 1].text == "%":
            # Mathlib's `eval% e` evaluates e's compiled code while elaborating
            add("elab_code", t, "eval%")
            continue
        if t.kind != IDENT:
            if text_ == "+" and i + 1 < len(toks) and toks[i + 1].text == "native":
                add(_NATIVE_RULE, t, "+native")
            continue
        if i + 1 < len(toks) and toks[i + 1].kind == STRING and text_.endswith("!"):
            add("interpolated_string", t, f'{text_}"..."')
        if text_ in _SORRY:
            add("sorry", t)
            continue
        if text_ == "set_option":
            hit = _option_findings(toks, i, config)
            if hit:
                add(hit[0], t, hit[1])
            continue
        if text_ == "open":
            if i + 1 < len(toks) and toks[i + 1].text == "private":
                add("open_private", t, "open private")
            elif not allow_bare_open and not _open_is_scoped(toks, i):
                add("scope", t, "open (without `in`)")
            continue
        if text_ == "deriving" and i + 1 < len(toks) and toks[i + 1].text == "instance":
            add("instance", t, "deriving instance")
            continue
        if text_ == "scoped" and i > 0 and toks[i - 1].text == "open":
            continue  # `open scoped X`: an `open`, judged as one above
        rule = _KEYWORD_RULES.get(text_)
        if rule:
            add(rule, t)
            continue
        parts = ident_parts(text_)
        if any(p.startswith("__harness") for p in parts):
            add("reserved_name", t)
            continue
        for p in parts:
            rule = _COMPONENT_RULES.get(p)
            if rule:
                add(rule, t)
                break
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
    found += _findings(pre.kept, config, "preamble", allow_bare_open=True)
    # an invisible character in a dropped line is still refused
    dropped = "\n".join(pre.dropped)
    bad = _invisible(dropped, "preamble")
    if bad:
        found.append(bad)
    found += _findings(cand.aux, config, "aux")
    found += _findings(cand.proof, config, "proof")
    if cand.answer_fill is not None:
        found += _findings(cand.answer_fill, config, "answer")
    return found


def screen(
    candidate_or_text: Candidate | str, config: SoundnessConfig, *, header: str | None = None
) -> Rejection | None:
    """The first refusal (any `rejected` rule before a `sorry`), or None if the text may go to Lean.

    `header` is the suite's header: the answer's preamble lines it already provides are dropped
    (see splice.filter_preamble); without it, the standard miniF2F header is assumed.
    """
    return _choose(screen_all(candidate_or_text, config, header=header))


def uses_native(candidate_or_text: Candidate | str) -> bool:
    """Whether the text asks for native evaluation (for marking a verdict `native`)."""
    texts = (
        [candidate_or_text]
        if isinstance(candidate_or_text, str)
        else [candidate_or_text.aux, candidate_or_text.proof, candidate_or_text.answer_fill or ""]
    )
    strict = SoundnessConfig(allow_native_decide=False)
    return any(r.rule == _NATIVE_RULE for text in texts for r in _findings(text, strict, "text"))
