"""Answer text -> the Lean code to check: `extract_proof(text, theorem_name) -> Candidate | NoProof`.

Pure and total: any string gives a `Candidate` or a `NoProof` with a short reason, never an
exception. What it returns is spliced by `soundness/splice.py` after the suite's *original*
statement, so the model's own restatement of the theorem is only used to find where its proof
starts; it is never checked. The Lean text is read by `harness/lean_text.py`; this module reads
the markdown and prose around it.

How an answer is read (the first rule that applies):

1. **Continuation** (raw-completion prompts that end inside an open fence after `:= by`, as
   DeepSeek-Prover-V1.5 and Goedel-Prover-SFT are prompted): the answer does not start with a
   fence, prose or a Lean command, but with tactic text or a comment (`nlinarith [...]`,
   `have h : ...`, `-- We ...`, `/- ... -/`). The proof body is the text up to the first fence
   line (the model closing the block) or the first column-0 Lean command (`theorem`, `/--`,
   `lemma`, ...) or prose line after the first line, whichever comes first, as
   DeepSeek-Prover-V1.5's `post_process_output` cuts at the first fence. It becomes
   `by\n  <body>` (the first line gets the indentation of the lines below it, which the prompt's
   own `  ` supplied).
2. **Code without fences**: the answer starts with a Lean command (`import`, `theorem`, `/--`,
   ...): the text up to the first fence line is the code (a bare `.lean` file).
3. **Fenced** (chat answers): the code is the *last* ```` ```lean4 ````/```` ```lean ````/
   untagged block that declares the main theorem, so a CoT answer's `sorry` sketch before the
   final block is never taken. Blocks tagged with another language (```` ```tactics ````,
   ```` ```python ````) are ignored unless there is nothing else. A block whose closing fence
   never came (a truncated answer) runs to the end of the text; when the last block is such a
   cut-off block and lacks the theorem, the answer has no proof (never fall back to a sketch).
   If the last block declares nothing at all, it is taken as the proof itself (answers that
   give only the tactic script).

Inside the chosen code (its top-level commands as `lean_text.declarations` reads them): the main
theorem is the last `theorem`/`lemma` named `theorem_name` (when given, compared by name parts:
`Foo.name` and `_root_.name` match `name`; else the last `theorem`/`lemma`, else the last
`example`). Its proof is the text after the `:=` that ends its signature (not one inside
brackets, such as `(n := 5)` or `{ x := 1 }`, nor the `:=` of a `let`/`have` in the statement)
up to the next command. Equation-compiler proofs (`| 0 => ...` with no `:=`) give `NoProof`.
`preamble` is the code before its first command other than `import`/`set_option`/`open`
(comments included); `aux` is everything from there to the main theorem's start (its doc
comment, attributes and modifiers belong to the theorem and are dropped with it), then its
`open ... in`/`set_option ... in` prefixes (they scope the proof, so they are kept, screened
and checked), or "" when that is only comments.
"""

from __future__ import annotations

import re
import textwrap

from harness.lean_text import (
    COMMAND_KEYWORDS,
    DOC,
    MODIFIERS,
    Declaration,
    code_tokens,
    declarations,
    ident_parts,
    tokenize,
)
from harness.types import Candidate, NoProof

__all__ = ["extract_proof"]

_LEAN_TAGS = {"", "lean", "lean4", "lean3"}
_PREAMBLE_COMMANDS = {"import", "set_option", "open"}
# A first line that reads as English (or markdown, or a <think> tag) rather than Lean.
_PROSE_START = re.compile(
    r"^\s*(<|#{1,6}\s|\*\*|[A-Z][a-z]*[,:]?\s|[A-Z][a-z]+$|\d+[.)]\s|\$|>|"
    r"(we|the|to|here|this|now|so|i|let's|in|it|since|note|our|thus|therefore|given|"
    r"consider|a|an|proof|solution|answer|step|"
    # a bare answer of prose ("no idea"): words no tactic begins with (not `first`, `next`,
    # `show`, `let`, `sorry`, which are tactics)
    r"no|not|yes|maybe|perhaps|unfortunately|cannot|can't|don't|unable|sure|okay|ok|well|"
    r"hmm|clearly|obviously|hence|finally|because|there|what|how|why|is|are|my|you)"
    r"\b[^_.'₀-₉])",
)


# ---------------------------------------------------------------------------------------------
# Markdown: fenced blocks.


class _Block:
    __slots__ = ("tag", "text", "closed")

    def __init__(self, tag: str, text: str, closed: bool) -> None:
        self.tag = tag
        self.text = text
        self.closed = closed


# A whole line that is a fence (group 1: the tag of an opening fence)
_FENCE = re.compile(r" {0,3}```+\s*([^\s`]*)[^`]*")


