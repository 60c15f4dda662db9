"""Suite files -> `Problem`s: JSONL/JSON records, Lean files, directories of Lean files.

Every format goes through one Lean-text reader (`parse_lean_text`), so the same rules apply
whether a theorem sits in a `.lean` file, in a JSONL `formal_statement`, or behind a `header`
field:

* header: the leading `import` / `set_option` / `open` / `noncomputable section` lines (with the
  blank lines and plain comments between them), verbatim; it ends with a newline. Comments
  after the last of them are dropped (they can hold an answer).
* context: the declarations between the header and the theorem (helper `def`s, `structure`s,
  proven lemmas, answer-hole `abbrev ..._solution := sorry`), verbatim, minus the ground-truth
  `-- answer` comment that follows an answer hole (kept in `Problem.answer_reference`).
* statement: the theorem from its first token through the `:=` that ends its signature. The
  proof part (`by`, `sorry`, `by sorry`, `by\\n  sorry`, nothing) is dropped, so every ending
  seen in the wild normalises to the same text. The theorem's docstring is not part of the
  statement: it becomes `Problem.informal` when the record has no informal text of its own.
* context also holds earlier theorems and lemmas of the same text, but only those the statement
  (or the rest of the context) names.

What counts as a theorem to prove: a `theorem`, `lemma` or named `instance` whose body is empty
or `sorry` (with or without `by`), or a `def`/`abbrev` with such a body whose name does not end
in `_solution` (FormalMATH has one `def problem ... := by`). A declaration with a real proof is
context. Loaders return problems in file order; names are made unique by `unique_names`.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import SuiteError
from harness.types import Problem

__all__ = [
    "LeanDecl",
    "ParsedLean",
    "parse_lean_text",
    "normalise_statement",
    "load_path",
    "load_jsonl",
    "load_json",
    "load_records",
    "load_lean_file",
    "load_lean_dir",
    "unique_names",
    "split_from_dirname",
]

log = logging.getLogger("harness.suites")

# ---------------------------------------------------------------------------------------------
# Reading Lean text

_DECL_KEYWORDS = (
    "theorem",
    "lemma",
    "def",
    "abbrev",
    "instance",
    "example",
    "structure",
    "class",
    "inductive",
    "axiom",
    "opaque",
)
_COMMAND_KEYWORDS = frozenset(
    _DECL_KEYWORDS
    + (
        "import",
        "open",
        "set_option",
        "namespace",
        "section",
        "end",
        "variable",
        "universe",
        "noncomputable",
        "private",
        "protected",
        "partial",
        "unsafe",
        "nonrec",
        "attribute",
        "macro",
        "macro_rules",
        "syntax",
        "notation",
        "infix",
        "infixl",
        "infixr",
        "prefix",
        "postfix",
        "local",
        "scoped",
        "elab",
        "mutual",
        "export",
        "deriving",
        "initialize",
        "#eval",
        "#check",
        "#print",
        "#reduce",
        "#exit",
    )
)
_MODIFIERS = ("private", "protected", "noncomputable", "partial", "unsafe", "nonrec")
_COMMAND_START = re.compile(r"([ \t]*)(@\[|#?[A-Za-z_]+)")
# Declarations may be indented (CombiBench has ` theorem imo_2022_p1`); other commands may not,
# since `open X in` / `set_option ... in` also occur inside tactic blocks.
_INDENTABLE = frozenset(_DECL_KEYWORDS + _MODIFIERS + ("@[",))
_DECL_HEAD = re.compile(
    r"\s*(?:(?:open|set_option)\b[^\n]*\bin\s+)*(?:@\[[^\]]*\]\s*)*(?:(?:"
    + "|".join(_MODIFIERS)
    + r")\s+)*"
    r"(" + "|".join(_DECL_KEYWORDS) + r")\b[ \t]*([^\s:({\[⦃]+)?"
)
_ONLY_MODIFIERS = re.compile(r"\s*(?:(?:@\[[^\]]*\]|" + "|".join(_MODIFIERS) + r")\s*)+")
_PREFIX_IN = re.compile(r"\s*(?:open|set_option)\b.*\bin\s*")
_HEADER_COMMAND = re.compile(r"\s*(?:import|set_option|open|noncomputable\s+section)\b[^\n]*\s*")
_SORRY_BODIES = ((), ("sorry",), ("by",), ("by", "sorry"), ("by", "sorry", ";"))
_IDENT_CHAR = re.compile(r"[\w'!?₀-₉ₐ-ₜᵢ-ᵪ.]")
_BINDER_WORD = re.compile(r"(?:letI|haveI|let|have)\s")
_CHAR_LITERAL = re.compile(r"'(?:\\.|[^\\'\n])'")


@dataclass(frozen=True)
class LeanDecl:
    """One top-level command of a Lean text (a declaration, or any other command)."""

    kind: str  # "theorem", "def", ... or "command" for anything else
    name: str | None
    start: int  # offset of the command itself (after its docstring)
    end: int  # offset where the next command (or its docstring) begins
    doc_start: int | None  # offset of the docstring that belongs to it
    doc: str | None  # the docstring's text, without `/--` and `-/`
    sig_end: int | None  # offset just past the `:=` that ends the signature
    body_tokens: tuple[str, ...]  # the body with comments removed, split on whitespace
    line: int  # 1-based line of `start`

    @property
    def sorry_body(self) -> bool:
        return self.sig_end is not None and self.body_tokens in _SORRY_BODIES

    @property
    def is_answer_hole(self) -> bool:
        return (
            self.kind in ("abbrev", "def")
            and (self.name or "").endswith("_solution")
            and self.sorry_body
        )

    @property
    def is_problem(self) -> bool:
        if not self.sorry_body or self.is_answer_hole:
            return False
        if self.kind in ("theorem", "lemma"):
            return True
        return self.kind in ("instance", "def", "abbrev") and self.name is not None


@dataclass(frozen=True)
class ParsedLean:
    text: str
    header_end: int
    decls: tuple[LeanDecl, ...]

    @property
    def header(self) -> str:
        return self.text[: self.header_end]


def _mask(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Blank out comments and string/char literals (newlines kept, offsets unchanged).

    Returns the masked text and the block comments found: (start, end, kind) with kind
    "doc" (`/--`), "module" (`/-!`) or "plain".
    """
    out = list(text)
    comments: list[tuple[int, int, str]] = []
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and text.startswith("/-", i):
            kind = (
                "doc"
                if text.startswith("/--", i)
                else "module"
                if text.startswith("/-!", i)
                else "plain"
            )
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            comments.append((i, j, kind))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            blank(i, j)
            i = j
        elif c == "'" and (i == 0 or not _IDENT_CHAR.match(text[i - 1])):
            m = _CHAR_LITERAL.match(text, i)
            if m:
                blank(i, m.end())
                i = m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out), comments


