"""Build the file Lean checks: the suite's header and statement, the model's auxiliaries and proof.

    header + context (answer hole filled) + kept preamble + aux + STATEMENT VERBATIM + " " + proof

The statement is always the suite's, byte for byte: a statement the model rewrote is never the
one checked (the model's restatement only told extraction where its proof starts).

Preamble (the answer's lines before its first declaration): lines the header already provides
are dropped: imports the header's imports cover (`import Mathlib` covers `Mathlib.*`, `Aesop`,
`Batteries.*` and the other packages Mathlib depends on), `set_option maxHeartbeats`/`maxRecDepth`
(the header decides the limits), and `open` lines whose namespaces the header already opens. Any
other import is refused (rule `import`); every other preamble command is kept, before the aux,
and goes through the screen.

A declaration in the model's aux with the suite theorem's own name (a model restating the
theorem, e.g. a `sorry` sketch before its final version) is dropped: the suite's statement is
the only declaration of that name Lean sees. Dropping only removes text, so it cannot make an
answer pass that would otherwise fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.soundness.lexer import DOC, IDENT, Token, code_tokens, ident_parts, tokenize
from harness.types import Candidate, LeanMessage, Problem, VerdictKind

__all__ = [
    "Spliced",
    "PreambleSplit",
    "filter_preamble",
    "splice",
    "header_imports",
    "header_opens",
    "declaration_name",
    "reference_statement",
    "answer_hole_name",
    "STANDARD_HEADER",
    "FileTheorem",
    "split_lean_file",
    "REFERENCE_NAME",
]

STANDARD_HEADER = (
    "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
    "open BigOperators Real Nat Topology Rat\n\n"
)
REFERENCE_NAME = "__harness_ref"

# packages `import Mathlib` brings in (its lake manifest's requirements), and core
_MATHLIB_COVERS = ("Mathlib", "Aesop", "Batteries", "Std", "Qq", "ProofWidgets", "Plausible")
_DECL_KEYWORDS = ("theorem", "lemma", "def", "abbrev", "example", "instance", "opaque", "axiom")
_DECL_KEYWORDS_ALL = _DECL_KEYWORDS + ("structure", "class", "inductive", "mutual")
_MODIFIERS = {"private", "protected", "noncomputable", "nonrec", "partial", "unsafe"}


@dataclass(frozen=True)
class PreambleSplit:
    kept: str  # commands to keep, one per line, before the aux
    dropped: tuple[str, ...] = ()  # commands the header already provides
    rejection: object | None = None  # a screen.Rejection for an import the header lacks


@dataclass(frozen=True)
class Spliced:
    """The file Lean checks, in parts, with the map from Lean's positions to the user's file."""

    header: str  # the suite's header (ends with a newline, or is empty)
    context: str  # the suite's context, answer hole filled; "" or ends with a newline
    preamble: str  # the answer's kept preamble commands; "" or ends with a newline
    aux: str  # the answer's auxiliary declarations (own restatements dropped); "" or ends "\n"
    statement: str  # the suite's statement, verbatim
    proof: str  # the answer's proof, verbatim
    fill: str | None = None  # the answer-hole value taken from the answer, if any
    dropped: tuple[str, ...] = ()  # what was dropped (preamble lines, duplicate declarations)
    notes: tuple[str, ...] = ()

    @property
    def model_text(self) -> str:
        """The command holding the model's text: kept preamble, aux, statement, proof."""
        text = self.preamble + self.aux + self.statement + " " + self.proof
        return text if text.endswith("\n") else text + "\n"

    @property
    def body(self) -> str:
        """What is sent to Lean after the header."""
        return self.context + self.model_text

    @property
    def file(self) -> str:
        """The whole file as the user sees it."""
        return self.header + self.body

    @property
    def header_lines(self) -> int:
        return self.header.count("\n")

    @property
    def context_line(self) -> int:
        """File line where the context starts."""
        return self.header_lines + 1

    @property
    def preamble_line(self) -> int:
        return self.header_lines + self.context.count("\n") + 1

    @property
    def aux_line(self) -> int:
        return self.preamble_line + self.preamble.count("\n")

    @property
    def statement_line(self) -> int:
        return self.aux_line + self.aux.count("\n")

    @property
    def proof_start(self) -> tuple[int, int]:
        before = self.statement + " "
        line = self.statement_line + before.count("\n")
        return line, len(before) - (before.rfind("\n") + 1)

    def to_file(self, command: str, line: int, col: int) -> tuple[int, int]:
        """A position Lean reported in `command` ("context" or "model") -> the user's file."""
        if command == "context":
            context_lines = self.context.count("\n")
            if line > context_lines:  # the reference statement: same lines as the statement
                return self.statement_line + line - context_lines - 1, col
            return self.context_line + line - 1, col
        return self.preamble_line + line - 1, col

    def part_to_file(self, part: str, line: int, col: int) -> tuple[int, int] | None:
        """A screen position in one part of the answer -> the file; None if not in the file."""
        if part == "preamble":
            return self.preamble_line + line - 1, col
        if part == "aux":
            return self.aux_line + line - 1, col
        if part == "proof":
            pl, pc = self.proof_start
            return pl + line - 1, (pc + col if line == 1 else col)
        if part == "answer" and self.fill is not None:
            at = self.context.find(self.fill.strip())
            if at >= 0:
                before = self.context[:at]
                return (
                    self.context_line + before.count("\n") + line - 1,
                    (len(before) - before.rfind("\n") - 1 if line == 1 else 0) + col,
                )
        return None

    def map_messages(
        self, command: str, messages: tuple[LeanMessage, ...]
    ) -> tuple[LeanMessage, ...]:
        out = []
        for m in messages:
            line, col = self.to_file(command, m.line, m.column)
            end_line = None
            if m.end_line is not None:
                end_line, _ = self.to_file(command, m.end_line, 0)
            out.append(LeanMessage(m.severity, line, col, m.text, end_line, m.end_column))
        return tuple(out)


