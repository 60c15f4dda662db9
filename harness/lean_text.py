"""Lean text, read once and the way Lean reads it. Pure: no I/O.

Every part of the harness that looks at Lean source (extraction, suite loading, splicing, the
screen, the checker's header split) reads it through this module:

* `tokenize(text)`: the tokens Lean's tokenizer produces, comments and literals included;
* `lex_problems(text)`: places where Lean's reading and any reader's could differ (an
  unterminated comment, `/-/`, a literal glued to the token before it, ...); the screen refuses
  text that has one, instead of guessing what Lean does after its parse error;
* `parse_header(text)`: the leading `import` block and the options/opens that follow it;
* `declarations(text)`: the top-level commands, each with its keyword, name, modifiers, doc
  comment and where its signature ends;
* `parse_goal(text)` / `parse_goals(text)`: a goal as Lean prints it (`case`, hypotheses, `⊢`),
  following `ppGoal` (src/Lean/Meta/PPGoal.lean).

The rules follow `src/Lean/Parser/Basic.lean` of leanprover/lean4 (line numbers "B n" refer to
the copy at 00c1b82722b5, a 2025 version bracketing v4.24, as read in
../shared/reference/lean_tokenizer.md) and the character classes of `src/Init/Meta.lean` ("M n").
Lean's token table depends on the imports and on notation declared earlier; this reader uses a
fixed table of the multi-character symbols that decide structure (`:=`, `@[`, `''`, `⁻¹'`, the
`#` commands). Text whose reading would depend on the rest of the table is refused by the
screen (unknown `#word`), not guessed at.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "Token",
    "LexProblem",
    "tokenize",
    "code_tokens",
    "lex_problems",
    "ident_parts",
    "is_id_first",
    "is_id_rest",
    "Header",
    "parse_header",
    "Declaration",
    "declarations",
    "signature_end",
    "DECLARATION_KEYWORDS",
    "MODIFIERS",
    "HEADER_COMMANDS",
    "COMMAND_KEYWORDS",
    "HASH_COMMANDS",
    "IDENT",
    "HASH",
    "NUMBER",
    "STRING",
    "CHAR",
    "NAME",
    "SYMBOL",
    "COMMENT",
    "DOC",
    "Goal",
    "Hypothesis",
    "parse_goal",
    "parse_goals",
    "is_inaccessible",
]

# Token kinds
IDENT = "ident"  # identifiers and keywords (`theorem`, `set_option` read as identifiers match)
HASH = "hash"  # a `#` command: `#eval`, `#exit`, ...
NUMBER = "number"
STRING = "string"  # "..." and raw strings r"..." / r#"..."#
CHAR = "char"
NAME = "name"  # name literals `` `foo `` / ``` ``foo ```; the token text is the name
SYMBOL = "symbol"
COMMENT = "comment"  # `-- ...` and `/- ... -/`
DOC = "doc"  # `/-- ... -/` and `/-! ... -/`

_NOT_CODE = frozenset((COMMENT, DOC, STRING, CHAR))
_SKIPPED = frozenset((COMMENT, STRING, CHAR))  # what `declarations` does not read

# ---------------------------------------------------------------------------------------------
# Keyword tables: the one place the harness lists Lean's commands.

# The keyword of a declaration (after its doc comment, attributes and modifiers).
DECLARATION_KEYWORDS = frozenset(
    (
        "theorem",
        "lemma",  # Mathlib's
        "def",
        "abbrev",
        "example",
        "instance",
        "structure",
        "class",
        "inductive",
        "axiom",
        "opaque",
    )
)
# declModifiers (Command.lean): they come before the keyword and belong to the declaration.
MODIFIERS = frozenset(
    ("private", "protected", "noncomputable", "partial", "unsafe", "nonrec", "local", "scoped")
)
# Commands a suite's header holds after its imports.
HEADER_COMMANDS = frozenset(("set_option", "open", "universe"))
# `#` commands of Lean, Batteries, Mathlib, Plausible and ProofWidgets (several evaluate code:
# #eval, #guard, #sample, #test, #html, #widget). Matched as the longest token (T3).
HASH_COMMANDS = frozenset(
    [
        "#eval", "#eval!", "#exit", "#print", "#check", "#check_failure", "#reduce", "#synth",
        "#guard", "#guard_msgs", "#guard_expr", "#guard_target", "#guard_hyp", "#help", "#find",
        "#lint", "#list_linters", "#where", "#time", "#count_heartbeats", "#simp", "#norm_num",
        "#conv", "#whnf", "#whnfR", "#unfold?", "#instances", "#explode", "#min_imports",
        "#long_names", "#version", "#sample", "#test", "#html", "#widget", "#adaptation_note",
        "#check_tactic", "#check_simp", "#discr_tree_key", "#push_neg", "#leansearch", "#loogle",
        "#moogle", "#statesearch", "#show_unused", "#find_home", "#import_path",
        "#redundant_imports", "#exec", "#run", "#trans_imports", "#kerodon", "#stacks_tag",
        "#parse", "#tactic", "#defeq_abuse", "#info_trees", "#with_exporting",
        "#dump_async_env_state", "#print_axioms", "#exact?", "#eval?",
    ]
)  # fmt: skip
# Every other word that starts a top-level command (at column 0, where it cannot continue a
# term or a tactic block).
COMMAND_KEYWORDS = (
    DECLARATION_KEYWORDS
    | HEADER_COMMANDS
    | frozenset(
        [
            "import", "namespace", "section", "end", "variable", "mutual", "attribute", "macro",
            "macro_rules", "syntax", "notation", "notation3", "infix", "infixl", "infixr",
            "prefix", "postfix", "elab", "elab_rules", "export", "deriving", "initialize",
            "builtin_initialize", "omit", "include", "run_cmd", "run_elab", "run_meta",
            "declare_syntax_cat", "simproc", "dsimproc", "simproc_decl", "dsimproc_decl",
            "register_simp_attr", "register_option", "unif_hint", "binder_predicate",
            "add_decl_doc", "assert_not_exists", "suppress_compilation", "compile_inductive",
            "irreducible_def", "alias", "lemma_alias",
        ]
    )
)  # fmt: skip
# Multi-character symbols that matter for structure; every other symbol is one character.
_SYMBOLS = sorted(
    (
        *(":=", "=>", "<;>", "...", "..", "::", "@[", "<-", "->", "<|>", "<|", "|>.", "|>"),
        *("''", "⁻¹'", "∑'", "∏'", "×'"),  # Mathlib tokens ending in a quote
    ),
    key=len,
    reverse=True,
)
_OPENERS = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⦃": "⦄", "⟦": "⟧", "@[": "]"}
_CLOSERS = frozenset(_OPENERS.values())
# binders inside a term that take their own `:=` (`let m := 2; m = 2`)
_LOCAL_BINDERS = frozenset(("let", "have", "haveI", "letI"))

# ---------------------------------------------------------------------------------------------
# Character classes (M 89-117)


def _is_letter_like(o: int) -> bool:
    return (
        (0x3B1 <= o <= 0x3C9 and o != 0x3BB)  # lower Greek except λ
        or (0x391 <= o <= 0x3A9 and o != 0x3A0 and o != 0x3A3)  # upper Greek except Π Σ
        or (0x3CA <= o <= 0x3FB)  # Coptic
        or (0x1F00 <= o <= 0x1FFE)  # polytonic Greek
        or (0x2100 <= o <= 0x214F)  # letter-like block (ℕ ℝ ...)
        or (0x1D49C <= o <= 0x1D59F)  # script, double-struck, Fraktur
        or (0xC0 <= o <= 0xFF and o != 0xD7 and o != 0xF7)  # Latin-1 letters (lean4#9035)
        or (0x100 <= o <= 0x17F)  # Latin Extended-A (lean4#9035)
    )


def _is_subscript_alnum(o: int) -> bool:
    return (
        (0x2080 <= o <= 0x2089)  # ₀-₉
        or (0x2090 <= o <= 0x209C)  # ₐ-ₜ
        or (0x1D62 <= o <= 0x1D6A)  # ᵢ-ᵪ
        or o == 0x2C7C  # ⱼ (lean4#6679)
    )


@lru_cache(maxsize=8192)
def is_id_first(c: str) -> bool:
    """`isIdFirst` (M 108): ASCII letters (Char.isAlpha is ASCII only), `_`, letter-like."""
    if len(c) != 1:
        return False  # past the end of the text
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or _is_letter_like(ord(c))


@lru_cache(maxsize=8192)
def is_id_rest(c: str) -> bool:
    """`isIdRest` (M 111): isIdFirst, ASCII digits, `'`, `!`, `?`, subscripts."""
    if len(c) != 1:
        return False
    return is_id_first(c) or ("0" <= c <= "9") or c in "'!?" or _is_subscript_alnum(ord(c))


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


# ---------------------------------------------------------------------------------------------
# Tokens


class Token(NamedTuple):  # a tuple: a long answer has tens of thousands of them
    kind: str
    text: str
    start: int  # offset in the source
    end: int
    line: int  # 1-based
    col: int  # 0-based, in code points

    @property
    def is_code(self) -> bool:
        return self.kind not in _NOT_CODE


@dataclass(frozen=True, slots=True)
class LexProblem:
    """Text where Lean errors (and then resumes at a place a reader cannot predict) or where
    its reading depends on context this reader does not have."""

    rule: str
    text: str
    start: int
    line: int
    col: int


# rule -> what it means (the screen refuses each as `rejected` under this name)
LEX_RULES: dict[str, str] = {
    "unterminated_comment": "a /- comment never closed (Lean reads nothing after it)",
    "unterminated_string": "a string literal never closed (Lean resumes inside it)",
    "unterminated_name": "a «name never closed",
    "bad_escape": "an escape Lean does not know in a string or char literal",
    "bad_char_literal": "a char literal without its closing '",
    "bad_number": "a malformed number (0x without digits, 1_, 2e without exponent)",
    "comment_trick": "/-/ or /--/: Lean skips the character after /- unread",
    "glued_literal": "a char literal or raw string glued to the token before it",
    "glued_number": "a number glued to a letter (`2set_option` is `2` then `set_option`)",
    "unknown_hash_command": "a #word that is not a known command",
    "control_character": "a tab, lone carriage return or other control character",
}


class _Lexer:
    """One pass over the text: `tokens` and `problems`."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.n = len(src)
        self.tokens: list[Token] = []
        self.problems: list[LexProblem] = []
        self.line_starts = [0]
        at = src.find("\n")
        while at >= 0:
            self.line_starts.append(at + 1)
            at = src.find("\n", at + 1)

    def at(self, i: int) -> str:
        return self.src[i] if i < self.n else ""

    def pos(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1]

    def emit(self, kind: str, start: int, end: int, text: str | None = None) -> None:
        line, col = self.pos(start)
        text = self.src[start:end] if text is None else text
        self.tokens.append(Token(kind, text, start, end, line, col))

    def problem(self, rule: str, start: int, end: int | None = None) -> None:
        line, col = self.pos(start)
        text = self.src[start : (start + 1 if end is None else end)]
        self.problems.append(LexProblem(rule, text[:40], start, line, col))

    def run(self, fast: bool = True) -> None:
        src, n, i = self.src, self.n, 0
        append = self.tokens.append
        if not fast:
            while i < n:
                i = self.step(i)
            return
        new = tuple.__new__
        while i < n:
            line, col = self.pos(i)
            line_start = i - col
            for m in _FAST.finditer(src, i):
                kind = m.lastgroup
                j = m.end()
                start = m.start(kind)
                if start != m.start():  # whitespace before the token
                    newlines = src.count("\n", m.start(), start)
                    if newlines:
                        line += newlines
                        line_start = src.rindex("\n", m.start(), start) + 1
                if kind == "other" or j - start == 1 and src[start] == "r":  # maybe r"..."
                    i = self.step(start)
                    break  # `step` read a token of its own: resume the fast reading after it
                append(new(Token, (kind, src[start:j], start, j, line, start - line_start)))
            else:
                return

    def step(self, i: int) -> int:
        src = self.src
        c = src[i]
        # whitespace (B 553-578): only space and LF; CRLF was LF before parsing (W1)
        if c == " " or c == "\n":
            return i + 1
        if c == "\r" and self.at(i + 1) == "\n":
            return i + 1
        if c in "\t\r" or (ord(c) < 0x20) or c == "\x7f":
            self.problem("control_character", i)  # a tab or lone CR is an error (B 560-562)
            return i + 1
        if src.startswith("--", i):  # W4: to the next LF
            j = src.find("\n", i)
            j = self.n if j < 0 else j
            self.emit(COMMENT, i, j)
            return j
        if src.startswith("/-", i):
            return self.block_comment(i)
        if c == '"':
            return self.string(i)
        if c == "'" and self.at(i + 1) != "'":  # T1.2 (B 1021)
            return self.char_literal(i)
        if _is_digit(c):
            if i > 1 and src[i - 1] == "." and src[i - 2] not in " \n":
                return self.field_index(i)
            return self.number(i)  # T1.3 (B 1023)
        if c == "`" and (is_id_first(self.at(i + 1)) or self.at(i + 1) in "«`"):
            return self.name_literal(i)
        if c == "r":
            j = i + 1
            while self.at(j) == "#":
                j += 1
            if self.at(j) == '"':  # T1.5 (B 1027): raw strings come before identifiers
                return self.raw_string(i, j)
        if c == "#":
            return self.hash(i)
        if is_id_first(c) or c == "«":
            j = self.ident_end(i)
            self.emit(IDENT, i, j)
            return j
        for sym in _SYMBOLS:
            if src.startswith(sym, i):
                self.emit(SYMBOL, i, i + len(sym))
                return i + len(sym)
        self.emit(SYMBOL, i, i + 1)
        return i + 1

    def glued(self, i: int) -> bool:
        """A literal at `i` directly after a token other than an opening bracket or comma."""
        if i == 0:
            return False
        before = self.src[i - 1]
        return before not in " \n([{⟨,"

    def block_comment(self, i: int) -> int:
        """W5/W6 (B 525-578): `/--` and `/-!` are doc tokens whose body starts right after
        them; any other `/-` skips its next character unread, then nests."""
        src = self.src
        third = self.at(i + 2)
        doc = third in ("-", "!")
        if doc:
            if self.at(i + 3) == "/" and third == "-":
                self.problem("comment_trick", i, i + 4)  # `/--/` is not an empty doc comment
            j = i + 3
        else:
            if third == "/":
                self.problem("comment_trick", i, i + 3)  # `/-/` is one opener, not two
            j = i + 3  # the character after `/-` is consumed without being looked at (B 576)
        depth = 1
        while j < self.n:
            if src[j] == "-" and self.at(j + 1) == "/":
                j += 2
                depth -= 1
                if depth == 0:
                    self.emit(DOC if doc else COMMENT, i, j)
                    return j
            elif src[j] == "/" and self.at(j + 1) == "-":
                j += 2
                depth += 1
            else:
                j += 1
        self.problem("unterminated_comment", i, i + 2)
        self.emit(DOC if doc else COMMENT, i, self.n)
        return self.n

    def escape(self, j: int) -> int:
        """`\\` at j (B 651-669): the offset after the escape; a problem if Lean refuses it."""
        e = self.at(j + 1)
        if e in ("\\", '"', "'", "n", "t", "r"):
            return j + 2
        width = {"x": 2, "u": 4}.get(e)
        if width is not None:
            digits = self.src[j + 2 : j + 2 + width]
            if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
                return j + 2 + width
        self.problem("bad_escape", j, j + 2)
        return j + 2

    def string(self, i: int) -> int:
        """S1/S2 (B 711-721, 627-643)."""
        src = self.src
        j = i + 1
        if i > 0 and src[i - 1] == "'":
            self.problem("glued_literal", i)  # `h'"'`: an identifier `h'` then a string
        while j < self.n:
            c = src[j]
            if c == '"':
                self.emit(STRING, i, j + 1)
                return j + 1
            if c == "\\":
                if self.at(j + 1) == "\n":  # a string gap
                    j += 2
                    while self.at(j) in (" ", "\t", "\r") and j < self.n:
                        j += 1
                    continue
                j = self.escape(j)
                continue
            j += 1
        self.problem("unterminated_string", i)
        self.emit(STRING, i, self.n)
        return self.n

    def raw_string(self, i: int, quote: int) -> int:
        """S3 (B 729-805): no escapes; ends at `"` followed by as many `#` as opened."""
        if self.glued(i):
            self.problem("glued_literal", i)
        close = '"' + "#" * (quote - i - 1)
        k = self.src.find(close, quote + 1)
        if k < 0:
            self.problem("unterminated_string", i)
            self.emit(STRING, i, self.n)
            return self.n
        self.emit(STRING, i, k + len(close))
        return k + len(close)

    def char_literal(self, i: int) -> int:
        """C1 (B 695-709): `'`, one character (any, newline included) or an escape, `'`."""
        if self.glued(i):
            self.problem("glued_literal", i)
        j = i + 1
        if j >= self.n:
            self.problem("bad_char_literal", i)
            self.emit(SYMBOL, i, j)
            return j
        j = self.escape(j) if self.src[j] == "\\" else j + 1
        if self.at(j) != "'":
            self.problem("bad_char_literal", i, j)
            self.emit(CHAR, i, min(j, self.n))
            return min(j, self.n)
        self.emit(CHAR, i, j + 1)
        return j + 1

    def digits(self, j: int, ok: str) -> int:
        """takeDigitsFn (B 813-826): digits and `_`; a `_` must be followed by a digit."""
        while j < self.n and (self.src[j] in ok or self.src[j] == "_"):
            if self.src[j] == "_" and self.at(j + 1) not in ok + "_":
                self.problem("bad_number", j)
                return j + 1
            j += 1
        return j

    def number(self, i: int) -> int:
        """numberFnAux / decimalNumberFn (B 828-907), with the `..` rule of lean4#8784."""
        src = self.src
        dec = "0123456789"
        prefix = src[i : i + 2].lower()
        bases = {"0b": "01", "0o": "01234567", "0x": "0123456789abcdefABCDEF"}
        if prefix in bases:
            j = self.digits(i + 2, bases[prefix])
            if j == i + 2:
                self.problem("bad_number", i, i + 3)
        else:
            j = self.digits(i, dec)
            if src.startswith("..", j):
                pass  # `1..5` is `1` then `..`
            else:
                if self.at(j) == ".":
                    j = self.digits(j + 1, dec)  # `2.` and `2.5`; digits optional
                if self.at(j) in ("e", "E"):
                    k = j + 1
                    if self.at(k) in ("+", "-"):
                        k += 1
                    if _is_digit(self.at(k)):
                        j = self.digits(k, dec)
                    else:
                        self.problem("bad_number", i, j + 1)  # `2example`: error at the `e`
        self.emit(NUMBER, i, j)
        nxt = self.at(j)
        if nxt and (is_id_first(nxt) or nxt == "«"):
            self.problem("glued_number", i, j + 1)  # `2set_option` is `2` then `set_option`
        return j

    def field_index(self, i: int) -> int:
        """`x.1`: after a `.` the grammar reads a field index, digits only (fieldIdxFn,
        B 1946-1954), not a number: `h.1.ne` is `h`, `.1`, `.ne`."""
        j = i
        while _is_digit(self.at(j)):
            j += 1
        self.emit(NUMBER, i, j)
        return j

    def name_literal(self, i: int) -> int:
        j = i + 1
        if self.at(j) == "`":
            j += 1
        if not (is_id_first(self.at(j)) or self.at(j) == "«"):
            self.emit(SYMBOL, i, j)
            return j
        k = self.ident_end(j)
        self.emit(NAME, i, k, self.src[j:k])
        return k

    def hash(self, i: int) -> int:
        """T3: `#` commands are tokens, matched longest first; `#word` outside the table is
        `#` then `word` or an error, depending on notation in scope: refused."""
        src = self.src
        if not is_id_first(self.at(i + 1)):
            self.emit(SYMBOL, i, i + 1)  # `#[`, `#(`, a lone `#`
            return i + 1
        best = ""
        for cmd in _HASH_BY_LENGTH:
            if src.startswith(cmd, i):
                best = cmd
                break
        if not best:
            j = i + 1
            while j < self.n and is_id_rest(src[j]):
                j += 1
            self.problem("unknown_hash_command", i, j)
            self.emit(SYMBOL, i, i + 1)
            return i + 1
        self.emit(HASH, i, i + len(best))
        return i + len(best)

    def ident_end(self, i: int) -> int:
        """identFnAux (B 963-997): parts joined by `.` when an identifier part follows."""
        src, n = self.src, self.n
        j = i
        while True:
            if self.at(j) == "«":
                k = src.find("»", j + 1)
                if k < 0:
                    self.problem("unterminated_name", j)
                    return n
                j = k + 1
            elif j < n and is_id_first(src[j]):
                j += 1
                while j < n and is_id_rest(src[j]):
                    j += 1
            else:
                return j
            if self.at(j) == "." and (is_id_first(self.at(j + 1)) or self.at(j + 1) == "«"):
                j += 1
                continue
            return j