def _signature_end(masked: str, start: int, end: int) -> int | None:
    """Offset just past the `:=` that ends a declaration's signature in masked[start:end].

    That is the first `:=` at bracket depth 0 not taken by a `let`/`have` inside the type
    (`theorem t : let m := n; m = n := by`). Without one (unbalanced brackets upstream, as in
    one rahul3613 ProofNet row), the last `:=` of the declaration is taken.
    """
    depth = 0
    pending = 0  # `let`/`have` at depth 0 still waiting for their own `:=`
    last = None
    i = start
    while i < end:
        c = masked[i]
        if c in "([{⟨⦃":
            depth += 1
        elif c in ")]}⟩⦄":
            depth = max(0, depth - 1)
        elif c == ":" and masked.startswith(":=", i):
            last = i + 2
            if depth == 0:
                if not pending:
                    return i + 2
                pending -= 1
            i += 2
            continue
        elif depth == 0 and c in "lh" and _BINDER_WORD.match(masked, i):
            if i == start or not _IDENT_CHAR.match(masked[i - 1]):
                pending += 1
        i += 1
    return last


def _doc_text(raw: str) -> str:
    body = raw[3:-2] if raw.endswith("-/") else raw[3:]
    return body.strip()


def parse_lean_text(text: str) -> ParsedLean:
    """Split Lean source into its header and its top-level commands."""
    masked, comments = _mask(text)
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    # A command starts at column 0 with a command keyword (declarations may be indented);
    # every other line continues the command before it.
    starts: list[int] = []
    for pos in line_starts:
        m = _COMMAND_START.match(masked, pos)
        if not m or not (m.group(2) == "@[" or m.group(2) in _COMMAND_KEYWORDS):
            continue
        if m.group(1) and m.group(2) not in _INDENTABLE:
            continue
        starts.append(m.start(2))

    # Merge `@[simp]` / `private` lines and `open X in` prefixes into the command they modify.
    merged: list[int] = []
    absorb = False
    for k, pos in enumerate(starts):
        nxt = starts[k + 1] if k + 1 < len(starts) else len(text)
        if not absorb:
            merged.append(pos)
        chunk = masked[pos:nxt]
        absorb = k + 1 < len(starts) and bool(
            _ONLY_MODIFIERS.fullmatch(chunk) or _PREFIX_IN.fullmatch(chunk)
        )
    starts = merged

    docs = {end: (start, kind) for start, end, kind in comments}
    decls: list[LeanDecl] = []
    doc_starts: list[int | None] = []
    for pos in starts:
        # The docstring right before a command (only whitespace between) belongs to it.
        j = pos
        while j > 0 and text[j - 1] in " \t\r\n":
            j -= 1
        found = docs.get(j)
        doc_starts.append(found[0] if found and found[1] in ("doc", "module") else None)
    for k, pos in enumerate(starts):
        end = len(text)
        if k + 1 < len(starts):
            end = doc_starts[k + 1] if doc_starts[k + 1] is not None else starts[k + 1]
        m = _DECL_HEAD.match(masked, pos)
        kind = m.group(1) if m else "command"
        name = m.group(2) if m else None
        sig_end = _signature_end(masked, m.end(), end) if m else None
        body = tuple(masked[sig_end:end].split()) if sig_end is not None else ()
        ds = doc_starts[k]
        doc = None
        if ds is not None:
            doc_end = next(e for s, e, _ in comments if s == ds)
            doc = _doc_text(text[ds:doc_end])
        line = text.count("\n", 0, pos) + 1
        decls.append(LeanDecl(kind, name, pos, end, ds, doc, sig_end, body, line))

    # The header: leading import/option/open commands; it stops at the first other command.
    header_end = 0
    for d in decls:
        if d.kind == "command" and _HEADER_COMMAND.fullmatch(masked, d.start, d.end):
            header_end = d.end
            continue
        header_end = d.doc_start if d.doc_start is not None else d.start
        break
    decls_after = tuple(d for d in decls if d.start >= header_end)
    # Comments after the last header command are not header: Goedel's PutnamBench copy puts the
    # answer there (`-- 1990`), and the header is shown to the model.
    last = len(masked[:header_end].rstrip())
    if last and text[last:header_end].strip():
        header_end = text.index("\n", last) + 1 if "\n" in text[last:header_end] else header_end
    elif not last:
        header_end = 0
    return ParsedLean(text, header_end, decls_after)


