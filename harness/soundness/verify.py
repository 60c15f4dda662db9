"""`await verify(problem, candidate, checker, config) -> Verdict`: the only code that makes `proved`.

    screen (screen.py)  -> sorry / rejected, before Lean sees anything
    splice (splice.py)  -> header + context + aux + STATEMENT VERBATIM + proof
    job                 -> commands: [context + reference statement, the model's command]
                           audits:   [#print axioms NAME, statement fidelity]   (audit.py)
    classify            -> lean_error / sorry / rejected / proved

The reference statement (`theorem __harness_ref ... := sorry`) is elaborated as the first
command, before any model text, so nothing the model wrote can change it. If it fails to
elaborate, the suite itself is broken for this Lean: the verdict is `lean_error` with rule
`suite_statement`, reported distinctly from the model's errors. Every surprise after Lean
accepts the model's command (audit output missing or unparsable, the name missing, an axiom
outside the allowlist, a statement that differs) is `rejected`, never `proved`.
"""

from __future__ import annotations

import time

from harness.checker.protocol import classify
from harness.config import Config
from harness.errors import CheckerError, CheckerUnavailable
from harness.lean_text import code_tokens
from harness.soundness.audit import (
    FIDELITY_NAME,
    axioms_command,
    compare_command,
    fidelity_command,
    judge_axioms,
    judge_fidelity,
)
from harness.soundness.screen import Rejection, screen, uses_native
from harness.soundness.splice import (
    CONFIRM_NAME,
    Spliced,
    declaration_name,
    reference_statement,
    splice,
)
from harness.types import (
    Candidate,
    CommandResult,
    Confirmation,
    ConfirmJob,
    Hole,
    LeanJob,
    LeanJobResult,
    LeanMessage,
    NoProof,
    Problem,
    Verdict,
    VerdictKind,
)

__all__ = ["verify", "check_sketch", "verify_hole", "build_job", "screened_candidate"]


def screened_candidate(spliced: Spliced, candidate: Candidate) -> Candidate:
    """What the screen reads: exactly the model text that goes to Lean (own restatements of
    the theorem dropped), plus the original preamble (its covered lines are dropped there)."""
    return Candidate(
        proof=spliced.proof,
        aux=spliced.aux,
        preamble=candidate.preamble,
        answer_fill=spliced.fill,
    )


def build_job(
    problem: Problem, spliced: Spliced, timeout_s: float | None = None, confirm: bool = False
) -> LeanJob:
    """The Lean job for a spliced answer (raises ValueError if the statement has no name)."""
    name = declaration_name(problem.statement)
    if name is None:
        raise ValueError("the suite statement declares no `theorem NAME`")
    reference = spliced.context + reference_statement(problem.statement) + "\n"
    confirmation = None
    if confirm:
        # everything from the suite's own text: nothing the checking process produced
        statement = reference_statement(problem.statement, CONFIRM_NAME) + "\n"
        context = (
            problem.context
            if problem.context.endswith("\n") or not problem.context
            else (problem.context + "\n")
        )
        confirmation = ConfirmJob(
            context=context,
            statement=statement,
            # the fidelity theorem's own axioms too: a coercion the model declared could have
            # been inserted into it
            audits=(
                axioms_command(name),
                fidelity_command(name, CONFIRM_NAME),
                axioms_command(FIDELITY_NAME),
            ),
            compare=compare_command(CONFIRM_NAME),
        )
    return LeanJob(
        header=problem.header,
        commands=(reference, spliced.model_text),
        audits=(axioms_command(name), fidelity_command(name)),
        timeout_s=timeout_s,
        confirm=confirmation,
    )


def _where(rejection: Rejection, spliced: Spliced | None) -> str:
    pos = spliced.part_to_file(rejection.part, rejection.line, rejection.col) if spliced else None
    if pos is not None:
        return f"{pos[0]}:{pos[1]} {rejection.text}"
    # text that is not in the checked file (a refused import): position in the answer's part
    return f"{rejection.part} {rejection.line}:{rejection.col} {rejection.text}"