_HASH_BY_LENGTH = sorted(HASH_COMMANDS, key=len, reverse=True)


def _char_class(pred, negate: bool = False) -> str:
    """A regex class of the non-ASCII characters (of the blocks Lean's classes touch) for
    which `pred` holds."""
    codes = [o for lo, hi in ((0x80, 0x2FFF), (0x1D400, 0x1D7FF)) for o in range(lo, hi + 1)]
    codes = [o for o in codes if pred(chr(o))]
    parts, k = [], 0
    while k < len(codes):
        lo = hi = codes[k]
        while k + 1 < len(codes) and codes[k + 1] == hi + 1:
            k += 1
            hi = codes[k]
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
        k += 1
    return "".join(parts)


_ID_FIRST = "A-Za-z_" + _char_class(is_id_first)
_ID_REST = "A-Za-z0-9_'!?" + _char_class(is_id_rest)
# one-character symbols outside ASCII: not identifier characters, and no longer token starts
_WIDE_SYMBOL = _char_class(lambda c: not is_id_rest(c) and c not in "«⁻∑∏×")
# The commonest tokens, where `step` would read exactly the same: whitespace, `--` comments,
# identifiers without dots and decimal numbers that nothing after them can continue, symbols
# that start nothing else. Everything else goes to `step`. Only a matter of speed (a long
# answer has thousands of tokens); tests/test_lean_text.py compares both readings.
_FAST = re.compile(
    rf"[ \n]*+(?:(?P<{COMMENT}>--[^\n]*)"
    rf"|(?P<{IDENT}>[{_ID_FIRST}][{_ID_REST}]*+)(?![.«])"
    rf"|(?P<{NUMBER}>(?<![^ \n]\.)[0-9]++)(?![0-9_.eExXbBoO«'\"{_ID_REST}])"
    rf"|(?P<{SYMBOL}>:=|=>|<;>|\.\.\.|\.\.|::|@\[|<-|->|<\|>|<\||\|>\.|\|>|''"
    rf"|[()\[\],+*=<>^;:%&|!?~$\\@{{}}.\-{_WIDE_SYMBOL}]|/(?!-))"
    r"|(?P<other>[\s\S]))"
)