# ---------------------------------------------------------------------------------------------
# Header and statement


def header_imports(header: str) -> list[str]:
    return list(_header_imports(header))


@lru_cache(maxsize=64)  # every answer to a problem has the same header
def _header_imports(header: str) -> tuple[str, ...]:
    toks = code_tokens(header)
    return tuple(toks[i + 1].text for i, t in enumerate(toks[:-1]) if t.text == "import")


def header_opens(header: str) -> set[str]:
    """Namespaces the header opens for the whole file (`open A B`, not `open A in`)."""
    return set(_header_opens(header))


@lru_cache(maxsize=64)  # every answer to a problem has the same header
def _header_opens(header: str) -> frozenset[str]:
    opened: set[str] = set()
    for names, scoped, _ in _open_commands(code_tokens(header)):
        if not scoped:
            opened.update(names)
    return frozenset(opened)


def _open_commands(toks: list[Token]) -> list[tuple[list[str], bool, int]]:
    """Each `open ...`: (namespaces, followed by `in`, index of `open`)."""
    out = []
    for i, t in enumerate(toks):
        if t.text != "open":
            continue
        names: list[str] = []
        j = i + 1
        scoped = False
        while j < len(toks) and toks[j].kind == IDENT:
            if toks[j].text == "in":
                scoped = True
                break
            if (
                toks[j].text in ("set_option", "open", "import")
                or toks[j].text in _DECL_KEYWORDS_ALL
            ):
                break
            if toks[j].text != "scoped":  # `open scoped X` opens X's scoped notation
                names.append(toks[j].text)
            j += 1
        out.append((names, scoped, i))
    return out


def _covered(module: str, imports: tuple[str, ...]) -> bool:
    if module in imports or module == "Init" or module.startswith("Init."):
        return True
    if "Mathlib" in imports:
        return any(module == p or module.startswith(p + ".") for p in _MATHLIB_COVERS)
    return False


@lru_cache(maxsize=256)  # called several times per answer with the problem's statement
def declaration_name(statement: str) -> tuple[str, Token] | None:
    """The name declared by `theorem NAME ...` (first declaration keyword) and its token."""
    toks = code_tokens(statement)
    for i, t in enumerate(toks[:-1]):
        if t.kind == IDENT and t.text in ("theorem", "lemma"):
            nxt = toks[i + 1]
            if nxt.kind == IDENT:
                return nxt.text, nxt
            return None
    return None


def _blank_attributes(text: str, end: int) -> str:
    """`text` with every `@[...]` before offset `end` replaced by spaces (lines and columns kept)."""
    code = [t for t in code_tokens(text) if t.start < end]
    out = text
    i = 0
    while i < len(code) - 1:
        if code[i].text == "@" and code[i + 1].text == "[":
            depth, j = 0, i + 1
            while j < len(code):
                depth += {"[": 1, "]": -1}.get(code[j].text, 0)
                if depth == 0:
                    break
                j += 1
            stop = code[min(j, len(code) - 1)].end
            start = code[i].start
            out = out[:start] + re.sub(r"[^\n]", " ", out[start:stop]) + out[stop:]
            i = j
        i += 1
    return out


