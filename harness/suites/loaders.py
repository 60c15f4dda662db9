"""Suite files -> `Problem`s: JSONL/JSON records, Lean files, directories of Lean files.

Every format reads its Lean text with `harness.lean_text` (`parse_header`, `declarations`), so
the same rules apply whether a theorem sits in a `.lean` file, in a JSONL `formal_statement`,
or behind a `header` field:

* header: the leading `import` / `set_option` / `open` / `universe` / `noncomputable section`
  commands (`parse_header`: the comments between them and the blank lines after them
  included), verbatim; it ends with a newline. Comments after the last of them are dropped
  (they can hold an answer).
* context: the declarations between the header and the theorem (helper `def`s, `structure`s,
  proven lemmas, answer-hole `abbrev ..._solution := sorry`), verbatim, minus the ground-truth
  `-- answer` comment that follows an answer hole (kept in `Problem.answer_reference`).
* statement: the theorem from its first token (attributes, modifiers, `open ... in` included)
  through the `:=` that ends its signature. The proof part (`by`, `sorry`, `by sorry`,
  `by\\n  sorry`, nothing) is dropped, so every ending seen in the wild normalises to the same
  text. The theorem's docstring is not part of the statement: it becomes `Problem.informal` when
  the record has no informal text of its own.
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
from harness.lean_text import (
    IDENT,
    SYMBOL,
    Declaration,
    code_tokens,
    declarations,
    parse_header,
)
from harness.types import Problem

__all__ = [
    "Found",
    "problems_in_text",
    "normalise_statement",
    "load_path",
    "load_jsonl",
    "load_json",
    "read_json_list",
    "load_records",
    "load_lean_file",
    "load_lean_dir",
    "unique_names",
    "split_from_dirname",
]

log = logging.getLogger("harness.suites")

# ---------------------------------------------------------------------------------------------
# Lean text -> problems

_SORRY_BODIES = ((), ("sorry",), ("by",), ("by", "sorry"), ("by", "sorry", ";"))


def _split_header(text: str) -> tuple[str, tuple[Declaration, ...]]:
    """The header (`parse_header`'s; empty when there is no header command) and the commands
    after it.

    Comments after the last header command are not header: Goedel's PutnamBench copy puts the
    answer there (`-- 1990`), and the header is shown to the model. They are in no command's
    text either, so they are dropped.
    """
    header = parse_header(text)
    end = header.body_start if text[: header.body_start].strip() else 0
    return text[:end], tuple(d for d in declarations(text) if d.start >= header.body_start)


def _signature_end(text: str, d: Declaration) -> int | None:
    """Offset just past the `:=` that ends a declaration's signature (None for other commands,
    equations, `where`).

    A declaration whose brackets never close has none; there the last `:=` is taken, so the
    rahul3613 ProofNet JSONL rows cut inside an optional parameter (`(f_a := sorry`) still load
    as a problem, as they always did.
    """
    if d.signature_end is not None or not d.is_declaration:
        return d.signature_end
    toks = code_tokens(text[d.keyword_start : d.end])
    opened = sum(t.kind == SYMBOL and t.text[-1] in "([{⟨⦃⟦" for t in toks)
    closed = sum(t.kind == SYMBOL and t.text in ")]}⟩⦄⟧" for t in toks)
    assigns = [t for t in toks if t.text == ":="]
    if opened <= closed or not assigns:
        return None
    return d.keyword_start + assigns[-1].end


def normalise_statement(text: str) -> str:
    """`theorem ... := by sorry` (or any other ending) -> `theorem ... :=`.

    Raises ValueError when the text holds no declaration with a `:=`.
    """
    for d in declarations(text):
        end = _signature_end(text, d)
        if end is not None:
            return text[d.decl_start : end]
    raise ValueError("no declaration with ':=' found")


@dataclass(frozen=True)
class Found:
    """A problem as found in Lean text, before a loader adds name, split and origin."""

    command: Declaration
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
            theorem_name=self.command.name or "",
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
    """`text` uses `name` (as itself or with a field, `name.mp`), outside comments and strings."""
    return any(
        t.kind == IDENT and (t.text == name or t.text.startswith(name + "."))
        for t in code_tokens(text)
    )


def _role(text: str, d: Declaration) -> str | None:
    """What a command is to the loaders: a "problem" (a theorem to prove), an answer "hole", or
    None (context)."""
    end = _signature_end(text, d)
    if end is None or tuple(t.text for t in code_tokens(text[end : d.end])) not in _SORRY_BODIES:
        return None
    if d.keyword in ("abbrev", "def") and (d.name or "").endswith("_solution"):
        return "hole"
    if d.keyword in ("theorem", "lemma"):
        return "problem"
    return "problem" if d.keyword in ("instance", "def", "abbrev") and d.name else None


def problems_in_text(text: str) -> list[Found]:
    """The theorems to prove in Lean text, each with the header and the context before it.

    Definitions, structures, instances, opens and answer holes before a theorem are its context.
    Other theorems and lemmas before it (proven helpers, or earlier theorems to prove) are
    context only when its statement or context names them: MOBench's helper lemmas are named by
    the statement, while a monolithic miniF2F file's proven theorems are not. An earlier
    theorem to prove keeps its `sorry` there (CombiBench's `imo_2019_p5_2` names
    `imo_2019_p5_1`), so such a problem can only be proved soundly together with it.
    """
    header, commands = _split_header(text)
    found: list[Found] = []
    parts: list[tuple[str, str | None]] = []  # (chunk, theorem name when it is a theorem)
    answer_reference: str | None = None
    hole = False
    for d in commands:
        chunk = text[d.start : d.end]
        role = _role(text, d)
        if role == "problem":
            statement = text[d.decl_start : _signature_end(text, d)]
            base = "".join(c for c, name in parts if name is None)
            context = "".join(
                c
                for c, name in parts
                if name is None or _mentions(statement, name) or _mentions(base, name)
            )
            found.append(Found(d, header, _tidy(context), statement, hole, answer_reference))
            parts.append((chunk, d.name or ""))
            continue
        if role == "hole":
            chunk, answer = _strip_answer_comment(chunk)
            hole = True
            answer_reference = answer or answer_reference
            chunk += "\n"
        theorem_like = d.keyword in ("theorem", "lemma") and d.name is not None
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
    found = problems_in_text(header_field + statement_text)
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
        own_name = name if len(found) == 1 and name else f.command.name or f"line{line}"
        problems.append(
            f.problem(own_name, split or None, informal or f.command.doc, f"{path}:{line}")
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


def read_json_list(path: str | Path) -> list[tuple[Any, int]]:
    """The elements of a JSON file holding a list, each with the line it starts on."""
    path = str(path)
    text = _read_text(path)
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
    """A JSON list of records (DeepSeek fields, FormalMATH's `autoformalization`, ...).

    LeanDojo Benchmark files (records with `file_path`, `full_name`, `start`) are read by
    `harness.suites.dojo`; `load_suite` sends them there."""
    path = str(path)
    items = read_json_list(path)
    if not items:
        raise SuiteError(path, None, "no records (an empty JSON list)")
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
        f.problem(
            f.command.name or f"line{f.command.line}",
            split,
            f.command.doc,
            f"{path}:{f.command.line}",
        )
        for f in problems_in_text(text)
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
    return not _split_header(text)[1]


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
