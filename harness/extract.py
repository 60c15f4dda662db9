"""Answer text -> the Lean code to check: `extract_proof(text, theorem_name) -> Candidate | NoProof`.

Pure and total: any string gives a `Candidate` or a `NoProof` with a short reason, never an
exception. What it returns is spliced by `soundness/splice.py` after the suite's *original*
statement, so the model's own restatement of the theorem is only used to find where its proof
starts; it is never checked.

How an answer is read (the first rule that applies):

1. **Continuation** (raw-completion prompts that end inside an open fence after `:= by`, as
   DeepSeek-Prover-V1.5 and Goedel-Prover-SFT are prompted): the answer does not start with a
   fence, prose or a Lean command, but with tactic text or a comment (`nlinarith [...]`,
   `have h : ...`, `-- We ...`, `/- ... -/`). The proof body is the text up to the first fence
   line (the model closing the block) or the first column-0 Lean command (`theorem`, `/--`,
   `lemma`, ...) after the first line, whichever comes first, as DeepSeek-Prover-V1.5's
   `post_process_output` cuts at the first fence. It becomes `by\n  <body>` (the first line gets
   the indentation of the lines below it, which the prompt's own `  ` supplied).
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

Inside the chosen code: the main theorem is the last `theorem`/`lemma` named `theorem_name`
(when given; else the last `theorem`/`lemma`, else the last `example`). Its proof is the text
after the first `:=` at bracket depth 0 after the name that is not inside a comment, string or
character literal, up to the next column-0 command. A `:=` inside brackets in the statement,
such as an optional argument `(h : x := v)`, is therefore skipped; a bare `let x := v` at depth 0
inside a statement would be mistaken for the end of the statement (not seen in practice).
Equation-compiler proofs (`| 0 => ...` with no `:=`) give `NoProof`. `preamble` is the code's
lines before its first declaration (imports, `set_option`, `open`, comments); `aux` is
everything between the preamble and the main theorem's doc comment/attributes (lemmas, defs,
`open ... in` lemmas, namespaces), or "" when that is only comments.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator

from harness.types import Candidate, NoProof

__all__ = ["extract_proof"]

# Keywords that begin a top-level command when they start a line (after modifiers).
_DECL_KEYWORDS = {
    "theorem",
    "lemma",
    "def",
    "example",
    "abbrev",
    "instance",
    "structure",
    "inductive",
    "class",
    "axiom",
    "opaque",
    "namespace",
    "section",
    "end",
    "variable",
    "universe",
    "attribute",
    "mutual",
    "macro",
    "macro_rules",
    "syntax",
    "elab",
    "notation",
    "infix",
    "infixl",
    "infixr",
    "prefix",
    "postfix",
    "initialize",
    "deriving",
    "omit",
    "include",
    "#eval",
    "#check",
    "#print",
    "#reduce",
    "#exit",
    "#lint",
}
_PREAMBLE_KEYWORDS = {"import", "set_option", "open"}
_MODIFIERS = {
    "noncomputable",
    "private",
    "protected",
    "partial",
    "unsafe",
    "nonrec",
    "local",
    "scoped",
}
_COMMAND_RE = re.compile(r"(#?[A-Za-z_][A-Za-z0-9_]*)")
_LEAN_TAGS = {"", "lean", "lean4", "lean3"}
# A first line that reads as English (or markdown, or a <think> tag) rather than Lean.
_PROSE_START = re.compile(
    r"^\s*(<|#{1,6}\s|\*\*|[A-Z][a-z]*[,:]?\s|[A-Z][a-z]+$|\d+[.)]\s|\$|>|"
    r"(we|the|to|here|this|now|so|i|let's|in|it|since|note|our|thus|therefore|given|"
    r"consider|a|an|proof|solution|answer|step)\b[^_.'₀-₉])",
)


# ---------------------------------------------------------------------------------------------
# A small Lean scanner: enough to skip comments, strings and character literals.


# A `'` right after an identifier character (h') is a prime, never a char literal: the
# lookbehind skips it here (\w is exactly `str.isalnum()` or `_`) instead of in the loop below.
# (It follows the `'`, so every branch starts with a literal the regex engine scans for fast.)
_SPECIAL = re.compile(r"--|/-|\"|'(?<![\w'.!?]')")
_CHAR_LITERAL = re.compile(r"'(\\.[^']{0,8}|[^'\\\n])'")


def _code_mask(code: str) -> bytearray:
    """1 at each index that is Lean code, 0 inside a comment, string or character literal."""
    n = len(code)
    mask = bytearray(b"\x01") * n
    i = 0
    while True:
        m = _SPECIAL.search(code, i)
        if not m:
            return mask
        i = m.start()
        token = m.group()
        if token == "--":
            j = code.find("\n", i)
            j = n if j < 0 else j
        elif token == "/-":
            depth, j = 1, i + 2
            while depth:
                opening = code.find("/-", j)
                closing = code.find("-/", j)
                if closing < 0:
                    j = n
                    break
                if 0 <= opening < closing:
                    depth, j = depth + 1, opening + 2
                else:
                    depth, j = depth - 1, closing + 2
        elif token == '"':
            j = i + 1
            while j < n and code[j] != '"':
                j += 2 if code[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            # 'a' or '\n' is a char literal (a prime after an identifier never gets here)
            lit = _CHAR_LITERAL.match(code, i)
            if not lit:
                i += 1
                continue
            j = lit.end()
        mask[i:j] = bytes(j - i)
        i = j


# A line that can begin a command: a doc comment, an attribute, a keyword or modifier. Found
# as the newline before it (a literal the regex engine scans for fast), the first line apart.
_COMMAND_START = re.compile(r"/--|@\[|#?[A-Za-z_]")
_COMMAND_LINE = re.compile(r"\n(?=/--|@\[|#?[A-Za-z_])")


def _command_line_starts(code: str) -> list[int]:
    starts = [m.end() for m in _COMMAND_LINE.finditer(code)]
    if _COMMAND_START.match(code):
        starts.insert(0, 0)
    return starts


def _line_starts(code: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", code))
    return starts


def _command_at(code: str, pos: int) -> tuple[str, int] | None:
    """The command keyword a line starting at `pos` begins, and the offset just after it.

    Skips a doc comment, attributes and modifiers (`/-- ... -/ @[simp] private lemma`).
    """
    i = pos
    while True:
        if code.startswith("/--", i):
            close = code.find("-/", i + 3)
            if close < 0:
                return None
            i = close + 2
        elif code.startswith("@[", i):
            close = code.find("]", i)
            if close < 0:
                return None
            i = close + 1
        else:
            m = _COMMAND_RE.match(code, i)
            if not m:
                return None
            word = m.group(1)
            if word in _MODIFIERS:
                i = m.end()
            elif word in _DECL_KEYWORDS or word in _PREAMBLE_KEYWORDS:
                return word, m.end()
            else:
                return None
        while i < len(code) and code[i] in " \t\n":
            i += 1


def _commands(code: str, mask: bytearray) -> list[tuple[int, str, int]]:
    """(offset, keyword, offset after the keyword) of every column-0 command in `code` outside
    comments and strings. A doc comment counts as the start of the command it documents."""
    found: list[tuple[int, str, int]] = []
    skip_until = -1
    # Only lines that begin as _command_at can accept (most proof lines are indented tactics)
    for start in _command_line_starts(code):
        if start < skip_until:
            continue
        if code.startswith("/--", start):
            if start > 0 and not mask[start - 1]:
                continue  # inside an enclosing comment or string
        elif not mask[start]:
            continue
        hit = _command_at(code, start)
        if hit:
            found.append((start, hit[0], hit[1]))
            skip_until = hit[1]
    return found


def _code_runs(mask: bytearray, start: int, end: int):
    """(start, end) of each maximal run of code between `start` and `end`."""
    i = start
    while i < end:
        i = mask.find(1, i, end)
        if i < 0:
            return
        j = mask.find(0, i, end)
        j = end if j < 0 else j
        yield i, j
        i = j


def _has_code(code: str, mask: bytearray, start: int, end: int) -> bool:
    return any(not code[i:j].isspace() for i, j in _code_runs(mask, start, end))


_DECL_NAME = re.compile(r"\s+(«[^»]*»|[^\s:({\[⦃]+)")


def _decl_name(code: str, after_keyword: int, keyword: str) -> tuple[str | None, int]:
    """The declared name following a keyword, and the offset after it."""
    if keyword == "example":
        return None, after_keyword
    n = _DECL_NAME.match(code, after_keyword)
    if not n:
        return None, after_keyword
    name = n.group(1)
    if name.startswith("«") and name.endswith("»"):
        name = name[1:-1]
    return name, n.end()


_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⦃": "⦄", "⟦": "⟧"}
_CLOSE = set(_OPEN.values())
# the only characters _statement_end looks at (every other one is skipped)
_BRACKET_OR_ASSIGN = re.compile("[" + re.escape("".join(_OPEN) + "".join(_CLOSE)) + "]|:=")


def _statement_end(code: str, mask: bytearray, start: int, end: int) -> int | None:
    """Offset just after the `:=` that ends the statement (depth 0, not in a comment/string)."""
    depth = 0
    for m in _BRACKET_OR_ASSIGN.finditer(code, start, end):
        i = m.start()
        if mask[i]:
            c = code[i]
            if c in _OPEN:
                depth += 1
            elif c in _CLOSE:
                depth = max(0, depth - 1)
            elif depth == 0:  # `:=`
                return i + 2
    return None


def _only_comments(code: str) -> bool:
    if code[:1] not in ("", "-", "/", '"', "'") and not code[0].isspace():
        return False  # its first character is code (no comment or literal starts there)
    return not _has_code(code, _code_mask(code), 0, len(code))


# ---------------------------------------------------------------------------------------------
# Markdown: fenced blocks.


class _Block:
    __slots__ = ("tag", "text", "closed")

    def __init__(self, tag: str, text: str, closed: bool) -> None:
        self.tag = tag
        self.text = text
        self.closed = closed


# A fence line (opening: its tag in group 1), matched from a line start: never across lines
_FENCE_LINE_AT = re.compile(r" {0,3}```+[^\S\n]*([^\s`]*)[^`\n]*$", re.M)


def _fence_lines(text: str) -> Iterator[re.Match[str]]:
    """The fence lines of `text`, in order: only lines holding a ``` can be one (a quick
    search for the literal, rather than trying the pattern at every line)."""
    pos = 0
    while (hit := text.find("```", pos)) >= 0:
        m = _FENCE_LINE_AT.match(text, text.rfind("\n", 0, hit) + 1)
        if m:
            yield m
            pos = m.end()
        else:
            pos = text.find("\n", hit)
            if pos < 0:
                return


