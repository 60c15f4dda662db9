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

from harness.lean_text import (
    IDENT,
    Declaration,
    Token,
    code_tokens,
    declarations,
    ident_parts,
    parse_header,
)
from harness.types import Candidate, LeanMessage, Problem

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
CONFIRM_NAME = "__harness_cref"  # the statement as the confirming process elaborates it

# packages `import Mathlib` brings in (its lake manifest's requirements), and core
_MATHLIB_COVERS = ("Mathlib", "Aesop", "Batteries", "Std", "Qq", "ProofWidgets", "Plausible")


@dataclass(frozen=True)
class RefusedImport:
    """An import in the answer's preamble that the header does not provide."""

    module: str
    line: int
    col: int


@dataclass(frozen=True)
class PreambleSplit:
    kept: str  # commands to keep, one per line, before the aux
    dropped: tuple[str, ...] = ()  # commands the header already provides
    refused_import: RefusedImport | None = None


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
# Header and statement (read by harness/lean_text.py)


def header_imports(header: str) -> list[str]:
    return list(parse_header(header).imports)


def header_opens(header: str) -> set[str]:
    """Namespaces the header opens for the whole file (`open A B`, not `open A in`)."""
    return set(parse_header(header).opens)


def _covered(module: str, imports: tuple[str, ...]) -> bool:
    if module in imports or module == "Init" or module.startswith("Init."):
        return True
    if "Mathlib" in imports:
        return any(module == p or module.startswith(p + ".") for p in _MATHLIB_COVERS)
    return False


def _theorem(statement: str) -> Declaration | None:
    """The statement's `theorem`/`lemma` declaration."""
    for d in declarations(statement):
        if d.keyword in ("theorem", "lemma"):
            return d if d.name is not None else None
    return None


def declaration_name(statement: str) -> str | None:
    """The name declared by the statement's `theorem NAME` (or `lemma NAME`)."""
    found = _theorem(statement)
    return found.name if found is not None else None