# A run reads the same header, statement and context for every answer; answers themselves are
# read once or twice, close together. A small cache: every Token it keeps is a tracked tuple the
# garbage collector traverses in each full collection (256 entries held ~160,000 of them).
@lru_cache(maxsize=32)
def _lex(src: str) -> tuple[tuple[Token, ...], tuple[LexProblem, ...]]:
    lexer = _Lexer(src)
    lexer.run()
    return tuple(lexer.tokens), tuple(lexer.problems)


def tokenize(text: str) -> tuple[Token, ...]:
    """All tokens of `text` in source order, comments and literals included."""
    return _lex(text)[0]


@lru_cache(maxsize=32)
def code_tokens(text: str) -> tuple[Token, ...]:
    """The tokens Lean elaborates: no comments, doc comments, strings or char literals."""
    return tuple([t for t in _lex(text)[0] if t[0] not in _NOT_CODE])


def lex_problems(text: str) -> tuple[LexProblem, ...]:
    """Where Lean's reading of `text` and this reader's could differ (see LEX_RULES)."""
    return _lex(text)[1]


def ident_parts(text: str) -> list[str]:
    """`Lean.«ofReduceBool»` -> ["Lean", "ofReduceBool"]: the name's components, unescaped."""
    parts: list[str] = []
    buf = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "«":
            k = text.find("»", i + 1)
            k = len(text) if k < 0 else k
            buf += text[i + 1 : k]
            i = k + 1
        elif c == ".":
            parts.append(buf)
            buf = ""
            i += 1
        else:
            buf += c
            i += 1
    parts.append(buf)
    return parts