def _blocks(text: str) -> list[_Block]:
    """Fenced code blocks. An opening fence inside an open block (a model that forgot to close
    one) ends it and opens the next; a block never closed runs to the end of the text."""
    blocks: list[_Block] = []
    tag: str | None = None
    body = 0  # offset of the line after the opening fence
    for m in _fence_lines(text):
        if tag is None:
            tag, body = m.group(1).lower(), m.end() + 1
            continue
        # the lines strictly between the fences ("" when they are adjacent)
        blocks.append(_Block(tag, text[body : max(body, m.start() - 1)], True))
        tag = m.group(1).lower() if m.group(1) else None
        body = m.end() + 1
    if tag is not None:
        blocks.append(_Block(tag, text[body:], False))
    return blocks


_FENCE_LINE = re.compile(r"^ {0,3}```+\s*[^\s`]*[^`\n]*$", re.M)


def _first_fence(text: str) -> int | None:
    """Offset of the first fence line, or None."""
    m = _FENCE_LINE.search(text)
    return m.start() if m else None


# ---------------------------------------------------------------------------------------------
# Reading one piece of Lean code.


def _scan(code: str) -> tuple[bytearray, list[tuple[int, str, int]]]:
    mask = _code_mask(code)
    return mask, _commands(code, mask)