def _goals(messages: tuple[LeanMessage, ...]) -> tuple[str, ...]:
    goals = []
    for m in messages:
        if m.severity == "error" and m.text.startswith("unsolved goals"):
            goals.append(m.text.split("\n", 1)[1] if "\n" in m.text else "")
    return tuple(goals)


def _first_line(messages: tuple[LeanMessage, ...]) -> str:
    for m in messages:
        if m.severity == "error":
            return f"{m.line}:{m.column} {m.text.strip().splitlines()[0] if m.text.strip() else ''}"
    return ""


class _Verdicts:
    """Verdicts for one check: its start time, the file checked, and who checked it."""

    def __init__(self, checked_file: str) -> None:
        self.t0 = time.perf_counter()
        self.checked_file = checked_file
        self.checked_by: str | None = None
        self.lean_checks = 0

    def __call__(self, kind: VerdictKind, **kw) -> Verdict:
        return Verdict(
            kind,
            seconds=time.perf_counter() - self.t0,
            checked_file=self.checked_file,
            checked_by=self.checked_by,
            lean_checks=self.lean_checks,
            **kw,
        )


async def _elaborate(
    spliced: Spliced, job: LeanJob, checker, verdict: _Verdicts
) -> tuple[LeanJobResult, CommandResult] | Verdict:
    """Run the job: Lean's result and its reply to the model's command, or the verdict when
    the answer ends before that (no Lean, a timeout, the suite's own header or statement)."""
    verdict.lean_checks += 1
    try:
        result = await checker.run(job)
    except CheckerUnavailable:
        raise  # no Lean to be had (every remote server down): the run stops, resumable
    except CheckerError as exc:
        return verdict(VerdictKind.CHECKER_ERROR, detail=str(exc))
    verdict.checked_by = result.checked_by
    if result.outcome == "timeout":
        return verdict(VerdictKind.TIMEOUT, detail=result.error or "Lean timed out")
    if result.outcome != "ok":
        return verdict(VerdictKind.CHECKER_ERROR, detail=result.error or result.outcome)

    header_errors = tuple(m for m in result.header_messages if m.severity == "error")
    if header_errors:
        return verdict(
            VerdictKind.LEAN_ERROR,
            rule="suite_header",
            messages=header_errors,
            detail="the suite's header does not elaborate: " + _first_line(header_errors),
        )
    if len(result.commands) != 2:
        return verdict(
            VerdictKind.CHECKER_ERROR,
            detail=f"checker answered {len(result.commands)} of 2 commands",
        )

    reference, body = result.commands
    context_lines = spliced.context.count("\n")
    if spliced.fill is not None and any(m.line <= context_lines for m in reference.errors):
        # the model's value for the answer hole does not elaborate: the model's error
        messages = spliced.map_messages("context", reference.messages)
        return verdict(VerdictKind.LEAN_ERROR, messages=messages, goals=_goals(messages))
    if reference.repl_error is not None or reference.errors:
        messages = spliced.map_messages("context", reference.errors)
        why = reference.repl_error or _first_line(reference.errors)
        return verdict(
            VerdictKind.LEAN_ERROR,
            rule="suite_statement",
            messages=messages,
            detail=f"the suite's statement does not elaborate under its header: {why}",
        )
    return result, body