# ---------------------------------------------------------------------------------------------
# Header


@dataclass(frozen=True)
class Header:
    """The start of a Lean file: its import block, then options and opens."""

    imports: tuple[str, ...]  # module names, in order
    import_end: int  # offset just after the import block (the line after the last import)
    body_start: int  # offset where the first other command (or its doc comment) begins
    text: str

    @property
    def import_lines(self) -> tuple[str, ...]:
        return tuple(f"import {m}" for m in self.imports)

    @property
    def rest(self) -> str:
        """The header after its imports: options, opens (comments kept)."""
        return self.text[self.import_end : self.body_start]

    @property
    def rest_line(self) -> int:
        return self.text.count("\n", 0, self.import_end) + 1

    @property
    def opens(self) -> frozenset[str]:
        """Namespaces opened for the whole file (`open A B`, not `open A in`)."""
        opened: set[str] = set()
        toks = code_tokens(self.rest)
        for i, t in enumerate(toks):
            if t.text != "open" or t.kind != IDENT:
                continue
            names = []
            for u in toks[i + 1 :]:
                if u.kind != IDENT or u.text in COMMAND_KEYWORDS or u.text == "in":
                    names = [] if u.text == "in" else names
                    break
                if u.text != "scoped":
                    names.append(u.text)
            opened.update(names)
        return frozenset(opened)