def normalise_statement(text: str) -> str:
    """`theorem ... := by sorry` (or any other ending) -> `theorem ... :=`.

    Raises ValueError when the text holds no declaration with a `:=`.
    """
    parsed = parse_lean_text(text)
    for d in parsed.decls:
        if d.sig_end is not None and d.kind != "command":
            return text[d.start : d.sig_end]
    raise ValueError("no declaration with ':=' found")


# ---------------------------------------------------------------------------------------------
# Lean text -> problems


@dataclass(frozen=True)
class _Found:
    """A problem as found in Lean text, before a loader adds name, split and origin."""

    decl: LeanDecl
    header: str
    context: str
    statement: str
    answer_hole: bool
    answer_reference: str | None

    def problem(self, name: str, split: str | None, informal: str | None, origin: str) -> Problem:
        return Problem(
            name=name,
            header=_header_text(self.header),
            statement=self.statement,
            split=split,
            informal=informal,
            context=self.context,
            answer_hole=self.answer_hole,
            origin=origin,
            theorem_name=self.decl.name or "",
            answer_reference=self.answer_reference,
        )


def _strip_answer_comment(chunk: str) -> tuple[str, str | None]:
    """An answer hole's chunk without the `-- answer` comment lines that follow it."""
    lines = chunk.rstrip("\n").split("\n")
    answer: list[str] = []
    while lines and (lines[-1].lstrip().startswith("--") or not lines[-1].strip()):
        line = lines.pop()
        if line.strip():
            answer.append(line.strip()[2:].strip())
    kept = "\n".join(lines) + "\n"
    return kept, ("\n".join(reversed(answer)) or None)