def _blocks(text: str) -> list[_Block]:
    """Fenced code blocks. An opening fence inside an open block (a model that forgot to close
    one) ends it and opens the next; a block never closed runs to the end of the text."""
    blocks: list[_Block] = []
    tag: str | None = None  # the open block's tag
    lines: list[str] = []
    for line in text.split("\n"):
        m = _FENCE.fullmatch(line)
        if tag is None:
            if m:
                tag, lines = m.group(1).lower(), []
        elif m:
            blocks.append(_Block(tag, "\n".join(lines), True))
            tag, lines = (m.group(1).lower() or None), []
        else:
            lines.append(line)
    if tag is not None:
        blocks.append(_Block(tag, "\n".join(lines), False))
    return blocks


def _first_fence(text: str) -> int | None:
    """Offset of the first fence line, or None."""
    offset = 0
    for line in text.split("\n"):
        if _FENCE.fullmatch(line):
            return offset
        offset += len(line) + 1
    return None


# ---------------------------------------------------------------------------------------------
# Reading one piece of Lean code.


def _same_name(found: str | None, wanted: str) -> bool:
    """`Foo.name`, `_root_.name` and `«name»` are `name`."""
    if found is None:
        return False
    parts = ident_parts(wanted)
    return ident_parts(found)[-len(parts) :] == parts


def _commands(code: str) -> list[Declaration]:
    """The top-level commands of `code`; a module doc (`/-! ... -/`) is only a comment here."""
    return [d for d in declarations(code) if not d.keyword.startswith("/-!")]


def _main_theorem(decls: list[Declaration], theorem_name: str | None) -> int | None:
    """Index into `decls` of the main theorem."""
    best = example = None
    for i, d in enumerate(decls):
        if d.keyword == "example":
            example = i
        elif d.keyword in ("theorem", "lemma"):
            if theorem_name is None or _same_name(d.name, theorem_name):
                best = i
    return example if best is None and theorem_name is None else best


def _has_equations(code: str, d: Declaration) -> bool:
    """A `|` first on its line: `| 0 => ...` alternatives instead of `:=`."""
    toks = code_tokens(code[d.keyword_start : d.end])
    return any(t.text == "|" and (i == 0 or toks[i - 1].line < t.line) for i, t in enumerate(toks))


def _from_code(code: str, theorem_name: str | None, note: str) -> Candidate | NoProof:
    decls = _commands(code)
    main = _main_theorem(decls, theorem_name)
    if main is None:
        if theorem_name is not None and any(d.keyword in ("theorem", "lemma") for d in decls):
            return NoProof(f"no theorem named {theorem_name} in the code")
        return NoProof("no theorem or lemma in the Lean code")
    d = decls[main]
    shown = d.name or "the example"
    if d.signature_end is None:
        if _has_equations(code, d):
            return NoProof(f"{shown} is proved by pattern matching (`| ... =>`), not after `:=`")
        return NoProof(f"the statement of {shown} has no `:=` (answer cut off?)")
    proof = code[d.signature_end : d.end].strip()
    if not code_tokens(proof):
        return NoProof(f"{shown} has nothing after `:=`")
    first = next(
        (e.start for e in decls[:main] if e.keyword not in _PREAMBLE_COMMANDS or e.scoped_prefix),
        d.start,
    )
    aux = code[first : d.start].strip()
    if d.scoped_prefix:  # `open X in`/`set_option ... in` scope the proof too: they stay aux
        aux = (aux + "\n" + code[d.decl_start : d.prefix_end]).strip()
    extra = len(decls) - main - 1
    if extra:
        note += f"; ignored {extra} command(s) after the main theorem"
    return Candidate(
        proof=proof,
        aux=aux if code_tokens(aux) else "",
        preamble=code[:first].strip(),
        note=note,
        statement=code[d.start : d.signature_end].strip(),
    )


def _starts_with_command(code: str) -> bool:
    """The first thing in `code` past comments is a command (or its doc comment) at column 0."""
    word = code.lstrip().split(maxsplit=1)[0] if code.strip() else ""
    if word[:1].isalpha() and word not in COMMAND_KEYWORDS and word not in MODIFIERS:
        return False  # prose (most chat answers): not worth reading as Lean
    first = next((t for t in tokenize(code) if t.is_code or t.kind == DOC), None)
    decls = declarations(code)
    return first is not None and first.col == 0 and bool(decls) and decls[0].start == first.start


# ---------------------------------------------------------------------------------------------
# Continuations and proof-only blocks.


def _looks_like_tactics(line: str) -> bool:
    stripped = line.strip()
    if not stripped or _PROSE_START.match(stripped):
        return False
    if stripped.startswith(("--", "/-", "·", "<;>", "(", "⟨", "{", "_", "|", "case ", "next ")):
        return True
    return bool(re.match(r"[a-z_][A-Za-z0-9_'!?.₀-₉]*(\s|$|\[|\(|⟨)", stripped))