def _blank(text: str, start: int, end: int) -> str:
    """`text` with [start, end) replaced by spaces (lines and columns kept)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


@lru_cache(maxsize=256)  # the same for every answer to a problem
def reference_statement(statement: str, name: str = REFERENCE_NAME) -> str:
    """`theorem __harness_ref <the statement's binders and type> := sorry`.

    Elaborated as the job's first command, before any model text, in the header's (and the
    suite context's) environment: the type the model's theorem must have. The statement's
    attributes (`@[simp]`, ...) are blanked out, keeping lines and columns: they would hand the
    sorry-proved reference to the model's `simp` or `aesop`. Prefixes such as `open ... in`
    stay (they decide what the statement means). Whatever follows the signature's `:=` (`by`)
    is replaced by `sorry`.
    """
    found = _theorem(statement)
    if found is None:
        raise ValueError("the suite statement has no `theorem NAME`")
    theorem_name = next(t for t in code_tokens(statement) if t.start > found.keyword_start)
    text = statement
    if found.signature_end is not None:
        text = text[: found.signature_end] + " sorry"
    else:
        text = text.rstrip() + " := sorry"
    text = text[: theorem_name.start] + name + text[theorem_name.end :]
    for t in code_tokens(text[: found.keyword_start]):
        if t.text == "@[":
            close = next(
                (u for u in code_tokens(text) if u.start > t.start and u.text == "]"), None
            )
            text = _blank(text, t.start, close.end if close else t.end)
    return text


def _value(text: str, decl: Declaration) -> tuple[int, int] | None:
    """(start, end) of the single code token after the declaration's `:=`, if it is alone."""
    if decl.signature_end is None:
        return None
    body = [t for t in code_tokens(text) if decl.signature_end <= t.start < decl.end]
    return (body[0].start, body[0].end) if len(body) == 1 else None


def _hole(context: str, name: str | None = None) -> tuple[str, tuple[int, int]] | None:
    """The `abbrev NAME ... := sorry` (or `def`) the model may fill: its name and `sorry`."""
    for d in declarations(context):
        if d.keyword in ("abbrev", "def") and (name is None or d.name == name):
            at = _value(context, d)
            if at is not None and context[at[0] : at[1]] == "sorry" and d.name is not None:
                return d.name, at
    return None


@lru_cache(maxsize=256)  # the same for every answer to a problem
def answer_hole_name(context: str) -> str | None:
    """The `abbrev NAME ... := sorry` (or `def`) the model may fill, if the context has one."""
    found = _hole(context)
    return found[0] if found else None


def _fill_hole(context: str, name: str, value: str) -> str | None:
    """The context with `abbrev NAME ... := sorry`'s `sorry` replaced by `value`."""
    found = _hole(context, name)
    if found is None:
        return None
    start, end = found[1]
    return context[:start] + value.strip() + context[end:]


# ---------------------------------------------------------------------------------------------
# Commands of the model's text


def _same_decl(found: str | None, wanted: str) -> bool:
    if found is None:
        return False
    a, b = ident_parts(found), ident_parts(wanted)
    if a and a[0] == "_root_":
        a = a[1:]
    return a == b


def drop_declarations(text: str, name: str) -> tuple[str, list[str]]:
    """`text` without its top-level declarations named `name`; and what was dropped."""
    dropped: list[str] = []
    out = text
    for d in reversed(declarations(text)):
        if d.is_declaration and _same_decl(d.name, name):
            dropped.append(out[d.start : d.end])
            out = out[: d.start] + out[d.end :]
    return out, dropped[::-1]


# ---------------------------------------------------------------------------------------------
# Preamble


@lru_cache(maxsize=64)  # the splice and the screen each split the same preamble
def filter_preamble(preamble: str, header: str | None) -> PreambleSplit:
    """Split the answer's preamble into what the header already provides and what to keep."""
    toks = code_tokens(preamble)
    if not toks:
        return PreambleSplit(kept="")  # most answers have no preamble
    header = STANDARD_HEADER if header is None else header
    parsed = parse_header(header)
    imports, opened = parsed.imports, parsed.opens
    # segment at `import`, `set_option`, `open`; everything else stays with its segment
    segments: list[list[Token]] = []
    for t in toks:
        if t.text in ("import", "set_option", "open") or not segments:
            segments.append([t])
        else:
            segments[-1].append(t)
    kept: list[str] = []
    dropped: list[str] = []
    refused = None
    for seg in segments:
        src = preamble[seg[0].start : seg[-1].end]
        head = seg[0].text
        if head == "import" and len(seg) >= 2:
            module = seg[1].text
            if _covered(module, imports) and len(seg) == 2:
                dropped.append(src)
            elif refused is None:
                refused = RefusedImport(module, seg[0].line, seg[0].col)
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
        kept="".join(s + "\n" for s in kept), dropped=tuple(dropped), refused_import=refused
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
    """The value after the signature's `:=` of a model's `abbrev NAME ... := value`."""
    found = declarations(decl)
    if not found or found[0].signature_end is None:
        return None
    return decl[found[0].signature_end :].strip()


# ---------------------------------------------------------------------------------------------
# A user's Lean file (`harness check FILE`)


@dataclass(frozen=True)
class FileTheorem:
    problem: Problem  # header = the file's leading imports/options/opens; statement as written
    candidate: Candidate  # aux = the file's text before this theorem; proof = after its `:=`


def split_lean_file(text: str) -> tuple[str, list[FileTheorem]]:
    """The file's header and every `theorem` in it, each as a problem with its proof.

    The header is the file's leading imports, options and opens; a theorem's aux is the file's
    text before it (its lemmas and earlier theorems), its statement is as written."""
    text = text.replace("\r\n", "\n")
    header_end = parse_header(text).body_start
    header = text[:header_end]
    if header and not header.endswith("\n"):
        header += "\n"
    theorems: list[FileTheorem] = []
    for d in declarations(text):
        # `lemma`s are the file's helpers; each `theorem` is checked
        if d.keyword != "theorem" or d.name is None or d.signature_end is None:
            continue
        if d.start < header_end:
            continue
        line = text.count("\n", 0, d.start) + 1
        problem = Problem(
            name=d.name,
            header=header,
            statement=text[d.keyword_start : d.signature_end],
            origin=f"line {line}",
            theorem_name=d.name,
        )
        # modifiers, attributes, docs and `... in` prefixes before the keyword stay aux
        aux = text[header_end : d.keyword_start]
        proof = text[d.signature_end : d.end].strip()
        theorems.append(FileTheorem(problem, Candidate(proof=proof, aux=aux)))
    return header, theorems


# ---------------------------------------------------------------------------------------------
# Proof sketches: filling a `sorry` hole with a proof (search.strategy: decompose)

# What may come right before a `sorry` that stands where a tactic goes; anywhere else (after
# `:=`, `exact`, a function, an opening bracket, a comma, `fun x =>`) it is a term.
_TACTIC_BEFORE = frozenset(("by", "·", ".", ";", "<;>"))


def _tactic_position(proof: str, start: int) -> bool:
    """Whether the `sorry` at `start` is a tactic: after `by`, a bullet, `;` or `<;>`; after a
    `case`/`next`/alternative `=>` (not a `fun x =>`); or first on its line no deeper than the
    line before it (the next tactic of a block, not a continued term)."""
    before = code_tokens(proof[:start])
    if not before:
        return True
    last = before[-1]
    if last.text in _TACTIC_BEFORE:
        return True
    line_start = proof.rfind("\n", 0, start) + 1
    if last.text == "=>":
        on_line = [t.text for t in before if t.start >= proof.rfind("\n", 0, last.start) + 1]
        return not any(t in ("fun", "λ", "match") for t in on_line)
    if last.start >= line_start:  # something of its own line comes before it
        return False
    previous = proof[proof.rfind("\n", 0, last.start) + 1 : last.end]
    indent = len(previous) - len(previous.lstrip())
    return start - line_start <= indent and last.text not in (":=", "(", "⟨", "[", ",", "|")


def proof_lines(proof: str) -> list[str]:
    """A proof as extraction gives it (`by` and tactics, or a term) as tactic lines, the first
    line at relative column 0 and each later line indented relative to it: a tactic sequence
    keeps its layout; a tactic or term on the `by` line keeps its continuation lines to the
    right of it (Lean reads a line at the first tactic's column as the next tactic)."""
    toks = code_tokens(proof)
    tactics = bool(toks) and toks[0].text == "by"
    rest = proof[toks[0].end :] if tactics else "exact " + proof.lstrip()
    first, _, tail = rest.partition("\n")
    later = [ln.rstrip() for ln in tail.split("\n")] if tail else []
    indents = [len(ln) - len(ln.lstrip()) for ln in later if ln.strip()]
    cut = min(indents) if indents else 0
    later = [ln[cut:] for ln in later]
    while later and not later[-1].strip():
        later.pop()
    if first.strip():  # `by tac ...`: the next lines continue that tactic
        return [first.strip()] + [("  " + ln) if ln else "" for ln in later]
    while later and not later[0].strip():
        later.pop(0)
    return later or ["skip"]


def fill_hole(proof: str, start: int, end: int, lines: list[str]) -> tuple[str, int, int]:
    """`proof` with its `sorry` at [start, end) replaced by the tactic `lines` (proof_lines),
    in the form the position needs: `(tactics)` where a tactic goes, `(by tactics)` where a
    term goes. Returns the new proof and where the replacement lies in it."""
    opener = "(" if _tactic_position(proof, start) else "(by "
    line_start = proof.rfind("\n", 0, start) + 1
    column = start - line_start + len(opener)  # code points, as Lean counts columns
    pad = "\n" + " " * column
    body = lines[0] + "".join(pad + ln if ln else "\n" for ln in lines[1:])
    # a closing parenthesis after a line comment would be commented out
    closer = (pad + ")") if "--" in lines[-1] else ")"
    text = opener + body + closer
    return proof[:start] + text + proof[end:], start, start + len(text)