def _tidy(block: str) -> str:
    block = block.strip("\n")
    return block + "\n" if block.strip() else ""


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.']){re.escape(name)}(?![\w'])", text) is not None


def _problems_in(parsed: ParsedLean) -> list[_Found]:
    """The theorems to prove, each with the context declared before it.

    Definitions, structures, instances, opens and answer holes before a theorem are its context.
    Other theorems and lemmas before it (proven helpers, or earlier theorems to prove) are
    context only when its statement or context names them: MOBench's helper lemmas are named by
    the statement, while a monolithic miniF2F file's proven theorems are not. An earlier
    theorem to prove keeps its `sorry` there (CombiBench's `imo_2019_p5_2` names
    `imo_2019_p5_1`), so such a problem can only be proved soundly together with it.
    """
    text = parsed.text
    found: list[_Found] = []
    parts: list[tuple[str, str | None]] = []  # (chunk, theorem name when it is a theorem)
    answer_reference: str | None = None
    hole = False
    for d in parsed.decls:
        chunk = text[d.doc_start if d.doc_start is not None else d.start : d.end]
        theorem_like = d.kind in ("theorem", "lemma") and d.name
        if d.is_problem:
            statement = text[d.start : d.sig_end]
            base = "".join(c for c, name in parts if name is None)
            context = "".join(
                c for c, name in parts if name is None or _mentions(statement + base, name)
            )
            found.append(
                _Found(d, parsed.header, _tidy(context), statement, hole, answer_reference)
            )
            parts.append((chunk, d.name or ""))
            continue
        if d.is_answer_hole:
            chunk, answer = _strip_answer_comment(chunk)
            hole = True
            answer_reference = answer or answer_reference
            chunk += "\n"
        parts.append((chunk, d.name if theorem_like else None))
    return found


def _header_text(header: str) -> str:
    return header if not header or header.endswith("\n") else header + "\n"


# ---------------------------------------------------------------------------------------------
# Records (JSONL / JSON)

_NAME_KEYS = ("name", "problem_id", "theorem_names", "theorem_name", "full_name", "id")
_STATEMENT_KEYS = ("formal_statement", "autoformalization")
_INFORMAL_KEYS = (
    "informal",
    "informal_prefix",
    "informal_statement",
    "refined_statement",
    "informal_stmt",
    "natural_language",
)


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value.strip() and value != "null":
            return value
    others = record.get("others")
    if isinstance(others, dict):
        for key in keys:
            value = others.get(key)
            if isinstance(value, str) and value.strip() and value != "null":
                return value
    return None


def _informal_text(raw: str | None) -> str | None:
    if raw is None:
        return None
    s = raw.strip()
    for opener in ("/--", "/-!", "/-"):
        if s.startswith(opener) and s.endswith("-/"):
            s = s[len(opener) : -2]
            break
    s = s.strip()
    return s or None