def _as_tactic_proof(body: str) -> str | None:
    """`by` + a tactic script whose first line lost its indentation; None if empty."""
    if not code_tokens(body):
        return None
    body = body.rstrip()
    stripped = body.lstrip()
    if re.match(r"by(\s|$)", stripped):
        return stripped
    if stripped.startswith(":="):
        rest = stripped[2:].lstrip()
        return rest or None
    lines = body.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    # A column-0 comment after the script is the model's remark, not part of the block.
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].startswith("--")):
        lines.pop()
    first, rest = lines[0], lines[1:]
    # Comments may sit at any column; only code lines tell the script's indentation.
    indents = [
        len(ln) - len(ln.lstrip(" "))
        for ln in rest
        if ln.strip() and not ln.lstrip().startswith("--")
    ]
    if first[:1] not in (" ", "\t") and indents and min(indents) > 0:
        lines = [" " * min(indents) + first, *rest]
    else:
        lines = [first, *rest]
    script = "\n".join(lines)
    if not script.startswith((" ", "\t")):
        script = textwrap.indent(script, "  ", lambda ln: bool(ln.strip()))
    return "by\n" + script


def _continuation(text: str) -> Candidate | NoProof:
    fence = _first_fence(text)
    body = text if fence is None else text[:fence]
    commands = {d.start for d in declarations(body)}
    cut = len(body)
    note = "continuation of an open code block"
    # the lines after the first that begin with a token at column 0 (not inside a comment)
    for t in tokenize(body):
        if t.col != 0 or t.line == 1:
            continue
        line_end = body.find("\n", t.start)
        line = body[t.start : len(body) if line_end < 0 else line_end]
        if (
            t.start in commands
            or t.kind == DOC  # a doc comment at column 0 documents a command, or is a remark
            or (_PROSE_START.match(line) and not _looks_like_tactics(line))
        ):
            cut = t.start
            note += "; stopped where the proof ends"
            break
    if fence is not None and cut == len(body):
        note += "; stopped at the closing fence"
    proof = _as_tactic_proof(body[:cut])
    if proof is None:
        return NoProof("the answer continues the code with nothing but comments")
    return Candidate(proof=proof, note=note)


# ---------------------------------------------------------------------------------------------


def extract_proof(text: str, theorem_name: str | None = None) -> Candidate | NoProof:
    """The proof (and auxiliary declarations) in a model answer, or the reason there is none."""
    if not text or not text.strip():
        return NoProof("answer is empty")
    text = text.replace("\r\n", "\n")
    closer = re.search(r"-/[ \t]*\n", text)
    if closer and "/-" not in text[: closer.start()] and "```" not in text[: closer.start()]:
        # The prompt ended inside a comment (an open docstring) and the model finished it.
        text = text[closer.end() :]
        if not text.strip():
            return NoProof("the answer only finishes the prompt's comment")
    fence = _first_fence(text)
    head = text if fence is None else text[:fence]
    first = next((ln for ln in head.split("\n") if ln.strip()), "")
    bare: NoProof | None = None
    if first == first.lstrip() and not _PROSE_START.match(first) and _starts_with_command(head):
        found = _from_code(head, theorem_name, "Lean code without fences")
        if isinstance(found, Candidate) or fence is None:
            return found
        bare = found  # prose that happens to start with "theorem ...": try the fenced blocks
    elif _looks_like_tactics(first):
        return _continuation(text)
    found = _fenced(text, theorem_name)
    return bare if bare is not None and isinstance(found, NoProof) else found


def _fenced(text: str, theorem_name: str | None) -> Candidate | NoProof:
    blocks = _blocks(text)
    if not blocks:
        return NoProof("no Lean code block in the answer")
    lean = [b for b in blocks if b.tag in _LEAN_TAGS or b.tag.startswith("lean")]
    pool = lean or blocks
    last = pool[-1]
    count = f"{len(pool)} block{'s' if len(pool) != 1 else ''}"
    for index in range(len(pool) - 1, -1, -1):
        block = pool[index]
        decls = _commands(block.text)
        if _main_theorem(decls, theorem_name) is not None:
            if not block.closed:
                note = f"last code block of {count}, never closed (answer truncated?)"
            elif index == len(pool) - 1:
                note = f"last code block of {count}"
            else:
                note = f"code block {index + 1} of {count}; later blocks declare no such theorem"
            if block is not last and not last.closed:
                return NoProof("the last code block is cut off before the theorem (truncated)")
            return _from_code(block.text, theorem_name, note)
        if block is last and not decls:
            proof = _as_tactic_proof(block.text)
            if proof is not None:
                return Candidate(proof=proof, note=f"last code block of {count} holds only a proof")
    # Nothing declares the theorem: the last block says why (no theorem at all, or another name).
    return _from_code(last.text, theorem_name, "")