@lru_cache(maxsize=256)  # the same for every answer to a problem
def reference_statement(statement: str) -> str:
    """`theorem __harness_ref <the statement's binders and type> := sorry`.

    Elaborated as the job's first command, before any model text, in the header's (and the
    suite context's) environment: the type the model's theorem must have. The statement's
    attributes (`@[simp]`, ...) are blanked out, keeping lines and columns: they would hand the
    sorry-proved reference to the model's `simp` or `aesop`. Prefixes such as `open ... in`
    stay (they decide what the statement means). A trailing `by` after `:=` is dropped.
    """
    found = declaration_name(statement)
    if found is None:
        raise ValueError("the suite statement has no `theorem NAME`")
    _, tok = found
    text = _blank_attributes(statement, tok.start)
    text = text[: tok.start] + REFERENCE_NAME + text[tok.end :]
    text = re.sub(r":=\s*by$", ":=", text.rstrip())
    return text + (" sorry" if text.endswith(":=") else " := sorry")


@lru_cache(maxsize=256)  # the same for every answer to a problem
def answer_hole_name(context: str) -> str | None:
    """The `abbrev NAME ... := sorry` (or `def`) the model may fill, if the context has one."""
    toks = code_tokens(context)
    for i, t in enumerate(toks):
        if t.text in ("abbrev", "def") and i + 1 < len(toks):
            name = toks[i + 1].text
            for j in range(i + 2, len(toks) - 1):
                if toks[j].text in ("abbrev", "def", "theorem", "lemma"):
                    break
                if _assign(toks, j):
                    if j + 2 < len(toks) and toks[j + 2].text == "sorry":
                        return name
                    break
    return None


def _assign(toks: list[Token], j: int) -> bool:
    """`:=` at toks[j] (the lexer reads it as `:` then `=`)."""
    return (
        j + 1 < len(toks)
        and toks[j].text == ":"
        and toks[j + 1].text == "="
        and toks[j + 1].start == toks[j].end
    )


def _fill_hole(context: str, name: str, value: str) -> str | None:
    """The context with `abbrev NAME ... := sorry`'s `sorry` replaced by `value`."""
    toks = code_tokens(context)
    for i, t in enumerate(toks):
        if t.text in ("abbrev", "def") and i + 1 < len(toks) and toks[i + 1].text == name:
            for j in range(i + 2, len(toks) - 2):
                if _assign(toks, j) and toks[j + 2].text == "sorry":
                    s = toks[j + 2]
                    return context[: s.start] + value.strip() + context[s.end :]
    return None


# ---------------------------------------------------------------------------------------------
# Commands of the model's text


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _scoped_prefix(code: list[Token], i: int) -> bool:
    """`open A B in` / `set_option NAME VALUE in` starting at code[i]."""
    if code[i].text == "set_option":
        return i + 3 < len(code) and code[i + 3].text == "in"
    j = i + 1
    while j < len(code) and code[j].kind == IDENT and code[j].line == code[i].line:
        if code[j].text == "in":
            return True
        j += 1
    return False


def _command_spans(text: str) -> list[tuple[int, int, str | None]]:
    """Top-level declarations in `text`: (start, end, declared name or None).

    A declaration starts at its keyword (`theorem`, `def`, ...) at the start of a line, or after
    modifiers, attributes, a doc comment, or an `open ... in`/`set_option ... in` prefix that
    starts a line; it runs to the start of the next one.
    """
    toks = [t for t in tokenize(text) if t.is_code or t.kind == DOC]
    starts: list[tuple[int, str | None]] = []
    pending: int | None = None  # start of a prefix (doc, attribute, `... in`) seen at column 0
    in_attr = 0
    for i, t in enumerate(toks):
        if in_attr:
            if not (t.text == "[" and toks[i - 1].text == "@"):
                in_attr += t.text == "["
                in_attr -= t.text == "]"
            continue
        if t.kind == IDENT and t.text in _DECL_KEYWORDS_ALL:
            line_start = _line_start(text, t.start)
            if pending is not None or _only_modifiers(text[line_start : t.start]):
                name = None
                nxt = toks[i + 1] if i + 1 < len(toks) else None
                if nxt is not None and nxt.kind == IDENT:
                    name = nxt.text
                starts.append((pending if pending is not None else line_start, name))
            pending = None
            continue
        if t.col != 0 and pending is not None:
            continue
        if t.kind == DOC or t.text in _MODIFIERS:
            pending = t.start if pending is None else pending
        elif t.text == "@" and i + 1 < len(toks) and toks[i + 1].text == "[":
            pending = t.start if pending is None else pending
            in_attr = 1
        elif t.text in ("open", "set_option") and t.col == 0:
            pending = (t.start if pending is None else pending) if _scoped_prefix(toks, i) else None
        elif t.col == 0:
            pending = None
    spans = []
    for k, (start, name) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(text)
        spans.append((start, end, name))
    return spans