def record_to_problems(record: Any, path: str, line: int) -> list[Problem]:
    """One DeepSeek-style record (or any of its variants) -> its problem(s).

    A record normally holds one theorem to prove and is named by its `name` field. One that
    holds several (CombiBench's imo_2019_p5 in the ATF copy) gives one problem per theorem,
    each named by its theorem.
    """
    if not isinstance(record, dict):
        raise SuiteError(path, line, f"expected a JSON object, got {type(record).__name__}")
    statement_text = _first(record, _STATEMENT_KEYS)
    if statement_text is None:
        wrong = next((k for k in _STATEMENT_KEYS if record.get(k) is not None), None)
        if wrong is not None:
            raise SuiteError(path, line, f"field '{wrong}' is empty or not a string")
        raise SuiteError(path, line, "missing field 'formal_statement'")
    header_field = record.get("header")
    if header_field is None and isinstance(record.get("others"), dict):
        header_field = record["others"].get("header")
    if header_field is not None and not isinstance(header_field, str):
        raise SuiteError(path, line, "field 'header' is not a string")
    header_field = header_field or ""
    if header_field and not header_field.endswith("\n"):
        header_field += "\n"
    # ProverBench repeats the whole header inside formal_statement: take it once.
    if header_field and statement_text.startswith(header_field):
        header_field = ""
    found = _problems_in(parse_lean_text(header_field + statement_text))
    name = _first(record, _NAME_KEYS)
    if not found:
        raise SuiteError(
            path,
            line,
            f"{name or 'record'}: no theorem to prove (`theorem NAME ... :=` ending in sorry/by)",
        )
    split = record.get("split")
    if split is not None and not isinstance(split, str):
        raise SuiteError(path, line, "field 'split' is not a string")
    informal = _informal_text(_first(record, _INFORMAL_KEYS))
    problems = []
    for f in found:
        own_name = name if len(found) == 1 and name else f.decl.name or f"line{line}"
        problems.append(
            f.problem(own_name, split or None, informal or f.decl.doc, f"{path}:{line}")
        )
    return problems


