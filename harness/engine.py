"""The engine: schedules the rounds of the search between the prover and Lean.

Prover requests (`prover.concurrency` workers) and Lean checks (`_CHECK_TASKS_PER_WORKER` tasks
per Lean process) are two sets of workers joined by queues; the number of samples in flight is
capped, and problems are read lazily, so memory stays flat however long the suite is.

What each round does is `harness.attempt`'s; what is left to do comes from `harness.plan`; when
to stop sending requests is `harness.budget`'s. The engine only decides what runs next:

* a round that fails for the model's reason goes back to the prover as the sample's next round
  (until the rounds run out or the sample is proved, or its conversation outgrew the context);
* an infrastructure failure (`prover_error`, `checker_error`) is no repair material: the round
  goes to the back of its queue, up to `search.infra_retries` times, then is recorded as it is;
* with `stop_on_success`, the samples of a problem start one after another, so that a proof
  spares the rest (other problems keep the pipeline full meanwhile);
* a budget reached or a non-retryable prover error sends nothing more; what is in flight is
  checked and recorded, unfinished samples are left for the next run.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.attempt import (
    SampleRun,
    answer_of,
    check,
    conversation,
    make_attempt,
    read_answer,
)
from harness.config import Config
from harness.errors import ProverError
from harness.plan import Budget, Plan, SampleWork, price
from harness.record import RunRecord
from harness.types import Answer, Candidate, Problem, Verdict, VerdictKind

__all__ = ["Engine", "one_line"]

# checking tasks per Lean process (see Engine.run)
_CHECK_TASKS_PER_WORKER = 4


def one_line(exc: BaseException) -> str:
    """Why a run stopped, in one line."""
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted"
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"


@dataclass
class _ProblemState:
    remaining: int  # samples not finished
    proved: bool = False
    proved_before: bool = False  # proved in the record already: counted in the display's start
    # stop_on_success: samples wait here and start one after another
    pending: collections.deque[SampleWork] = field(default_factory=collections.deque)


class Engine:
    def __init__(
        self,
        config: Config,
        record: RunRecord,
        plan: Plan,
        budget: Budget,
        problems: list[Problem],
        progress: Any,
        log: Callable[[str], None],
    ) -> None:
        self.config = config
        self.search = config.search
        self.record = record
        self.plan = plan
        self.budget = budget
        self.problems = problems
        self.progress = progress
        self.log = log
        self.rounds = 1 + self.search.repair_rounds
        self.cap = (
            2 * (config.prover.concurrency + _CHECK_TASKS_PER_WORKER * config.lean.workers) + 2
        )
        self.prover_q: asyncio.Queue[SampleRun] = asyncio.Queue()
        self.check_q: asyncio.Queue[SampleRun] = asyncio.Queue()
        self.states: dict[str, _ProblemState] = {}
        self.active = 0
        self.feeding = True
        self.stopped: str | None = None
        self.fatal: BaseException | None = None
        self.done = asyncio.Event()
        self.slots = asyncio.Semaphore(self.cap)
        self.client: Any = None
        self.checker: Any = None

    # -- samples in and out ------------------------------------------------------------------

    def start_sample(self, problem: Problem, work: SampleWork) -> SampleRun:
        """A sample ready for its next round, its finished rounds read back from the record
        (and, for a round whose check failed, its answer: checked again, not asked again)."""
        history = self.record.read_at(work.offsets) if work.offsets else []
        s = SampleRun(problem, work.sample, work.round, history)
        if work.recheck is not None:
            (failed,) = self.record.read_at([work.recheck]) or [None]
            found = read_answer(answer_of(failed), problem) if failed and failed.answer else None
            if isinstance(found, Candidate):
                s.answer, s.candidate, s.prover_s = answer_of(failed), found, failed.prover_s
        return s

    def enqueue(self, s: SampleRun) -> None:
        """A started sample to its first step: Lean when it has its answer, else the prover."""
        (self.check_q if s.candidate is not None else self.prover_q).put_nowait(s)

    def finish_sample(self, s: SampleRun) -> None:
        state = self.states[s.problem.name]
        state.remaining -= 1
        if state.pending:
            if not state.proved and not self.stopped:
                # the next sample of this problem takes over the slot
                self.enqueue(self.start_sample(s.problem, state.pending.popleft()))
                return
            if state.proved:  # stop_on_success: the waiting samples are not needed
                state.remaining -= len(state.pending)
                state.pending.clear()
        if state.remaining == 0:
            del self.states[s.problem.name]
            self.progress.problem_done(state.proved and not state.proved_before)
        self.active -= 1
        self.slots.release()
        self.check_done()

    def drop_sample(self, s: SampleRun) -> None:
        """Leave a sample unfinished (the run is stopping); the next run picks it up."""
        self.active -= 1
        self.slots.release()
        self.check_done()

    def finish_round(self, s: SampleRun, verdict: Verdict, check_s: float = 0.0) -> None:
        """Record the round, then end the sample or send it to its next round."""
        attempt = make_attempt(s, verdict, self.config, check_s)
        self.record.append(attempt)
        self.progress.attempt(
            verdict.kind == VerdictKind.PROVED, attempt.prompt_tokens + attempt.completion_tokens
        )
        if verdict.kind == VerdictKind.PROVED:
            self.states[s.problem.name].proved = True
            self.finish_sample(s)
        elif verdict.kind.is_infrastructure or attempt.ends_sample or s.round + 1 >= self.rounds:
            self.finish_sample(s)
        else:
            s.next_round(attempt)
            self.prover_q.put_nowait(s)

    # -- stopping ----------------------------------------------------------------------------

    def check_done(self) -> None:
        if self.active == 0 and (not self.feeding or self.stopped):
            self.done.set()

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
            self.log(f"harness: stopping: {reason}; run the same command again to continue")
        self.check_done()

    def halt(self, exc: BaseException) -> None:
        """Stop for an error no retry fixes: send nothing more, record what is in flight,
        then raise `exc` from run()."""
        if self.fatal is None:
            self.fatal = exc
        if self.stopped is None:
            self.stopped = one_line(exc)
        self.check_done()

    # -- workers -----------------------------------------------------------------------------

    async def feed(self) -> None:
        try:
            for problem in self.problems:
                if self.stopped or self.fatal:
                    break
                work = self.plan.work(problem.name)
                if not work:
                    continue
                before = self.plan.proved(problem.name)
                state = _ProblemState(remaining=len(work), proved=before, proved_before=before)
                self.states[problem.name] = state
                if self.search.stop_on_success:
                    state.pending.extend(work[1:])
                    work = work[:1]
                for w in work:
                    await self.slots.acquire()
                    self.active += 1
                    s = self.start_sample(problem, w)
                    if self.stopped or self.fatal:
                        self.drop_sample(s)
                        break
                    self.enqueue(s)
        finally:
            self.feeding = False
            self.check_done()

    async def prover_worker(self) -> None:
        while True:
            s = await self.prover_q.get()
            if self.stopped:
                self.drop_sample(s)
                continue
            if not self.budget.wants(self.states[s.problem.name].proved):
                self.finish_sample(s)
                continue
            reason = self.budget.exhausted()
            if reason:
                self.drop_sample(s)
                self.stop(reason)
                continue
            messages = conversation(s, self.config)
            started = time.monotonic()
            try:
                answer: Answer = await self.client.complete(messages)
            except ProverError as exc:  # e.g. 401: no retry fixes it; finish what is in flight
                self.drop_sample(s)
                self.halt(exc)
                continue
            s.prover_s += time.monotonic() - started
            self.budget.spend(
                answer.prompt_tokens + answer.completion_tokens, price(answer, self.config.prover)
            )
            s.answer = answer
            found = read_answer(answer, s.problem)
            if isinstance(found, Candidate):
                s.candidate = found
                self.check_q.put_nowait(s)
            elif found.kind.is_infrastructure and s.retries < self.search.infra_retries:
                s.retries += 1
                self.prover_q.put_nowait(s)  # later: behind the work already queued
            else:
                self.finish_round(s, found)

    async def check_worker(self) -> None:
        while True:
            s = await self.check_q.get()
            verdict, elapsed = await check(s, self.checker, self.config)
            if verdict.kind == VerdictKind.CHECKER_ERROR and s.retries < self.search.infra_retries:
                s.retries += 1
                self.check_q.put_nowait(s)
                continue
            self.finish_round(s, verdict, elapsed)

    async def _guard(self, coro: Any) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a run-stopping error: keep the first, stop the rest
            if self.fatal is None:
                self.fatal = exc
            self.done.set()

    async def run(self, client: Any, checker: Any) -> None:
        """Run every planned round (or until stopped) with this prover client and checker."""
        self.client, self.checker = client, checker
        tasks = [asyncio.create_task(self._guard(self.feed()))]
        tasks += [
            asyncio.create_task(self._guard(self.prover_worker()))
            for _ in range(self.config.prover.concurrency)
        ]
        # More checking tasks than Lean processes: while some do verify's CPU work (screen,
        # splice, verdicts), others wait at the checker with their job ready, so a Lean
        # process that frees up gets its next job at once. (Short checks come in bursts: two
        # spare tasks per process were not always enough.) The checker itself caps the
        # processes at lean.workers.
        tasks += [
            asyncio.create_task(self._guard(self.check_worker()))
            for _ in range(_CHECK_TASKS_PER_WORKER * self.config.lean.workers)
        ]
        try:
            await self.done.wait()
        finally:
            # Python 3.11's wait_for can swallow a cancellation that races with its result
            # (gh-86296), leaving a worker that goes back to its queue: cancel until all end.
            pending = set(tasks)
            while pending:
                for t in pending:
                    t.cancel()
                _, pending = await asyncio.wait(pending, timeout=1.0)
        if self.fatal is not None:
            raise self.fatal