def _only_modifiers(code: str) -> bool:
    words = re.findall(r"\S+", code)
    return all(w in _MODIFIERS or w.startswith("@[") or w.endswith("]") for w in words)


def _next_code(toks: list[Token], i: int) -> Token | None:
    for t in toks[i + 1 :]:
        if t.is_code:
            return t
    return None


def _same_decl(found: str | None, wanted: str) -> bool:
    if found is None:
        return False
    a, b = ident_parts(found), ident_parts(wanted)
    if a and a[0] == "_root_":
        a = a[1:]
    return a == b


def drop_declarations(text: str, name: str) -> tuple[str, list[str]]:
    """`text` without its top-level declarations named `name`; and what was dropped."""
    # A declaration of `name` has its last component in the text (a token's parts are raw
    # substrings, unescaped or between « »): without it, nothing can be dropped.
    if ident_parts(name)[-1] not in text:
        return text, []
    dropped: list[str] = []
    out = text
    for start, end, found in reversed(_command_spans(text)):
        if _same_decl(found, name):
            dropped.append(out[start:end])
            out = out[:start] + out[end:]
    return out, dropped[::-1]


# ---------------------------------------------------------------------------------------------
# Preamble


@lru_cache(maxsize=64)  # the splice and the screen each split the same preamble
def filter_preamble(preamble: str, header: str | None) -> PreambleSplit:
    """Split the answer's preamble into what the header already provides and what to keep."""
    from harness.soundness.screen import Rejection

    toks = code_tokens(preamble)
    if not toks:
        return PreambleSplit(kept="")  # most answers have no preamble
    header = STANDARD_HEADER if header is None else header
    imports = _header_imports(header)
    opened = _header_opens(header)
    # segment at `import`, `set_option`, `open`; everything else stays with its segment
    segments: list[list[Token]] = []
    for t in toks:
        if t.text in ("import", "set_option", "open") or not segments:
            segments.append([t])
        else:
            segments[-1].append(t)
    kept: list[str] = []
    dropped: list[str] = []
    rejection = None
    for seg in segments:
        src = preamble[seg[0].start : seg[-1].end]
        head = seg[0].text
        if head == "import" and len(seg) >= 2:
            module = seg[1].text
            if _covered(module, imports) and len(seg) == 2:
                dropped.append(src)
            elif rejection is None:
                rejection = Rejection(
                    VerdictKind.REJECTED,
                    "import",
                    f"import {module}",
                    seg[0].line,
                    seg[0].col,
                    "answer preamble",
                )
            continue
        if (
            head == "set_option"
            and len(seg) >= 3
            and seg[1].text in ("maxHeartbeats", "maxRecDepth")
        ):
            if len(seg) == 3 or (len(seg) == 4 and seg[3].text == "in"):
                dropped.append(src)
                continue
        if head == "open" and len(seg) >= 2:
            names = [t.text for t in seg[1:] if t.text not in ("in", "scoped")]
            if all(t.kind == IDENT for t in seg[1:]) and names and set(names) <= opened:
                dropped.append(src)
                continue
        kept.append(src)
    return PreambleSplit(
        kept="".join(s + "\n" for s in kept), dropped=tuple(dropped), rejection=rejection
    )


# ---------------------------------------------------------------------------------------------
# Splice