def _line_end(text: str, offset: int) -> int:
    """Offset just after the line holding `offset` (or the end of the text)."""
    k = text.find("\n", offset)
    return len(text) if k < 0 else k + 1


@lru_cache(maxsize=256)
def parse_header(text: str) -> Header:
    """The leading `import` lines, then the `set_option`/`open`/`universe` commands (and
    `noncomputable section`) that follow; the header ends after the line of the last of them
    and the blank lines after it, so comments after it belong to the body. `open ... in` and `set_option ... in` scope the next
    declaration and are not header."""
    commands = declarations(text)
    imports: list[str] = []
    import_end = 0
    body_start = 0
    next_start = len(text)
    for d in commands:
        next_start = d.start
        toks = code_tokens(text[d.start : d.end])
        if d.keyword == "import" and len(toks) >= 2 and body_start == import_end:
            imports.append(toks[1].text)
            import_end = body_start = _line_end(text, d.start + toks[1].end - 1)
            continue
        header_like = d.keyword in HEADER_COMMANDS or (
            d.keyword == "section" and d.modifiers == ("noncomputable",)
        )
        if header_like and not d.scoped_prefix and d.signature_end is None:
            last = toks[-1] if toks else None
            body_start = _line_end(text, d.start + (last.end - 1 if last else 0))
            continue
        break
    else:
        next_start = len(text)
    body_start = min(body_start, next_start)  # `open X theorem t ...` on one line
    while body_start < next_start and not text[body_start : _line_end(text, body_start)].strip():
        body_start = _line_end(text, body_start)  # blank lines after the header are header
    return Header(tuple(imports), import_end, body_start, text)