async def verify(
    problem: Problem, candidate: Candidate | NoProof, checker, config: Config
) -> Verdict:
    """Check one answer against the suite's statement; see the module docstring."""
    if isinstance(candidate, NoProof):
        return Verdict(VerdictKind.NO_PROOF, detail=candidate.reason)

    spliced = splice(problem, candidate, answer_holes=config.suites.answer_holes)
    verdict = _Verdicts(spliced.file)

    rejection = screen(
        screened_candidate(spliced, candidate), config.soundness, header=problem.header
    )
    if rejection is not None:
        return verdict(rejection.kind, rule=rejection.rule, where=_where(rejection, spliced))

    try:
        confirm = config.soundness.confirm and config.lean.backend == "repl"
        job = build_job(problem, spliced, confirm=confirm)
    except ValueError as exc:
        return verdict(VerdictKind.LEAN_ERROR, rule="suite_statement", detail=str(exc))
    name = declaration_name(problem.statement) or ""  # build_job checked it has one

    elaborated = await _elaborate(spliced, job, checker, verdict)
    if isinstance(elaborated, Verdict):
        return elaborated
    result, body = elaborated

    messages = spliced.map_messages("model", body.messages)
    goals = tuple(s.goal for s in body.sorries) + _goals(messages)
    status = classify(body)
    if status == "lean_error":
        return verdict(
            VerdictKind.LEAN_ERROR,
            messages=messages,
            goals=goals,
            detail=body.repl_error,
        )
    if status == "sorry":
        return verdict(VerdictKind.SORRY, messages=messages, goals=goals, rule="lean_sorry")

    # Lean accepted the model's command: now the harness's own audits decide.
    if len(result.audits) != 2:
        return verdict(
            VerdictKind.REJECTED,
            messages=messages,
            rule="audit_output",
            where=f"{len(result.audits)} of 2 audit results",
        )
    allow_native = config.soundness.allow_native_decide
    axioms = judge_axioms(result.audits[0], name, allow_native)
    if not axioms.ok:
        kind = VerdictKind.SORRY if axioms.sorry else VerdictKind.REJECTED
        return verdict(kind, messages=messages, rule=axioms.rule, where=axioms.detail)
    fidelity = judge_fidelity(result.audits[1])
    if not fidelity.ok:
        return verdict(
            VerdictKind.REJECTED, messages=messages, rule=fidelity.rule, where=fidelity.detail
        )
    native = axioms.native or (allow_native and uses_native(screened_candidate(spliced, candidate)))
    if job.confirm is None:
        return verdict(VerdictKind.PROVED, messages=messages, native=native)
    confirmation = None
    if result.pickle is not None:
        verdict.lean_checks += 1
        try:
            confirmation = await checker.confirm(job, result.pickle)
        except CheckerError as exc:
            confirmation = Confirmation("checker_error", error=str(exc))
    confirmed = _judge_confirmation(confirmation, name, allow_native)
    if confirmed is None:
        return verdict(VerdictKind.PROVED, messages=messages, native=native)
    kind, rule, why = confirmed
    return verdict(
        kind,
        messages=messages,
        rule=rule,
        repl_disagreed=True,
        detail=f"the checking process said proved; a fresh process replaying its environment "
        f"said {kind.value}: {why}",
    )


# ---------------------------------------------------------------------------------------------
# Proof sketches (search.strategy: decompose). Neither function below can make a problem
# proved: a sketch is at best accepted with holes, and a hole's proof is `proved` only as a
# subgoal (`Attempt.stage`). The composed proof goes through `verify` like any other answer.


async def _elaborate_sketch(
    problem: Problem, candidate: Candidate, checker, config: Config
) -> tuple[Spliced, CommandResult, _Verdicts] | Verdict:
    """A sketch (its `sorry`s allowed as holes) through the screen and Lean, without audits."""
    spliced = splice(problem, candidate, answer_holes=config.suites.answer_holes)
    verdict = _Verdicts(spliced.file)
    rejection = screen(
        screened_candidate(spliced, candidate),
        config.soundness,
        header=problem.header,
        holes=True,
    )
    if rejection is not None:
        return verdict(rejection.kind, rule=rejection.rule, where=_where(rejection, spliced))
    try:
        job = build_job(problem, spliced)
    except ValueError as exc:
        return verdict(VerdictKind.LEAN_ERROR, rule="suite_statement", detail=str(exc))
    elaborated = await _elaborate(spliced, job, checker, verdict)
    if isinstance(elaborated, Verdict):
        return elaborated
    return spliced, elaborated[1], verdict