def splice(problem: Problem, candidate: Candidate, *, answer_holes: str = "model") -> Spliced:
    """The file for `candidate` against `problem` (see the module docstring)."""
    name = problem.decl_name
    notes: list[str] = []
    dropped: list[str] = []
    aux, dups = drop_declarations(candidate.aux, name)
    if dups:
        dropped += dups
        notes.append(f"dropped the answer's own declaration of {name}")

    context = problem.context
    fill = None
    if problem.answer_hole and answer_holes == "model":
        hole = answer_hole_name(context)
        if hole is not None:
            fill = candidate.answer_fill
            aux, model_abbrevs = drop_declarations(aux, hole)
            if fill is None and model_abbrevs:
                fill = _abbrev_value(model_abbrevs[-1])
            dropped += model_abbrevs
            filled = _fill_hole(context, hole, fill) if fill is not None else None
            if filled is not None:
                context = filled
                notes.append(f"answer hole {hole} filled from the answer")
            else:
                fill = None
    if context and not context.endswith("\n"):
        context += "\n"
    if not aux.strip():
        aux = ""
    elif not aux.endswith("\n"):
        aux += "\n"

    pre = filter_preamble(candidate.preamble, problem.header)
    dropped += list(pre.dropped)
    header = problem.header
    if header and not header.endswith("\n"):
        header += "\n"
    return Spliced(
        header=header,
        context=context,
        preamble=pre.kept,
        aux=aux,
        statement=problem.statement,
        proof=candidate.proof,
        fill=fill,
        dropped=tuple(dropped),
        notes=tuple(notes),
    )


def _abbrev_value(decl: str) -> str | None:
    """The value after the first top-level `:=` of a model's `abbrev NAME ... := value`."""
    toks = code_tokens(decl)
    depth = 0
    for i, t in enumerate(toks[:-1]):
        if t.text in "([{⟨":
            depth += 1
        elif t.text in ")]}⟩":
            depth -= 1
        elif depth == 0 and _assign(toks, i):
            return decl[toks[i + 1].end :].strip()
    return None


# ---------------------------------------------------------------------------------------------
# A user's Lean file (`harness check FILE`)


@dataclass(frozen=True)
class FileTheorem:
    problem: Problem  # header = the file's leading imports/options/opens; statement as written
    candidate: Candidate  # aux = the file's text before this theorem; proof = after its `:=`


def _statement_end(toks: list[Token], i: int) -> Token | None:
    """The `=` of the first `:=` at bracket depth 0 after toks[i] (a declaration keyword)."""
    depth = 0
    for j in range(i + 1, len(toks) - 1):
        t = toks[j]
        if t.text in "([{⟨":
            depth += 1
        elif t.text in ")]}⟩":
            depth -= 1
        elif depth == 0 and _assign(toks, j):
            return toks[j + 1]
        elif depth == 0 and t.kind == IDENT and t.text in _DECL_KEYWORDS_ALL and j > i + 1:
            return None
    return None


def split_lean_file(text: str) -> tuple[str, list[FileTheorem]]:
    """The file's header and every `theorem` in it, each as a problem with its proof.

    The header is the file's leading imports, options and opens; a theorem's aux is the file's
    text before it (its lemmas and earlier theorems), its statement is as written."""
    text = text.replace("\r\n", "\n")
    spans = _command_spans(text)
    first = spans[0][0] if spans else len(text)
    head = text[:first]
    # the header is the leading run of import/set_option/open commands (and comments)
    toks = code_tokens(head)
    header_end = 0
    for k, t in enumerate(toks):
        if t.col == 0 and t.text not in ("import", "set_option", "open"):
            header_end = t.start
            break
        if t.text == "in" and toks[k - 1].line == t.line:
            header_end = _line_start(head, t.start)
            break
    else:
        header_end = first
    header = text[:header_end]
    if header and not header.endswith("\n"):
        header += "\n"
    theorems: list[FileTheorem] = []
    for start, end, name in spans:
        if name is None:
            continue
        decl = text[start:end]
        code = code_tokens(decl)
        # `lemma`s are the file's helpers; each `theorem` is checked
        kw = next((i for i, t in enumerate(code) if t.text == "theorem"), None)
        if kw is None or kw + 1 >= len(code) or code[kw + 1].text != name:
            continue
        eq = _statement_end(code, kw)
        if eq is None:
            continue
        line = text.count("\n", 0, start) + 1
        statement = decl[: eq.end]
        # the statement starts at its keyword; modifiers, attributes, docs before it stay aux
        kw_start = code[kw].start
        prefix = decl[:kw_start]
        problem = Problem(
            name=name,
            header=header,
            statement=statement[kw_start:],
            origin=f"line {line}",
            theorem_name=name,
        )
        aux = text[header_end:start] + prefix
        proof = decl[eq.end :].strip()
        theorems.append(FileTheorem(problem, Candidate(proof=proof, aux=aux)))
    return header, theorems