# ---------------------------------------------------------------------------------------------
# Declarations and commands


@dataclass(frozen=True)
class Declaration:
    """One top-level command: a declaration (`keyword` in DECLARATION_KEYWORDS) or any other
    command (`keyword` is its first word: `import`, `open`, `#eval`, ...)."""

    keyword: str
    name: str | None  # the declared name as written (None for `example`, commands)
    modifiers: tuple[str, ...]  # `private`, `noncomputable`, ... and attributes `@[simp]`
    doc: str | None  # the doc comment's text, without `/--` and `-/`
    start: int  # where the command begins: its doc comment, attributes, modifiers, `... in`
    decl_start: int  # after the doc comment (attributes, modifiers and prefixes included)
    prefix_end: int  # after its last `open ... in`/`set_option ... in` prefix (or decl_start)
    keyword_start: int
    signature_end: int | None  # offset just past the `:=` that ends the signature
    end: int  # where the next command begins (or the end of the text)
    scoped_prefix: bool  # it begins with `open ... in` / `set_option ... in`
    line: int  # 1-based line of `decl_start`

    @property
    def is_declaration(self) -> bool:
        return self.keyword in DECLARATION_KEYWORDS


def _scoped_prefix_end(toks: tuple[Token, ...], i: int) -> int | None:
    """`open A B in` / `set_option NAME VALUE in` starting at toks[i]: index after `in`."""
    if toks[i].text == "set_option":
        if i + 3 < len(toks) and toks[i + 3].text == "in":
            return i + 4
        return None
    j = i + 1
    while j < len(toks) and toks[j].line == toks[i].line:
        u = toks[j]
        if u.text == "in" and u.kind == IDENT:
            return j + 1
        if u.kind != IDENT and u.text not in ("(", ")") or u.text in COMMAND_KEYWORDS:
            return None
        j += 1
    return None


