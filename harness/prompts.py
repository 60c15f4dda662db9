"""Prompt templates and repair turns: `Problem` -> chat messages, `Verdict` -> the next user turn.

Built-in templates (the provers' own formats, verbatim; see docs/provers.md):

- `deepseek-v2`: DeepSeek-Prover-V2 non-CoT, one user turn "Complete the following Lean 4
  code:" + a ```` ```lean4 ```` block ending `:= by\\n  sorry`
  [deepseek-ai/DeepSeek-Prover-V2@e598a57, README.md and paper App. A.1].
- `deepseek-v2-cot`: the same plus the two-sentence proof-plan request
  [DeepSeek-Prover-V2@e598a57:README.md quick start; NVIDIA NeMo-Skills
  `prompt/config/lean4/formal-proof-deepseek-prover-v2.yaml`].
- `goedel-v2`: Goedel-Prover-V2's `DeepSeekCoTHandler.prover_inference`: the CoT prompt with
  the statement cut at `:= by` + `:= by sorry` and the fence closed right after it
  [Goedel-LM/Goedel-Prover-V2@2e9036e:src/utils.py].
- `decompose-v2` (for `decomposer.prompt`): the sketch request of DeepSeek-Prover-V2's subgoal
  decomposition as the paper describes it (§2.1, Figure 3): an informal analysis first, then a
  Lean proof of the statement whose nontrivial steps are `have name : stmt := by sorry` and
  which closes the goal from them. The paper's own prompt text is not published in full; this
  wording is ours, built to that description.
- `kimina`: Goedel-Prover-V2's `KiminaCoTHandler` (system "You are an expert in mathematics and
  Lean 4.", user "Think about and solve the following problem step by step in Lean 4.\\n#
  Problem:...\\n# Formal statement:\\n```lean4\\n...\\n```\\n"); `# Problem:` holds the informal
  statement when the suite has one (as APOLLO's `cot_kimina_prompt`), else the Lean code without
  its import/option/open lines (as Goedel's handler) [Goedel-Prover-V2@2e9036e:src/utils.py;
  aziksh-ospanov/APOLLO@b6d94e8].

The Lean code shown is `header + context + docstring + statement + " by\\n  sorry"`, where the
docstring `/-- informal -/` is present when the problem has informal text (the DeepSeek
miniF2F files carry it the same way).

A user template is a file: plain text is the user message; a `.yaml`/`.yml` file has `user:` and
optionally `system:`. Placeholders (Python `str.format` syntax; write `{{`/`}}` for braces):
{placeholders}

`repair_message` builds the user turn after a failed round, in Goedel-Prover-V2's
self-correction style (`generate_correction_prompt` / `get_error_str`): "The proof (Round k) is
not correct. Following is the compilation error message, where we use <error></error> to signal
the position of the error." + each error with its line, column, the code before it and the
offending span marked, + "Before producing the Lean 4 code to formally prove the given theorem,
provide a detailed analysis of the error message." The conversation for a repair round is the
previous messages + the assistant's previous answer + this turn (built by the search).
"""

from __future__ import annotations

import string
from pathlib import Path

import yaml

from harness.errors import ConfigError
from harness.types import ChatMessage, LeanMessage, Problem, Verdict, VerdictKind

__all__ = [
    "TEMPLATES",
    "PLACEHOLDERS",
    "build_prompt",
    "repair_message",
    "check_template",
    "lean_code",
]

PLACEHOLDERS: dict[str, str] = {
    "code": "the Lean code shown to the model: header + context + docstring + statement + "
    "' by\\n  sorry'",
    "header": "the suite's imports, options and opens",
    "context": "declarations the suite puts between header and theorem (often empty)",
    "statement": "the theorem statement, through `:=`",
    "informal": "the informal problem text (empty when the suite has none)",
    "docstring": "`/-- informal -/` and a newline, or empty",
    "name": "the theorem's name",
    "split": "the problem's split (valid/test/...), or empty",
}

__doc__ = __doc__.replace(
    "{placeholders}", "\n".join(f"- `{{{k}}}`: {v}" for k, v in PLACEHOLDERS.items())
)