def load_jsonl(path: str | Path) -> list[Problem]:
    path = str(path)
    problems: list[Problem] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for lineno, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise SuiteError(
                        path, lineno, f"not valid JSON ({exc.msg}, column {exc.colno})"
                    ) from None
                problems.extend(record_to_problems(record, path, lineno))
    except UnicodeDecodeError as exc:
        raise SuiteError(path, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise SuiteError(path, None, f"cannot read ({exc.strerror or exc})") from None
    if not problems:
        raise SuiteError(path, None, "no records (an empty suite file)")
    return problems


def _json_items_with_lines(text: str, path: str) -> list[tuple[Any, int]]:
    """The elements of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\r\n]*")
    i = ws.match(text, 0).end()
    if not text.startswith("[", i):
        raise SuiteError(path, 1, "expected a JSON list of records")
    i = ws.match(text, i + 1).end()
    items: list[tuple[Any, int]] = []
    if text.startswith("]", i):
        return items
    while True:
        line = text.count("\n", 0, i) + 1
        try:
            value, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise SuiteError(
                path, exc.lineno, f"not valid JSON ({exc.msg}, column {exc.colno})"
            ) from None
        items.append((value, line))
        i = ws.match(text, i).end()
        if text.startswith(",", i):
            i = ws.match(text, i + 1).end()
            continue
        if text.startswith("]", i):
            return items
        raise SuiteError(path, text.count("\n", 0, i) + 1, "not valid JSON (expected ',' or ']')")


def load_json(path: str | Path) -> list[Problem]:
    """A JSON list of records (DeepSeek fields, FormalMATH's `autoformalization`, ...), or a
    LeanDojo Benchmark file (records with `url`, `commit`, `file_path`, `full_name`, `start`)."""
    path = str(path)
    text = _read_text(path)
    items = _json_items_with_lines(text, path)
    if not items:
        raise SuiteError(path, None, "no records (an empty JSON list)")
    if (
        items
        and isinstance(items[0][0], dict)
        and {"file_path", "full_name", "start"} <= set(items[0][0])
    ):
        from harness.suites.dojo import load_leandojo_records

        return load_leandojo_records(items, path)
    return [p for record, line in items for p in record_to_problems(record, path, line)]


def load_records(records: list[dict[str, Any]], origin: str) -> list[Problem]:
    """Records already in memory (e.g. written by `from-repo`) -> problems."""
    return [p for i, r in enumerate(records, start=1) for p in record_to_problems(r, origin, i)]


# ---------------------------------------------------------------------------------------------
# Lean files and directories


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError as exc:
        raise SuiteError(path, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise SuiteError(path, None, f"cannot read ({exc.strerror or exc})") from None


def _lean_problems(text: str, path: str, split: str | None) -> list[Problem]:
    return [
        f.problem(f.decl.name or f"line{f.decl.line}", split, f.decl.doc, f"{path}:{f.decl.line}")
        for f in _problems_in(parse_lean_text(text))
    ]


def load_lean_file(path: str | Path, split: str | None = None) -> list[Problem]:
    """A Lean file holding one or many theorems to prove."""
    path = str(path)
    problems = _lean_problems(_read_text(path), path, split)
    if not problems:
        raise SuiteError(path, None, "no theorem to prove (expected `theorem NAME ... := sorry`)")
    return problems


_SPLIT_NAMES = {
    "test": "test",
    "valid": "valid",
    "validation": "valid",
    "val": "valid",
    "dev": "valid",
    "train": "train",
}


def split_from_dirname(name: str) -> str | None:
    return _SPLIT_NAMES.get(name.lower())


def _is_import_index(text: str) -> bool:
    """A file of imports only (as yangky11's `MiniF2F/Test.lean`): not a problem file."""
    parsed = parse_lean_text(text)
    return not parsed.decls


def load_lean_dir(
    path: str | Path, pattern: str = "*.lean", split: str | None = None
) -> list[Problem]:
    """A directory of Lean files, in name order.

    Files directly in the directory are read (an imports-only index file is skipped); so are the
    files of subdirectories named like a split (`Test`, `Valid`, ...), whose name becomes the
    problems' split. Other subdirectories (CombiBench's `with_solution/`) are not read.
    """
    root = Path(path)
    if split is None:
        split = split_from_dirname(root.name)
    problems: list[Problem] = []
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise SuiteError(str(root), None, f"cannot list ({exc.strerror or exc})") from None
    files = [p for p in entries if p.is_file() and fnmatch.fnmatch(p.name, pattern)]
    for file in files:
        text = _read_text(str(file))
        if _is_import_index(text):
            continue
        found = _lean_problems(text, str(file), split)
        if not found:
            raise SuiteError(
                str(file), None, "no theorem to prove (expected `theorem NAME ... := sorry`)"
            )
        problems.extend(found)
    for sub in (p for p in entries if p.is_dir()):
        sub_split = split_from_dirname(sub.name)
        if sub_split is not None:
            problems.extend(load_lean_dir(sub, pattern, sub_split))
    if not problems:
        raise SuiteError(
            str(root), None, f"no Lean files matching {pattern} with theorems to prove"
        )
    return problems


def load_path(path: str | Path) -> list[Problem]:
    """Any suite file or directory, by its kind (names not yet made unique)."""
    p = Path(path)
    if p.is_dir():
        return load_lean_dir(p)
    if not p.exists():
        raise SuiteError(str(p), None, "no such file or directory")
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        return load_jsonl(p)
    if suffix == ".json":
        return load_json(p)
    if suffix == ".lean":
        return load_lean_file(p)
    raise SuiteError(
        str(p), None, "unknown suite format (expected .jsonl, .json, .lean or a directory)"
    )


def unique_names(problems: list[Problem], where: str) -> list[Problem]:
    """Repeated names become `name#2`, `name#3`, ... with one warning for the whole suite."""
    seen: dict[str, int] = {}
    out: list[Problem] = []
    renamed: list[str] = []
    for p in problems:
        count = seen.get(p.name, 0) + 1
        seen[p.name] = count
        if count > 1:
            new = f"{p.name}#{count}"
            renamed.append(f"{p.name} -> {new}")
            p = replace(p, name=new, theorem_name=p.theorem_name or p.name)
        out.append(p)
    if renamed:
        examples = ", ".join(renamed[:3])
        more = f", ... ({len(renamed)} in all)" if len(renamed) > 3 else ""
        log.warning("%s: repeated problem names renamed: %s%s", where, examples, more)
    return out