def _declares(code: str, theorem_name: str | None, scan) -> bool:
    return _find_main(code, scan[1], theorem_name)[0] is not None


def _find_main(
    code: str, cmds: list[tuple[int, str, int]], theorem_name: str | None
) -> tuple[int | None, str | None]:
    """Index into `cmds` of the main theorem, and its name."""
    best: tuple[int | None, str | None] = (None, None)
    example: tuple[int | None, str | None] = (None, None)
    for idx, (_pos, word, after) in enumerate(cmds):
        if word == "example":
            example = (idx, None)
        elif word in ("theorem", "lemma"):
            name, _ = _decl_name(code, after, word)
            if theorem_name is None or _same_name(name, theorem_name):
                best = (idx, name)
    if best[0] is None and theorem_name is None:
        return example
    return best


def _same_name(found: str | None, wanted: str) -> bool:
    if found is None:
        return False
    return found == wanted or found.endswith("." + wanted)


def _is_scoped(code: str, pos: int) -> bool:
    """`open Foo in` / `set_option x y in`: scoped to the next declaration, so part of aux."""
    line_end = code.find("\n", pos)
    line = code[pos : len(code) if line_end < 0 else line_end]
    return bool(re.search(r"\bin(\s|$)", line))


def _from_code(code: str, theorem_name: str | None, note: str, scan=None) -> Candidate | NoProof:
    mask, cmds = scan or _scan(code)
    main_idx, name = _find_main(code, cmds, theorem_name)
    if main_idx is None:
        if theorem_name is not None and any(w in ("theorem", "lemma") for _, w, _ in cmds):
            return NoProof(f"no theorem named {theorem_name} in the code")
        return NoProof("no theorem or lemma in the Lean code")
    pos, keyword, after_keyword = cmds[main_idx]
    _, after_name = _decl_name(code, after_keyword, keyword)
    end = cmds[main_idx + 1][0] if main_idx + 1 < len(cmds) else len(code)
    assign = _statement_end(code, mask, after_name, end)
    shown = name or "the example"
    if assign is None:
        if re.search(r"^\s*\|", code[after_name:end], re.M):
            return NoProof(f"{shown} is proved by pattern matching (`| ... =>`), not after `:=`")
        return NoProof(f"the statement of {shown} has no `:=` (answer cut off?)")
    proof = code[assign:end].strip()
    if not proof or _only_comments(proof):
        return NoProof(f"{shown} has nothing after `:=`")
    first_decl = next(
        (p for p, w, _ in cmds if w not in _PREAMBLE_KEYWORDS or _is_scoped(code, p)), pos
    )
    first_decl = min(first_decl, pos)
    preamble = code[:first_decl].strip()
    aux = code[first_decl:pos].strip()
    if aux and _only_comments(aux):
        aux = ""
    extra = len(cmds) - main_idx - 1
    if extra:
        note += f"; ignored {extra} command(s) after the main theorem"
    statement = code[pos:assign].strip()
    return Candidate(proof=proof, aux=aux, preamble=preamble, note=note, statement=statement)


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
    body = body.rstrip()
    if not body.strip() or _only_comments(body):
        return None
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
    mask = _code_mask(body)
    first_line_end = body.find("\n")
    cut = len(body)
    note = "continuation of an open code block"
    if first_line_end >= 0:
        for start in _line_starts(body):
            if start <= first_line_end or start >= len(body) or body[start] in " \t\n":
                continue
            if start > 0 and not mask[start - 1]:
                continue  # inside a comment or string
            line = body[start : body.find("\n", start) if "\n" in body[start:] else len(body)]
            if (
                line.startswith("/--")
                or _command_at(body, start)
                or (_PROSE_START.match(line) and not _looks_like_tactics(line))
            ):
                cut = start
                note += "; stopped where the proof ends"
                break
    if fence is not None and cut == len(body):
        note += "; stopped at the closing fence"
    proof = _as_tactic_proof(body[:cut])
    if proof is None:
        return NoProof("the answer continues the code with nothing but comments")
    return Candidate(proof=proof, note=note)