_DSV2_USER = "Complete the following Lean 4 code:\n\n```lean4\n{code}\n```"
_PLAN_REQUEST = (
    "Before producing the Lean 4 code to formally prove the given theorem, provide a detailed "
    "proof plan outlining the main proof steps and strategies.\nThe plan should highlight key "
    "ideas, intermediate lemmas, and proof structures that will guide the construction of the "
    "final formal proof."
)
_KIMINA_SYSTEM = "You are an expert in mathematics and Lean 4."
_KIMINA_USER = (
    "Think about and solve the following problem step by step in Lean 4.\n"
    "# Problem:{problem}\n# Formal statement:\n```lean4\n{code}\n```\n"
)
_ANALYSIS_REQUEST = (
    "Before producing the Lean 4 code to formally prove the given theorem, provide a detailed "
    "analysis of the error message."
)

_DECOMPOSE_USER = (
    "Decompose the proof of the following Lean 4 theorem into subgoals.\n\n```lean4\n{code}\n```\n\n"
    "First analyse the problem informally: give a detailed proof in natural language and "
    "identify its key intermediate steps. Then write a Lean 4 proof sketch of the theorem "
    "exactly as stated, in which each nontrivial step is a `have` statement proved by "
    "`sorry`, for example\n\n```lean4\nhave h1 : <intermediate statement> := by\n  sorry\n```\n\n"
    "and in which the `have` statements together close the goal (the last step may combine "
    "them with a short tactic such as `linarith`, `nlinarith`, `simp_all` or `exact`). Do not "
    "prove the steps: leave exactly `sorry` for each. End your answer with the complete sketch, "
    "theorem statement included, in one final ```lean4 code block."
)

TEMPLATES = ("deepseek-v2", "deepseek-v2-cot", "goedel-v2", "kimina", "decompose-v2")


# ---------------------------------------------------------------------------------------------
# The Lean code shown to the model


def _statement(problem: Problem) -> str:
    statement = problem.statement.rstrip()
    if not statement.endswith(":="):
        statement += " :="
    return statement


def _docstring(problem: Problem) -> str:
    return f"/-- {problem.informal.strip()}-/\n" if problem.informal else ""


def _context(problem: Problem) -> str:
    context = problem.context
    if context and not context.endswith("\n"):
        context += "\n"
    return context


def lean_code(problem: Problem, proof: str = " by\n  sorry") -> str:
    """header + context + docstring + statement + `proof`."""
    header = problem.header
    if header and not header.endswith("\n"):
        header += "\n"
    return f"{header}{_context(problem)}{_docstring(problem)}{_statement(problem)}{proof}"


def _without_header_lines(code: str) -> str:
    """The code without import/set_option/open/blank lines (Goedel's KiminaCoTHandler)."""
    kept = [
        line
        for line in code.split("\n")
        if line.strip() and not line.startswith(("import ", "set_option ", "open "))
    ]
    return "\n".join(kept)


def _fields(problem: Problem) -> dict[str, str]:
    return {
        "code": lean_code(problem),
        "header": problem.header,
        "context": problem.context,
        "statement": _statement(problem),
        "informal": problem.informal or "",
        "docstring": _docstring(problem),
        "name": problem.decl_name,
        "split": problem.split or "",
    }


# ---------------------------------------------------------------------------------------------
# Templates


def _builtin(problem: Problem, name: str) -> list[ChatMessage]:
    code = lean_code(problem)
    if name == "deepseek-v2":
        return [{"role": "user", "content": _DSV2_USER.format(code=code)}]
    if name == "deepseek-v2-cot":
        return [{"role": "user", "content": _DSV2_USER.format(code=code) + "\n\n" + _PLAN_REQUEST}]
    if name == "goedel-v2":
        # Goedel: lean4_code.split(":= by")[0] + ":= by sorry", and "```" straight after it.
        statement_code = lean_code(problem, proof=" by sorry")
        user = (
            f"Complete the following Lean 4 code:\n\n```lean4\n{statement_code}```\n\n"
            + _PLAN_REQUEST
        )
        return [{"role": "user", "content": user}]
    if name == "decompose-v2":
        return [{"role": "user", "content": _DECOMPOSE_USER.format(code=code)}]
    if name == "kimina":
        informal = problem.informal.strip() if problem.informal else ""
        problem_text = informal or _without_header_lines(lean_code(problem))
        user = _KIMINA_USER.format(problem=problem_text, code=code)
        return [{"role": "system", "content": _KIMINA_SYSTEM}, {"role": "user", "content": user}]
    raise AssertionError(name)


