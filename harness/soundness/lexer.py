"""A Lean 4 tokenizer, good enough that the screen reads code the way Lean does.

What it must get right for soundness: where comments, docstrings, strings and character literals
begin and end (so a `sorry` inside a comment does not count, and a comment cannot hide a command
from the screen), and what an identifier is (so `exact?`, `h.sorry_lemma` or `«sorryAx»` are read
as one name each). It does not parse: tokens carry their text and position, and the screen
pattern-matches on the token stream.

Lean's rules followed here (Lean 4 `Lean.Parser.Basic`):

* `--` comments run to the end of the line; `/-` comments nest (`/-- -/` doc comments and
  `/-! -/` module docs are nested comments too).
* Strings are `"..."` with backslash escapes, read as Lean reads a plain string literal. An
  interpolated string (`s!"{e}"`, `m!`, `throwError "..."`) has code inside its braces and nested
  strings there, which only the parser's context can tell apart from a plain string; the screen
  therefore refuses any string containing `{` (honest proofs have none), so the plain reading
  used here is the right one for every text that passes.
* A character literal is `'c'` or `'\n'`, and only where a `'` cannot continue an identifier.
* Identifiers: a first character that is a letter, `_`, or a "letter-like" symbol (Greek except
  λ Π Σ, Coptic, letter-like block, ...), then letters, digits, `_`, `'`, `!`, `?`, subscripts;
  dotted parts join (`Nat.succ_le`); `«...»` escapes a part. So `exact?` and `s!` are single
  identifiers, exactly as Lean reads them.
* `#` directly followed by an identifier is one token (`#eval`, `#exit`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Token", "tokenize", "code_tokens", "ident_parts"]

# kinds
IDENT = "ident"
HASH_CMD = "hash"  # `#eval`, `#exit`, ...
NUMBER = "number"
STRING = "string"
CHAR = "char"
NAME_LIT = "name"  # `` `foo `` and ``` ``foo ```: the token text is the quoted name
SYMBOL = "symbol"
COMMENT = "comment"  # `-- ...` and `/- ... -/`
DOC = "doc"  # `/-- ... -/` and `/-! ... -/`


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int  # offset in the source
    end: int
    line: int  # 1-based
    col: int  # 0-based, in code points

    @property
    def is_code(self) -> bool:
        return self.kind not in _NOT_CODE


_NOT_CODE = frozenset((COMMENT, DOC, STRING, CHAR))


def _is_letter_like(c: str) -> bool:
    o = ord(c)
    return (
        (0x3B1 <= o <= 0x3C9 and o != 0x3BB)  # α-ω except λ
        or (0x391 <= o <= 0x3A9 and o != 0x3A0 and o != 0x3A3)  # Α-Ω except Π Σ
        or (0x3CA <= o <= 0x3FB)  # Coptic
        or (0x1F00 <= o <= 0x1FFE)  # Polytonic Greek
        or (0x2100 <= o <= 0x214F)  # letter-like block
        or (0x1D49C <= o <= 0x1D59F)  # script, double-struck, Fraktur
    )


def _is_subscript_alnum(c: str) -> bool:
    o = ord(c)
    return (
        (0x2080 <= o <= 0x2089)  # ₀-₉
        or (0x2090 <= o <= 0x209C)  # ₐ-ₜ
        or (0x1D62 <= o <= 0x1D6A)  # ᵢ-ᵪ
        or o == 0x2C7C  # ⱼ
    )


@lru_cache(maxsize=4096)
def _is_id_first(c: str) -> bool:
    return c.isalpha() or c == "_" or _is_letter_like(c)


@lru_cache(maxsize=4096)
def _is_id_rest(c: str) -> bool:
    return (
        c.isalnum()
        or c in "_'!?"
        or _is_letter_like(c)
        or _is_subscript_alnum(c)
        or unicodedata.category(c) == "Mn"  # combining marks continue a name
    )


# ---------------------------------------------------------------------------------------------
# Fast path: one compiled master regex for the common tokens. Its character classes are exact
# only on a fixed set of "known" characters (ASCII and the blocks Lean proofs use: Latin-1,
# Greek, subscripts, letter-like symbols, arrows, math operators, math alphanumerics), computed
# at import from the predicates above. A token the master regex cannot settle exactly (it starts
# or ends next to an unknown character, or it is a rare form: block comments, `'`, `` ` ``,
# `r"..."`, `#`) is read by `_Lexer.step`, the reference implementation of Lean's rules.

_KNOWN_RANGES = (
    (0x00, 0x24F),  # ASCII, Latin-1, Latin Extended-A/B
    (0x370, 0x3FF),  # Greek and Coptic
    (0x1D00, 0x1DBF),  # phonetic extensions (ᵢ ... subscripts)
    (0x1F00, 0x1FFF),  # polytonic Greek
    (0x2000, 0x2BFF),  # punctuation, super/subscripts, letter-like, arrows, math operators, ...
    (0x2C60, 0x2C7F),  # Latin Extended-C (ⱼ)
    (0x2E00, 0x2E7F),  # supplemental punctuation
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x1D400, 0x1D7FF),  # mathematical alphanumeric symbols
)
_KNOWN = frozenset(chr(o) for lo, hi in _KNOWN_RANGES for o in range(lo, hi + 1))


def _char_class(chars: set[str]) -> str:
    """A regex character class matching exactly `chars`."""
    codes = sorted(ord(c) for c in chars)
    parts: list[str] = []
    k = 0
    while k < len(codes):
        lo = hi = codes[k]
        while k + 1 < len(codes) and codes[k + 1] == hi + 1:
            k += 1
            hi = codes[k]
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
        k += 1
    return "[" + "".join(parts) + "]"


_FIRST = _char_class({c for c in _KNOWN if _is_id_first(c)})
_REST = _char_class({c for c in _KNOWN if _is_id_rest(c)})
_DIGIT = _char_class({c for c in _KNOWN if c.isdigit()})
# single characters that are a SYMBOL token wherever they start one (the master regex tries
# every other alternative first, so `-` and `/` reach this only when no comment starts there)
_SYMBOL_CHARS = _char_class(
    {c for c in _KNOWN if c not in " \t\r\n\"'`#«r" and not _is_id_first(c) and not c.isdigit()}
)
_PART = f"(?:«[^»]*»?|{_FIRST}{_REST}*)"
_UNKNOWN = "[^" + _char_class(set(_KNOWN))[1:]
# after an identifier, `#` command or number: the next character, and the one after a `.`, are
# known, so the classes above decided where the token ends exactly as the predicates would
_GUARD = f"(?!{_UNKNOWN}|\\.{_UNKNOWN})"
# Each match: whitespace, then one token. The group that matched names the token kind; `slow`
# and `other` go to `_Lexer.step`. Possessive/atomic forms: a failed guard must not make the
# regex settle for a shorter identifier; the token then falls through to `other`.
_MASTER = re.compile(
    r"[ \t\r\n]*+(?:"
    f"(?P<{COMMENT}>--[^\\n]*+)"
    f'|(?P<{STRING}>"(?:[^"\\\\]++|\\\\[\\s\\S])*+(?:"|\\\\?\\Z))'
    r'|(?P<slow>/-|\'|`|r#*+")'  # block comments, char/name/raw-string literals
    f"|(?P<{HASH_CMD}>(?>#{_FIRST}{_REST}*){_GUARD})"
    f"|(?P<{IDENT}>(?>{_PART}(?:\\.{_PART})*){_GUARD})"
    f"|(?P<{NUMBER}>(?>{_DIGIT}\\w*(?:\\.(?={_DIGIT})\\w*)?){_GUARD})"
    f"|(?P<{SYMBOL}>{_SYMBOL_CHARS})"
    r"|(?P<other>[\s\S])"
    ")"
)
_BLOCK_MARK = re.compile(r"/-|-/")
_NEWLINE = re.compile("\n")
_new = object.__new__
_set = object.__setattr__


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.n = len(src)
        self.tokens: list[Token] = []
        # offsets where lines start, to compute (line, col) from an offset
        self.line_starts = [0] + [m.end() for m in _NEWLINE.finditer(src)]

    def pos(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1]

    def emit(self, kind: str, start: int, end: int, text: str | None = None) -> None:
        line, col = self.pos(start)
        self.tokens.append(
            Token(kind, self.src[start:end] if text is None else text, start, end, line, col)
        )

    def run(self) -> None:
        src, n = self.src, self.n
        line_starts = self.line_starts
        append = self.tokens.append
        finditer = _MASTER.finditer
        i = 0
        while i < n:
            for m in finditer(src, i):
                kind = m.lastgroup
                if kind == "slow" or kind == "other":
                    start = m.start(kind)
                    i = self.step(start)
                    if i != m.end():
                        break  # the token ended elsewhere: match afresh from there
                    continue
                start, end = m.span(kind)
                line = bisect_right(line_starts, start)
                # Token(...) without the frozen dataclass's per-field __init__: same object
                tok = _new(Token)
                _set(
                    tok,
                    "__dict__",
                    {
                        "kind": kind,
                        "text": src[start:end],
                        "start": start,
                        "end": end,
                        "line": line,
                        "col": start - line_starts[line - 1],
                    },
                )
                append(tok)
            else:
                return  # the matches ran to the end (trailing whitespace matches nothing)

    def step(self, i: int) -> int:
        """Read the token at src[i] (not whitespace) the reference way; return where it ends."""
        src, n = self.src, self.n
        c = src[i]
        if c in " \t\r\n":
            return i + 1
        if src.startswith("--", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            self.emit(COMMENT, i, j)
            return j
        if src.startswith("/-", i):
            j = self.block_comment_end(i)
            kind = (
                DOC
                if src.startswith(("/--", "/-!"), i) and not src.startswith("/--/", i)
                else COMMENT
            )
            self.emit(kind, i, j)
            return j
        if c == '"':
            return self.string(i)
        if c == "'":
            j = self.char_literal_end(i)
            if j is not None:
                self.emit(CHAR, i, j)
                return j
        if c == "`":
            return self.name_literal(i)
        if c == "#" and i + 1 < n and _is_id_first(src[i + 1]):
            j = i + 1
            while j < n and _is_id_rest(src[j]):
                j += 1
            self.emit(HASH_CMD, i, j)
            return j
        if c == "r":
            j = self.raw_string_end(i)
            if j is not None:
                self.emit(STRING, i, j)
                return j
        if _is_id_first(c) or c == "«":
            j = self.ident_end(i)
            self.emit(IDENT, i, j)
            return j
        if c.isdigit():
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            # a decimal point followed by a digit belongs to the number (`1.5`)
            if j + 1 < n and src[j] == "." and src[j + 1].isdigit():
                j += 1
                while j < n and (src[j].isalnum() or src[j] == "_"):
                    j += 1
            self.emit(NUMBER, i, j)
            return j
        self.emit(SYMBOL, i, i + 1)
        return i + 1

    def block_comment_end(self, i: int) -> int:
        depth = 0
        for m in _BLOCK_MARK.finditer(self.src, i):
            if m.group() == "/-":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return m.end()
        return self.n  # unterminated: the rest of the text is comment (Lean: an error)

    def string(self, i: int) -> int:
        src, n = self.src, self.n
        j = i + 1
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
            elif c == '"':
                j += 1
                break
            else:
                j += 1
        j = min(j, n)
        self.emit(STRING, i, j)
        return j

    def raw_string_end(self, i: int) -> int | None:
        """`r"..."` / `r#"..."#`: no escapes; ends at `"` followed by as many `#` as opened."""
        src, n = self.src, self.n
        if i > 0 and _is_id_rest(src[i - 1]):
            return None
        j = i + 1
        while j < n and src[j] == "#":
            j += 1
        if j >= n or src[j] != '"':
            return None
        close = '"' + "#" * (j - i - 1)
        k = src.find(close, j + 1)
        return n if k < 0 else k + len(close)

    def char_literal_end(self, i: int) -> int | None:
        src, n = self.src, self.n
        # `'` after an identifier character is part of that identifier (`h'`), handled there
        if i > 0 and _is_id_rest(src[i - 1]):
            return None
        if i + 2 < n and src[i + 1] == "\\":
            # escapes as Lean reads them: \\ \' \" \n \t \r \0, \xHH, \uHHHH
            e = src[i + 2]
            j = i + 3 + {"x": 2, "u": 4}.get(e, 0)
            if j < n and src[j] == "'":
                return j + 1
            return None
        if i + 2 < n and src[i + 2] == "'" and src[i + 1] not in "'\n":
            return i + 3
        return None

    def name_literal(self, i: int) -> int:
        src, n = self.src, self.n
        j = i + 1
        if j < n and src[j] == "`":
            j += 1
        if j < n and (_is_id_first(src[j]) or src[j] == "«"):
            k = self.ident_end(j)
            self.emit(NAME_LIT, i, k, src[j:k])
            return k
        self.emit(SYMBOL, i, j)
        return j

    def ident_end(self, i: int) -> int:
        src, n = self.src, self.n
        j = i
        while True:
            if j < n and src[j] == "«":
                k = src.find("»", j + 1)
                j = n if k < 0 else k + 1
            elif j < n and _is_id_first(src[j]):
                j += 1
                while j < n and _is_id_rest(src[j]):
                    j += 1
            else:
                return j
            # a dot joins the next part only if an identifier part follows directly
            if j + 1 < n and src[j] == "." and (_is_id_first(src[j + 1]) or src[j + 1] == "«"):
                j += 1
                continue
            return j


@lru_cache(maxsize=32)  # a run re-reads a few texts (header, statement, aux): small
def _tokens(src: str) -> tuple[Token, ...]:
    lexer = _Lexer(src)
    lexer.run()
    return tuple(lexer.tokens)


def tokenize(src: str) -> list[Token]:
    """All tokens of `src` in source order, comments and strings included."""
    # the screen and the splice read the same texts (header, statement, aux): lex each once
    return list(_tokens(src))


@lru_cache(maxsize=32)  # the splice reads the code tokens of the same few texts repeatedly
def _code_tokens(src: str) -> tuple[Token, ...]:
    return tuple(t for t in _tokens(src) if t.kind not in _NOT_CODE)


def code_tokens(src: str) -> list[Token]:
    """The tokens Lean elaborates: no comments, docstrings, strings or character literals."""
    return list(_code_tokens(src))


def ident_parts(text: str) -> list[str]:
    """`Lean.«ofReduceBool»` -> ["Lean", "ofReduceBool"]: the name's components, unescaped."""
    if "«" not in text:
        return text.split(".")
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