def _first_code(text: str) -> int | None:
    """Offset of the first code character of `text` (past whitespace and comments); a doc
    comment counts as code, since it belongs to the declaration after it."""
    mask = _code_mask(text)
    doc = text.find("/--")
    for i, j in _code_runs(mask, 0, len(text)):
        if 0 <= doc < i and (doc == 0 or mask[doc - 1]):
            return doc
        m = re.compile(r"\S").search(text, i, j)
        if m:
            return m.start()
    return None


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
    code_at = _first_code(head)
    starts_code = (
        code_at is not None
        and (code_at == 0 or head[code_at - 1] == "\n")
        and _command_at(head, code_at) is not None
    )
    bare: NoProof | None = None
    if starts_code and (first == first.lstrip()) and not _PROSE_START.match(first):
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
        scan = _scan(block.text)  # read once for _declares and _from_code
        if _declares(block.text, theorem_name, scan):
            if not block.closed:
                note = f"last code block of {count}, never closed (answer truncated?)"
            elif index == len(pool) - 1:
                note = f"last code block of {count}"
            else:
                note = f"code block {index + 1} of {count}; later blocks declare no such theorem"
            if block is not last and not last.closed:
                return NoProof("the last code block is cut off before the theorem (truncated)")
            return _from_code(block.text, theorem_name, note, scan)
        if block is last and not scan[1]:
            proof = _as_tactic_proof(block.text)
            if proof is not None:
                return Candidate(proof=proof, note=f"last code block of {count} holds only a proof")
    # Nothing declares the theorem: the last block says why (no theorem at all, or another name).
    return _from_code(last.text, theorem_name, "")