def _holes(spliced: Spliced, body: CommandResult) -> tuple[Hole, ...] | str:
    """Lean's sorries in the model's command as holes of the proof (string offsets), or why
    they cannot be (a sorry without a position, or outside the proof)."""
    text = spliced.model_text
    line_starts = [0]
    for i, c in enumerate(text):
        if c == "\n":
            line_starts.append(i + 1)
    proof_at = len(spliced.preamble + spliced.aux + spliced.statement + " ")
    code_sorries = {t.start for t in code_tokens(spliced.proof) if t.text == "sorry"}
    holes: dict[int, Hole] = {}
    for s in body.sorries:
        if s.line is None or s.column is None or not 1 <= s.line <= len(line_starts):
            return "Lean reported a sorry without a position"
        start = line_starts[s.line - 1] + s.column - proof_at
        if start not in code_sorries:
            return "a sorry outside the proof (in an auxiliary declaration or the statement)"
        if start in holes:
            # `<;> sorry`, `all_goals sorry`: one text for several goals cannot be one lemma
            return "one sorry stands for several goals (after `<;>` or `all_goals`): give each its own `have`"
        holes[start] = Hole(start, start + 5, s.goal)
    return tuple(sorted(holes.values(), key=lambda h: h.start))


_OPEN = {"(": ")", "[": "]", "{": "}", "⟨": "⟩", "⦃": "⦄", "@[": "]"}


def _closes_outside(proof: str) -> str | None:
    """The first bracket a hole's proof closes that it did not open (it would end the brackets
    the proof is put in, and what follows would be the sketch's tactics), or None."""
    depth = 0
    for t in code_tokens(proof):
        if t.text in _OPEN:
            depth += 1
        elif t.text in _OPEN.values():
            depth -= 1
            if depth < 0:
                return f"proof {t.line}:{t.col} {t.text}"
    return None


async def check_sketch(
    problem: Problem, candidate: Candidate | NoProof, checker, config: Config
) -> Verdict:
    """A proof sketch: `sorry` with rule `sketch` and its `holes` when Lean accepts it with
    only `sorry`s (none: the sketch is a whole proof, for `verify` to judge); otherwise the
    verdict that goes back to the decomposer (lean_error, rejected, ...)."""
    if isinstance(candidate, NoProof):
        return Verdict(VerdictKind.NO_PROOF, detail=candidate.reason)
    elaborated = await _elaborate_sketch(problem, candidate, checker, config)
    if isinstance(elaborated, Verdict):
        return elaborated
    spliced, body, verdict = elaborated
    messages = spliced.map_messages("model", body.messages)
    if classify(body) == "lean_error":
        goals = tuple(s.goal for s in body.sorries) + _goals(messages)
        return verdict(
            VerdictKind.LEAN_ERROR, messages=messages, goals=goals, detail=body.repl_error
        )
    holes = _holes(spliced, body)
    if isinstance(holes, str):
        return verdict(VerdictKind.REJECTED, messages=messages, rule="sketch_hole", where=holes)
    goals = tuple(h.goal for h in holes)
    return verdict(VerdictKind.SORRY, messages=messages, goals=goals, rule="sketch", holes=holes)


