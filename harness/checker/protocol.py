"""The Lean REPL's JSON protocol and `lean --json` message lines, as pure functions.

Leaves processes, time and files to `process.py`, `pool.py` and `oneshot.py`. Shapes follow
leanprover-community/repl (`REPL/JSON.lean`): a request is one JSON object followed by a blank
line; a reply is Lean's pretty-printed (multi-line) JSON followed by a blank line. Object key
order is not stable across Lean versions, so replies are parsed, never compared as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from harness.lean_text import parse_header
from harness.types import CommandResult, LeanMessage, Sorry

__all__ = [
    "Classification",
    "SORRY_WARNINGS",
    "encode_command",
    "frame",
    "parse_reply",
    "split_replies",
    "decode_reply",
    "decode_message",
    "decode_lean_json_line",
    "decode_lean_json_output",
    "classify",
    "split_header",
    "HeaderParts",
]

Classification = Literal["accepted", "lean_error", "sorry"]

# Lean changed the warning's quoting between versions; both must count.
SORRY_WARNINGS = ("declaration uses 'sorry'", "declaration uses `sorry`")


# ---------------------------------------------------------------------------------------------
# Requests


def encode_command(cmd: str, env: int | None = None) -> dict[str, Any]:
    """A command-mode request. Without `env` the REPL starts a fresh environment (imports allowed)."""
    request: dict[str, Any] = {"cmd": cmd}
    if env is not None:
        request["env"] = env
    return request


def frame(request: dict[str, Any]) -> str:
    """One request on the wire. Newlines inside strings stay escaped: the REPL's line reader
    joins raw lines without a newline (a raw newline in a string would silently vanish)."""
    return json.dumps(request, ensure_ascii=False) + "\n\n"


# ---------------------------------------------------------------------------------------------
# Replies


def parse_reply(text: str) -> dict[str, Any]:
    """One reply (possibly multi-line) → its JSON object. Raises ValueError on anything else."""
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def split_replies(text: str) -> list[dict[str, Any]]:
    """A transcript of replies separated by blank lines (an `.expected.out` file) → objects."""
    replies: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in text.splitlines():
        if line.strip():
            chunk.append(line)
        elif chunk:
            replies.append(parse_reply("\n".join(chunk)))
            chunk = []
    if chunk:
        replies.append(parse_reply("\n".join(chunk)))
    return replies


def _pos(data: Any) -> tuple[int | None, int | None]:
    if not isinstance(data, dict):
        return None, None
    line, column = data.get("line"), data.get("column")
    return (line if isinstance(line, int) else None, column if isinstance(column, int) else None)


def _severity(value: Any) -> str:
    # `lean --json` says "information" where the REPL says "info".
    text = str(value or "error")
    return "info" if text == "information" else text


def decode_message(data: dict[str, Any]) -> LeanMessage:
    """A REPL message object ({"severity", "pos", "endPos", "data"}) → LeanMessage."""
    line, column = _pos(data.get("pos"))
    end_line, end_column = _pos(data.get("endPos"))
    return LeanMessage(
        severity=_severity(data.get("severity")),
        line=line if line is not None else 0,
        column=column if column is not None else 0,
        text=str(data.get("data", "")),
        end_line=end_line,
        end_column=end_column,
    )


def _decode_sorry(data: dict[str, Any]) -> Sorry:
    line, column = _pos(data.get("pos"))
    end_line, end_column = _pos(data.get("endPos"))
    return Sorry(line, column, str(data.get("goal", "")), end_line, end_column)


def decode_reply(obj: dict[str, Any]) -> CommandResult:
    """A command (or proof-step) reply → CommandResult; `{"message": ...}` becomes `repl_error`."""
    if "message" in obj and not any(k in obj for k in ("env", "messages", "sorries", "proofState")):
        return CommandResult(repl_error=str(obj["message"]))
    env = obj.get("env")
    return CommandResult(
        messages=tuple(decode_message(m) for m in obj.get("messages") or () if isinstance(m, dict)),
        sorries=tuple(_decode_sorry(s) for s in obj.get("sorries") or () if isinstance(s, dict)),
        env=env if isinstance(env, int) else None,
    )


# ---------------------------------------------------------------------------------------------
# `lake env lean --json FILE`: one JSON message per line; other lines (crash notices) ignored


def decode_lean_json_line(line: str) -> LeanMessage | None:
    """One stdout line of `lean --json` → LeanMessage, or None for a line that is not a message."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or "severity" not in data or "data" not in data:
        return None
    return decode_message(data)


def decode_lean_json_output(text: str) -> list[LeanMessage]:
    return [m for m in (decode_lean_json_line(line) for line in text.splitlines()) if m]


# ---------------------------------------------------------------------------------------------
# Classification


def classify(result: CommandResult) -> Classification:
    """errors (or a REPL-level error) → lean_error; any sorry → sorry; otherwise accepted."""
    if result.repl_error is not None or result.errors:
        return "lean_error"
    if result.sorries:
        return "sorry"
    for message in result.messages:
        if message.severity == "warning" and any(w in message.text for w in SORRY_WARNINGS):
            return "sorry"
    return "accepted"


# ---------------------------------------------------------------------------------------------
# Headers


@dataclass(frozen=True)
class HeaderParts:
    """A header split into its import block (the process key) and the rest (options, opens)."""

    imports: tuple[str, ...]  # the `import X` lines, normalised (comments and extra spaces gone)
    rest: str  # the text after the import block (may be empty)
    rest_line: int  # 1-based line of the header where `rest` begins


def split_header(header: str) -> HeaderParts:
    """The leading import block (read by harness/lean_text.py) vs the rest of the header."""
    parsed = parse_header(header)
    return HeaderParts(parsed.import_lines, header[parsed.import_end :], parsed.rest_line)