def _load_user_template(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read prompt template ({exc.strerror or exc})") from exc
    if path.suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: prompt template is not valid YAML") from exc
        if not isinstance(data, dict) or not isinstance(data.get("user"), str):
            raise ConfigError(f"{path}: expected a mapping with a `user:` text (and `system:`)")
        unknown = set(data) - {"user", "system"}
        if unknown:
            raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}; expected user, system")
        parts = {"user": data["user"]}
        if isinstance(data.get("system"), str):
            parts["system"] = data["system"]
        elif data.get("system") is not None:
            raise ConfigError(f"{path}: `system:` must be text")
    else:
        parts = {"user": text}
    for role, part in parts.items():
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(part) if f is not None]
        except ValueError as exc:
            raise ConfigError(f"{path}: {role} template: {exc} (write {{{{ for a brace)") from exc
        for field in names:
            if field not in PLACEHOLDERS:
                known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
                raise ConfigError(
                    f"{path}: unknown placeholder {{{field}}} in the {role} template; "
                    f"known: {known}"
                )
    return parts


def check_template(template: str, key: str = "prompt") -> None:
    """Raise ConfigError unless `template` (the config's `key`) is a built-in name or a valid
    template file."""
    if template in TEMPLATES:
        return
    path = Path(template)
    if not path.is_file():
        raise ConfigError(
            f"{key}: unknown template {template!r}; expected one of {', '.join(TEMPLATES)} "
            "or a path to a template file"
        )
    _load_user_template(path)


def build_prompt(problem: Problem, template: str) -> list[ChatMessage]:
    """The first turn's messages for `problem` under a built-in template or a template file."""
    if template in TEMPLATES:
        return _builtin(problem, template)
    check_template(template)
    parts = _load_user_template(Path(template))
    fields = _fields(problem)
    messages: list[ChatMessage] = []
    if "system" in parts:
        messages.append({"role": "system", "content": parts["system"].format(**fields)})
    messages.append({"role": "user", "content": parts["user"].format(**fields)})
    return messages


# ---------------------------------------------------------------------------------------------
# Repair turns

_CONTEXT_BEFORE = 4  # Goedel shows up to 4 lines before the error...
_CONTEXT_AFTER = 1  # ...and 1 after
_MAX_SPAN_LINES = 6  # multi-line spans are cut after 6 lines


def _mark(lines: list[str], message: LeanMessage) -> str:
    """The code around `message` with its span wrapped in <error></error>."""
    first = min(max(message.line, 1), len(lines)) - 1
    last = message.end_line if message.end_line is not None else message.line
    last = min(max(last, message.line), len(lines)) - 1
    start_col = max(0, min(message.column, len(lines[first])))
    if message.end_line is not None and message.end_column is not None:
        end_col = max(0, min(message.end_column, len(lines[last])))
    else:
        end_col = len(lines[last])
    if first == last and end_col <= start_col:
        end_col = len(lines[last])  # a zero-width span: mark the rest of the line
    span = lines[first : last + 1]
    span = [*span]
    span[-1] = span[-1][:end_col] + "</error>" + span[-1][end_col:]
    span[0] = span[0][:start_col] + "<error>" + span[0][start_col:]
    if len(span) > _MAX_SPAN_LINES:
        span = [*span[:_MAX_SPAN_LINES], "... --[Truncated]-- ..."]
    before = lines[max(0, first - _CONTEXT_BEFORE) : first]
    after = lines[last + 1 : last + 1 + _CONTEXT_AFTER]
    return "\n".join([*before, *span, *after])