def _attribute_end(toks: tuple[Token, ...], i: int) -> int:
    """Index after the `]` closing the `@[` at toks[i] (stops before a command keyword)."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j]
        if t.text in ("[", "@["):
            depth += 1
        elif t.text == "]":
            depth -= 1
            if depth == 0:
                return j + 1
        elif t.kind == IDENT and t.text in DECLARATION_KEYWORDS and t.text != "instance":
            return j
    return len(toks)


def signature_end(toks: tuple[Token, ...], i: int, stop: int | None = None) -> int | None:
    """Index of the `:=` token that ends the signature of the declaration whose keyword is
    toks[i], or None (pattern-matching equations, `where`, no `:=` at all).

    The first `:=` at bracket depth 0 not taken by a `let`/`have` of the type itself
    (`theorem t : let m := 2; m = 2 := by`). Named arguments `(n := 5)`, structure instances
    `{ x := 1 }`, optional parameters `(h : x := v)` and set builders are inside brackets;
    `fun`, `show ... from` and `∀` take no `:=`."""
    stop = len(toks) if stop is None else stop
    depth = 0
    pending: list[int] = []  # depths of `let`/`have` still waiting for their `:=`
    bars: list[int] = []  # depths of open `|x|` bars
    alternatives = False  # a `match`/`fun` in the type: the `|` after it are its alternatives
    for j in range(i + 1, stop):
        t = toks[j]
        text = t.text
        if depth == 0 and text in ("match", "fun", "λ"):
            alternatives = True
        if t.kind == IDENT:
            if text in _LOCAL_BINDERS:
                pending.append(depth)
            elif depth == 0 and text == "where":
                return None
        elif t.kind != SYMBOL:
            continue
        elif text in _OPENERS:
            depth += 1
        elif text in _CLOSERS:
            depth = max(0, depth - 1)
            while pending and pending[-1] > depth:
                pending.pop()
            while bars and bars[-1] > depth:
                bars.pop()
        elif text == ":=":
            if pending and pending[-1] == depth:
                pending.pop()
            elif depth == 0:
                return j
        elif text == "←" and pending and pending[-1] == depth:
            pending.pop()  # `let x ← e`
        elif text == "|":
            before = toks[j - 1]
            if before.kind == SYMBOL and before.text not in _CLOSERS:
                bars.append(depth)  # `: |x|`, `+ |x|`, `||a| - b|`: an absolute value opens
            elif bars and bars[-1] == depth:
                bars.pop()  # after a term: the innermost open bar closes
            elif depth == 0 and not pending and not alternatives:
                return None  # `| 0 => ...` after the type: equations
    return None


@lru_cache(maxsize=32)
def declarations(text: str) -> tuple[Declaration, ...]:
    """The top-level commands of `text`, in order.

    A command starts at a declaration keyword at bracket depth 0 or first on its line (those
    keywords are reserved: they cannot continue a term, so Lean ends the command before them,
    unbalanced brackets or not), or at any other command keyword first on its line (`open`,
    `set_option` and `end` also occur inside proofs, always indented). A doc comment,
    attributes, modifiers and `open ... in`/`set_option ... in` prefixes belong to the command
    after them.
    """
    toks = tuple([t for t in tokenize(text) if t[0] not in _SKIPPED])
    starts: list[tuple[int, int, int]] = []  # (first index, doc index or -1, keyword index)
    prefix: int | None = None  # first index of pending doc/attributes/modifiers/prefixes
    doc_index = -1
    depth = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        first_on_line = i == 0 or toks[i - 1].line != t.line
        if first_on_line and t.col == 0:
            depth = 0
        pending = prefix is not None
        if t.kind == DOC:
            if t.text.startswith("/-!"):
                starts.append((i, -1, i))  # a module doc is a command of its own
                prefix, doc_index = None, -1
            elif depth == 0:
                prefix, doc_index = (i if prefix is None else prefix), i
            i += 1
            continue
        if t.text == "@[" and (pending or first_on_line or depth == 0):
            prefix = i if prefix is None else prefix
            i = _attribute_end(toks, i)
            continue
        word = t.text if t.kind in (IDENT, HASH) else None
        at_start = pending or (first_on_line and t.col == 0)
        if word in MODIFIERS and at_start:
            prefix = i if prefix is None else prefix
            i += 1
            continue
        if word in ("open", "set_option") and at_start:
            after = _scoped_prefix_end(toks, i)
            if after is not None:
                prefix = i if prefix is None else prefix
                i = after
                continue
        previous = toks[i - 1].text if i > 0 else ""
        continues = (word in ("inductive", "abbrev") and previous == "class") or (
            word == "instance" and previous in ("deriving", "[", ",")
        )
        is_start = False
        if word in DECLARATION_KEYWORDS and not continues:
            is_start = depth == 0 or first_on_line or pending
        elif word is not None and (word in COMMAND_KEYWORDS or t.kind == HASH):
            is_start = at_start
            if word == "deriving":  # `deriving Repr` after a structure's fields continues it
                is_start = is_start and i + 1 < len(toks) and toks[i + 1].text == "instance"
        if is_start:
            starts.append((i if prefix is None else prefix, doc_index, i))
            prefix, doc_index, depth = None, -1, 0
            i += 1
            continue
        if t.kind == SYMBOL:
            if t.text in _OPENERS:
                depth += 1
            elif t.text in _CLOSERS:
                depth = max(0, depth - 1)
        if pending:
            prefix, doc_index = None, -1  # a prefix followed by something else: not ours
        i += 1

    out: list[Declaration] = []
    for k, (first, doc_i, kw_i) in enumerate(starts):
        stop = starts[k + 1][0] if k + 1 < len(starts) else len(toks)
        end = toks[stop].start if stop < len(toks) else len(text)
        kw = toks[kw_i]
        decl_first = doc_i + 1 if doc_i >= 0 else first
        modifiers = []
        scoped = False
        decl_start = toks[decl_first].start if decl_first < kw_i else kw.start
        prefix_end = decl_start
        j = decl_first
        while j < kw_i:
            u = toks[j]
            if u.text == "@[":
                after = _attribute_end(toks, j)
                modifiers.append(text[u.start : toks[after - 1].end])
                j = after
            elif u.text in ("open", "set_option"):
                scoped = True
                j = _scoped_prefix_end(toks, j) or j + 1
                prefix_end = toks[j].start if j < len(toks) else len(text)
            else:
                modifiers.append(u.text)
                j += 1
        name = None
        sig = None
        if kw.text in DECLARATION_KEYWORDS:
            nxt = toks[kw_i + 1] if kw_i + 1 < stop else None
            if (
                kw.text != "example"
                and nxt is not None
                and nxt.kind == IDENT
                and nxt.text not in ("where", "extends")
            ):
                name = nxt.text
            s = signature_end(toks, kw_i, stop)
            sig = toks[s].end if s is not None else None
        doc = None
        if doc_i >= 0:
            raw = toks[doc_i].text
            doc = (raw[3:-2] if raw.endswith("-/") else raw[3:]).strip()
        out.append(
            Declaration(
                keyword=kw.text,
                name=name,
                modifiers=tuple(modifiers),
                doc=doc,
                start=toks[first].start,
                decl_start=decl_start,
                prefix_end=prefix_end,
                keyword_start=kw.start,
                signature_end=sig,
                end=end,
                scoped_prefix=scoped,
                line=text.count("\n", 0, decl_start) + 1,
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Goals, as Lean's `ppGoal` prints them (src/Lean/Meta/PPGoal.lean of leanprover/lean4):
#
#   case TAG                      only when the goal has a tag (`name.eraseMacroScopes`)
#   a b c : T                     consecutive hypotheses of the same type share a line; each
#                                 line is the group `names ++ " :" ++ nest 2 (line ++ type)`,
#                                 so a type too long for the width (120) starts on the next
#                                 line, indented by 2: `h :\n  ∀ (x : ℕ),\n    f x = x`
#   x : T := v                    a let-bound hypothesis: `name : type :=` then `nest 2 (line ++
#                                 value)` (`:= ⋯` when the value is hidden); the type is not
#                                 nested, the value is
#   ⊢ T                           the target: `⊢ ` ++ nest 2 type (`| ` for a conv goal)
#
# Names are `Name.toString` after `sanitizeNames`: hygienic and anonymous ones become
# inaccessible `x✝`, `x✝¹`, `inst✝` (never «escaped»); others are escaped `«a b»` where needed.
# Several goals (an "unsolved goals" message, a `goals` string) are separated by blank lines.

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_GOAL_NEST = 2  # `indent` in ppGoal


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One hypothesis line: the names sharing `type`; `value` for a let-bound one (`⋯` when
    Lean hid it). Types and values are Lean's text with the goal's indentation removed (a long
    one keeps Lean's line breaks)."""

    names: tuple[str, ...]
    type: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Goal:
    """One goal as Lean printed it: its `case` tag, hypotheses in order, and the target (the
    text after `⊢ `)."""

    case: str | None
    hypotheses: tuple[Hypothesis, ...]
    target: str