async def verify_hole(
    problem: Problem,
    filled: Candidate,
    span: tuple[int, int],
    holes: int,
    own: Candidate | NoProof,
    checker,
    config: Config,
) -> Verdict:
    """A hole's proof, checked in place: `filled` is the sketch with one of its `holes` holes
    replaced (at `span` of its proof) by the prover's answer `own`. Lean elaborates it in the
    context it built itself, so no pretty-printed goal is read back. `proved` (as a subgoal)
    when the prover's own text passes the screen with no `sorry`, Lean reports no error, and
    exactly the other holes remain, none of them inside the replacement."""
    if isinstance(own, NoProof):
        return Verdict(VerdictKind.NO_PROOF, detail=own.reason)
    rejection = screen(own, config.soundness, header=problem.header)
    if rejection is not None:
        where = f"{rejection.part} {rejection.line}:{rejection.col} {rejection.text}"
        return Verdict(rejection.kind, rule=rejection.rule, where=where)
    escape = _closes_outside(own.proof)
    if escape is not None:
        return Verdict(VerdictKind.REJECTED, rule="hole_escape", where=escape)
    elaborated = await _elaborate_sketch(problem, filled, checker, config)
    if isinstance(elaborated, Verdict):
        return elaborated
    spliced, body, verdict = elaborated
    messages = spliced.map_messages("model", body.messages)
    goals = tuple(s.goal for s in body.sorries) + _goals(messages)
    if classify(body) == "lean_error":
        return verdict(
            VerdictKind.LEAN_ERROR, messages=messages, goals=goals, detail=body.repl_error
        )
    left = _holes(spliced, body)
    if isinstance(left, str):
        return verdict(VerdictKind.REJECTED, messages=messages, rule="sketch_hole", where=left)
    inside = [h for h in left if span[0] <= h.start < span[1]]
    if inside or len(left) != holes - 1:
        # the proof left its own goal open, or the other holes changed: not this hole's proof
        return verdict(
            VerdictKind.SORRY,
            messages=messages,
            goals=tuple(h.goal for h in inside) or goals,
            rule="lean_sorry",
            where=f"{len(left)} holes left of {holes}",
        )
    return verdict(VerdictKind.PROVED, messages=messages)


def _judge_confirmation(
    confirmation: Confirmation | None, name: str, allow_native: bool
) -> tuple[VerdictKind, str, str] | None:
    """None when the fresh process confirms; else its verdict, rule and reason."""
    if confirmation is None:
        return VerdictKind.CHECKER_ERROR, "confirm", "no confirmation came back"
    if confirmation.outcome == "timeout":
        return VerdictKind.TIMEOUT, "confirm", confirmation.error or "timed out"
    if confirmation.outcome != "ok":
        return VerdictKind.CHECKER_ERROR, "confirm", confirmation.error or confirmation.outcome
    missing = CommandResult(repl_error="no reply")
    clean, clean_shown = (*confirmation.clean, missing, missing)[:2]
    if clean.repl_error or clean.errors:
        why = clean.repl_error or _first_line(clean.errors)
        return VerdictKind.LEAN_ERROR, "suite_statement", f"the suite's statement: {why}"
    replay = confirmation.replay
    if replay is None or replay.repl_error or replay.errors or replay.env is None:
        why = (replay.repl_error or _first_line(replay.errors)) if replay else "no reply"
        return VerdictKind.LEAN_ERROR, "confirm_replay", f"the kernel replay failed: {why}"
    if len(confirmation.model) != 5:
        return VerdictKind.REJECTED, "confirm", f"{len(confirmation.model)} of 5 results"
    statement, axioms_result, fidelity_result, fidelity_axioms, shown = confirmation.model
    if statement.repl_error or statement.errors:
        why = statement.repl_error or _first_line(statement.errors)
        return VerdictKind.REJECTED, "statement_changed", f"the statement there: {why}"
    axioms = judge_axioms(axioms_result, name, allow_native)
    if not axioms.ok:
        kind = VerdictKind.SORRY if axioms.sorry else VerdictKind.REJECTED
        return kind, axioms.rule or "axioms", axioms.detail or ""
    fidelity = judge_fidelity(fidelity_result)
    if not fidelity.ok:
        return VerdictKind.REJECTED, fidelity.rule or "statement_changed", fidelity.detail or ""
    bridged = judge_axioms(fidelity_axioms, FIDELITY_NAME, allow_native)
    if not bridged.ok:
        return VerdictKind.REJECTED, bridged.rule or "axioms", f"the comparison: {bridged.detail}"
    if [m.text for m in shown.messages] != [m.text for m in clean_shown.messages]:
        return (
            VerdictKind.REJECTED,
            "statement_changed",
            "the statement elaborates differently where the model's declarations are present",
        )
    return None
