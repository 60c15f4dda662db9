"""One round of a sample, top to bottom: prompt -> answer -> extract -> verify -> Attempt.

    conversation()   the messages to send: the problem's prompt, then for each finished round
                     its answer and the repair turn built from its verdict
    read_answer()    the prover's answer -> a candidate for Lean, or the round's verdict
                     (prover_error, truncated, no_proof) without Lean
    check()          the candidate through the soundness chain (`soundness.verify`); the time
                     spent waiting for a free Lean process is kept apart (`queue_s`) from
                     the check's own time (`check_s`)
    make_attempt()   the round as the record keeps it

The engine (`harness.engine`) decides when each step runs and what follows; nothing here
schedules, retries or writes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from harness.config import Config
from harness.extract import extract_proof
from harness.plan import price
from harness.prompts import build_prompt, repair_message
from harness.record import timestamp
from harness.soundness.verify import verify
from harness.types import (
    Answer,
    Attempt,
    Candidate,
    ChatMessage,
    LeanMessage,
    NoProof,
    Problem,
    Verdict,
    VerdictKind,
)

__all__ = [
    "SampleRun",
    "answer_of",
    "verdict_of",
    "conversation",
    "read_answer",
    "check",
    "make_attempt",
]


class _Timed:
    """A checker that notes how long `run` waited before Lean worked on the job: the call's
    wall time minus Lean's own (`LeanJobResult.seconds`, when the checker reports it)."""

    def __init__(self, checker: Any) -> None:
        self._checker = checker
        self.waited = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._checker, name)

    async def run(self, job: Any) -> Any:
        started = time.monotonic()
        result = await self._checker.run(job)
        lean_s = getattr(result, "seconds", 0.0) or 0.0
        if lean_s > 0:
            self.waited += max(0.0, time.monotonic() - started - lean_s)
        return result


@dataclass
class SampleRun:
    """One sample while it is in flight: the round it is at, and its finished rounds."""

    problem: Problem
    sample: int
    round: int
    history: list[Attempt] = field(default_factory=list)  # its finished rounds, in order
    retries: int = 0  # infrastructure retries of the current round
    answer: Answer | None = None  # awaiting its check (kept across checker_error retries)
    candidate: Candidate | None = None
    prover_s: float = 0.0
    queue_s: float = 0.0  # the current round's check: waiting for a free Lean process

    def next_round(self, finished: Attempt) -> None:
        """Continue with the round after `finished`, which becomes repair material."""
        self.history.append(finished)
        self.round += 1
        self.retries = 0
        self.answer = None
        self.candidate = None
        self.prover_s = 0.0
        self.queue_s = 0.0


def answer_of(attempt: Attempt) -> Answer:
    """The answer a recorded round holds, as the client gave it (for a round whose check
    failed: its answer is checked again, not bought again)."""
    return Answer(
        text=attempt.answer,
        finish_reason=attempt.finish_reason,
        prompt_tokens=attempt.prompt_tokens,
        completion_tokens=attempt.completion_tokens,
        seconds=attempt.prover_s,
        cost=attempt.cost,
    )


def verdict_of(attempt: Attempt) -> Verdict:
    """The Verdict an attempt line records: what a repair turn needs."""
    return Verdict(
        kind=attempt.verdict,
        messages=tuple(LeanMessage.from_json(m) for m in attempt.messages),
        rule=attempt.rule,
        where=attempt.where,
        seconds=attempt.check_s,
        native=attempt.native,
        checked_file=attempt.proof,
        goals=tuple(attempt.goals),
        detail=attempt.error,
    )


def conversation(s: SampleRun, config: Config, template: str | None = None) -> list[ChatMessage]:
    """The messages for the sample's current round (under `template`, default `prompt`)."""
    messages = list(build_prompt(s.problem, template or config.prompt))
    for a in s.history:
        messages.append({"role": "assistant", "content": a.answer})
        messages.append(
            repair_message(verdict_of(a), a.round + 1, config.search.feedback_max_errors, a.proof)
        )
    return messages


def read_answer(answer: Answer, problem: Problem) -> Candidate | Verdict:
    """What Lean is to check in an answer, or the round's verdict when there is nothing to."""
    if answer.error:
        return Verdict(VerdictKind.PROVER_ERROR, detail=answer.error)
    if answer.truncated:
        return Verdict(
            VerdictKind.TRUNCATED,
            detail=answer.note or "the answer hit prover.max_tokens (finish_reason=length)",
        )
    found = extract_proof(answer.text, problem.decl_name)
    if isinstance(found, NoProof):
        return Verdict(VerdictKind.NO_PROOF, detail=found.reason)
    return found


async def check(
    s: SampleRun,
    checker: Any,
    config: Config,
    judge: Callable[[Any], Awaitable[Verdict]] | None = None,
) -> tuple[Verdict, float]:
    """The sample's candidate through the soundness chain (or `judge(checker)`, for a sketch
    or a hole); (verdict, seconds of checking).

    The time the job waited for a free Lean process goes to `s.queue_s`, not into the
    verdict's seconds nor the seconds returned."""
    assert s.candidate is not None
    timed = _Timed(checker)
    started = time.monotonic()
    if judge is None:
        verdict = await verify(s.problem, s.candidate, timed, config)
    else:
        verdict = await judge(timed)
    elapsed = time.monotonic() - started
    s.queue_s = timed.waited
    if timed.waited and verdict.seconds:
        verdict = dataclasses.replace(verdict, seconds=max(0.0, verdict.seconds - timed.waited))
    return verdict, max(0.0, elapsed - timed.waited)


def make_attempt(s: SampleRun, verdict: Verdict, config: Config, check_s: float = 0.0) -> Attempt:
    """The record's line for the sample's current round, ended with `verdict`."""
    answer = s.answer or Answer(text="")
    p = config.prover
    # A conversation that outgrew the model's context (the client's note on an HTTP 400)
    # only grows in another repair round: the sample ends here.
    outgrown = verdict.kind == VerdictKind.TRUNCATED and answer.note is not None
    return Attempt(
        queue_s=round(s.queue_s, 3),
        problem=s.problem.name,
        sample=s.sample,
        round=s.round,
        verdict=verdict.kind,
        rule=verdict.rule,
        where=verdict.where,
        answer=answer.text,
        finish_reason=answer.finish_reason,
        proof=verdict.checked_file or (s.candidate.proof if s.candidate else ""),
        messages=[dict(vars(m)) for m in verdict.messages],  # as to_json(), cheaper
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        cost=price(answer, p),
        prover_s=round(s.prover_s, 3),
        check_s=round(verdict.seconds or check_s, 3),
        model=p.model,
        temperature=p.temperature,
        top_p=p.top_p,
        max_tokens=p.max_tokens,
        seed=p.seed,
        split=s.problem.split,
        native=verdict.native,
        checked_by=verdict.checked_by,
        repl_disagreed=verdict.repl_disagreed,
        error=verdict.detail or answer.error,
        time=timestamp(),
        goals=list(verdict.goals),
        infra_retries=s.retries,
        ends_sample=outgrown and s.round + 1 < 1 + config.search.repair_rounds,
        lean_checks=verdict.lean_checks,
    )