def is_inaccessible(name: str) -> bool:
    """A name Lean shows but the user cannot write: `x✝`, `inst✝`, `h✝²`
    (`Name.isInaccessibleUserName`: its last string part contains `✝`, or is `_inaccessible`;
    sanitizeNames writes `✝` then the index in superscript digits, none for the last one)."""
    parts = re.findall(r"«[^»]*»|[^.«»]+", name)
    while parts and parts[-1].isdigit():
        parts.pop()  # a numeric part: Lean looks at the part before it
    return bool(parts) and ("✝" in parts[-1] or parts[-1] == "_inaccessible")


def _name_end(line: str, i: int) -> int | None:
    """The end of the (dotted) name printed at line[i:], or None when none starts there."""
    n = len(line)
    while True:
        if line.startswith("«", i):
            close = line.find("»", i + 1)
            if close < 0:
                return None
            i = close + 1
        else:
            j = i
            while j < n and (is_id_rest(line[j]) or line[j] == "✝" or line[j] in _SUPERSCRIPTS):
                j += 1
            if j == i:
                return None
            i = j
        if not (line.startswith(".", i) and i + 1 < n and line[i + 1] != " "):
            return i
        i += 1


def _hypothesis_head(line: str) -> tuple[tuple[str, ...], str] | None:
    """`a b c : rest` → (("a", "b", "c"), "rest"): names separated by one space up to the first
    ` :` that ends them (a type can hold ` : ` too, `h : ∀ x : ℕ, x = x`, but never before the
    names end); None when the line is not a hypothesis line."""
    names: list[str] = []
    i = 0
    while True:
        end = _name_end(line, i)
        if end is None:
            return None
        names.append(line[i:end])
        if line.startswith(" :", end) and (end + 2 == len(line) or line[end + 2] == " "):
            return tuple(names), line[end + 3 :]
        if not line.startswith(" ", end):
            return None
        i = end + 1


def _unnest(text: str, nest: int) -> str:
    """Lean's text with the goal's `nest` removed from its continuation lines."""
    lines = text.split("\n")
    out = [lines[0].strip()]
    for line in lines[1:]:
        strip = min(nest, len(line) - len(line.lstrip(" ")))
        out.append(line[strip:].rstrip())
    return "\n".join(out).strip("\n").strip()


def _hypothesis(head: tuple[tuple[str, ...], str], more: list[str]) -> Hypothesis:
    names, rest = head
    raw = "\n".join([rest, *more])
    toks = code_tokens(raw)
    # A let-bound hypothesis: the first `:=` at depth 0 not taken by a `let`/`have` of the
    # type, found as for a signature (`signature_end` scans from the token after index -1).
    at = signature_end(toks, -1) if any(t.text == ":=" for t in toks) else None
    if at is None:
        type_ = _unnest(raw, _GOAL_NEST)
        value = None
    else:
        type_ = _unnest(raw[: toks[at].start], 0)  # the type of a let is not nested
        value = _unnest(raw[toks[at].end :], _GOAL_NEST)
    if not type_:
        raise ValueError(f"not a goal: hypothesis {' '.join(names)!r} has no type")
    return Hypothesis(names, type_, value)


def parse_goal(text: str) -> Goal:
    """Read one goal as Lean's `ppGoal` prints it (REPL `goal`/`goals`, "unsolved goals").

    Blank lines around it are ignored (old REPLs wrote "\\n⊢ Nat"); a blank line inside means
    several goals (use `parse_goals`). Raises ValueError (one line) for text that is not a goal:
    no `⊢ ` line (a conv goal `| ...` included), a second one, or a first line that is neither a
    `case` tag nor a hypothesis."""
    body = text.strip("\n").rstrip()
    lines = body.split("\n")
    if any(not line.strip() for line in lines):
        raise ValueError(f"not one goal: a blank line separates several in {text[:60]!r}")
    case = None
    if lines[0].startswith("case ") and _hypothesis_head(lines[0]) is None:
        case = lines[0][len("case ") :].strip()
        lines = lines[1:]
    heads: list[tuple[tuple[str, ...], str]] = []
    mores: list[list[str]] = []
    target: list[str] | None = None
    for line in lines:
        if line.startswith("⊢ ") or line == "⊢":
            if target is not None:
                raise ValueError(f"not one goal: two ⊢ lines in {text[:60]!r}")
            target = [line[2:]]
            continue
        if target is not None:
            target.append(line)  # the target is the last part: everything after it is its own
            continue
        head = _hypothesis_head(line) if not line.startswith(" ") else None
        if head is not None:
            heads.append(head)
            mores.append([])
        elif mores:
            mores[-1].append(line)  # a continuation line (a let's type is not indented)
        else:
            raise ValueError(f"not a goal: {line[:60]!r} is not a hypothesis or ⊢ line")
    if target is None:
        raise ValueError(f"not a goal: no ⊢ line in {text[:60]!r}")
    goal = _unnest("\n".join(target), _GOAL_NEST)
    if not goal:
        raise ValueError(f"not a goal: nothing after ⊢ in {text[:60]!r}")
    hypotheses = tuple(_hypothesis(h, m) for h, m in zip(heads, mores, strict=True))
    return Goal(case, hypotheses, goal)


def parse_goals(text: str) -> tuple[Goal, ...]:
    """Several goals separated by blank lines (an "unsolved goals" message without its first
    line, an `allTactics` `goals` string); "" → ()."""
    return tuple(parse_goal(part) for part in re.split(r"\n[ \t]*\n", text) if part.strip())