def _error_report(code: str, messages: tuple[LeanMessage, ...], max_errors: int) -> str:
    errors = [m for m in messages if m.severity == "error"] or list(messages)
    lines = code.split("\n") if code else [""]
    parts = []
    for i, message in enumerate(errors[:max_errors], 1):
        parts.append(
            f"\nError {i} (line {message.line}, column {message.column}):\n\n"
            f"Corresponding Code:\n```lean4\n{_mark(lines, message)}\n```\n\n"
            f"Error Message: {message.text.strip()}\n"
        )
    if len(errors) > max_errors:
        parts.append(f"\n... [Omitted {len(errors) - max_errors} more errors] ...\n")
    return "".join(parts)


def _goals(verdict: Verdict, max_errors: int, title: str) -> str:
    if not verdict.goals:
        return ""
    shown = "\n\n".join(f"```lean4\n{g.strip()}\n```" for g in verdict.goals[:max_errors])
    more = len(verdict.goals) - max_errors
    tail = f"\n... [Omitted {more} more goals] ..." if more > 0 else ""
    return f"\n\n{title}\n\n{shown}{tail}"


def repair_message(
    verdict: Verdict, round: int, max_errors: int, code: str | None = None
) -> ChatMessage:
    """The user turn that asks for repair round `round` (1 = the first repair) after the
    previous round's `verdict`. `code` is the file Lean checked (default:
    `verdict.checked_file`); message positions are in its coordinates."""
    code = verdict.checked_file if code is None else code
    previous = f"The proof (Round {max(round - 1, 0)})"
    kind = verdict.kind
    max_errors = max(1, max_errors)
    if kind == VerdictKind.LEAN_ERROR and verdict.messages:
        text = (
            f"{previous} is not correct. Following is the compilation error message, where we "
            "use <error></error> to signal the position of the error.\n\n"
            + _error_report(code, verdict.messages, max_errors)
            + _goals(verdict, max_errors, "Goal states Lean reported:")
            + "\n\n"
            + _ANALYSIS_REQUEST
        )
    elif kind == VerdictKind.LEAN_ERROR:
        text = f"{previous} is not correct: Lean rejected it." + _goals(
            verdict, max_errors, "Goal states Lean reported:"
        )
        text += "\n\n" + _ANALYSIS_REQUEST
    elif kind == VerdictKind.SORRY:
        text = (
            f"{previous} is not complete: it leaves goals unproved with `sorry` (or `admit`), "
            "which does not count as a proof."
            + _goals(verdict, max_errors, "The goals still open:")
            + "\n\nBefore producing the Lean 4 code to formally prove the given theorem, "
            "provide a detailed analysis of how to close these goals."
        )
    elif kind == VerdictKind.REJECTED:
        rule = verdict.rule or "a soundness rule"
        where = f" (the offending text: `{verdict.where.strip()}`)" if verdict.where else ""
        text = (
            f"{previous} was rejected before checking: it breaks the rule `{rule}`{where}. "
            "The proof must work with the theorem statement exactly as given, use no "
            "`sorry`/`admit`, no new axioms, and no commands that change how Lean checks "
            "proofs.\n\nBefore producing the Lean 4 code to formally prove the given theorem, "
            "provide a detailed analysis of how to prove it without that."
        )
    elif kind == VerdictKind.NO_PROOF:
        why = verdict.detail or verdict.where
        text = (
            f"{previous} could not be found in your answer"
            + (f" ({why})" if why else "")
            + ". Give the complete Lean 4 code, theorem statement included, in a final "
            "```lean4 code block."
        )
    elif kind == VerdictKind.TRUNCATED:
        text = (
            f"{previous} was cut off: the answer reached the length limit before the final Lean "
            "4 code was complete. Think more briefly and give the complete Lean 4 code in a "
            "final ```lean4 code block."
        )
    elif kind == VerdictKind.TIMEOUT:
        text = (
            f"{previous} did not finish checking within the time limit. Give a proof that Lean "
            "can check faster (avoid heavy `nlinarith`, `simp` or `decide` searches), in a final "
            "```lean4 code block."
        )
    else:
        text = f"{previous} was not accepted ({kind}). Give the complete Lean 4 code again."
    return {"role": "user", "content": text}
