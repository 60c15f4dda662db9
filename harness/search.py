"""The proof search: samples x repair rounds, as a pipeline between the prover and Lean.

For each problem, `search.samples` independent samples; each sample is a conversation of up to
1 + `search.repair_rounds` rounds, in which the reason the last round failed goes back to the
model (`prompts.repair_message`), and which stops at its first proved round. Infrastructure
failures (`prover_error`, `checker_error`) are not repair material: the round goes to the back
of its queue and is retried, up to `search.infra_retries` times, then recorded as it is.

Prover requests (`prover.concurrency` in flight) and Lean checks (`lean.workers` busy) are two
sets of workers joined by queues; the number of samples in flight is capped, and problems are
read lazily, so memory stays flat however long the suite is.

The run directory (`record.RunRecord`) is the truth. Resume reads its index: finished rounds
are skipped exactly, a sample with finished rounds continues at its next round with its
conversation rebuilt from the record, and rounds whose last line is an infrastructure failure
are retried (the new line supersedes the old).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import Config, config_hash
from harness.errors import ConfigError, PrerequisiteError, ProverError
from harness.progress import ProgressCounts, make_progress
from harness.record import RecordIndex, RunRecord, summarize_record
from harness.types import (
    Answer,
    Attempt,
    Candidate,
    ChatMessage,
    LeanMessage,
    NoProof,
    Problem,
    Suite,
    Summary,
    Verdict,
    VerdictKind,
)

__all__ = [
    "run",
    "run_async",
    "run_search",
    "parse_shard",
    "shard_from_env",
    "select_problems",
    "default_out_dir",
    "verdict_of",
]

_INFRA = {VerdictKind.PROVER_ERROR.value, VerdictKind.CHECKER_ERROR.value}
# checking tasks per Lean process (see _Search.run)
_CHECK_TASKS_PER_WORKER = 4


# ---------------------------------------------------------------------------------------------
# Selecting problems


def parse_shard(text: str) -> tuple[int, int]:
    """`"i/n"` (0 <= i < n) -> (i, n)."""
    try:
        i_text, n_text = text.split("/", 1)
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise ConfigError(f"--shard {text!r}: expected i/n, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard {text!r}: need 0 <= i < n")
    return i, n


def shard_from_env(env: dict[str, str] | None = None) -> tuple[int, int] | None:
    """The shard of a Slurm array task (`--array=0-3` or `1-4`), or None outside one."""
    env = os.environ if env is None else env
    task, count = env.get("SLURM_ARRAY_TASK_ID"), env.get("SLURM_ARRAY_TASK_COUNT")
    if not task or not count:
        return None
    try:
        i = int(task) - int(env.get("SLURM_ARRAY_TASK_MIN", "0") or 0)
        n = int(count)
    except ValueError:
        return None
    return (i, n) if 0 <= i < n else None


def select_problems(
    problems: Iterable[Problem], limit: int | None = None, shard: tuple[int, int] | None = None
) -> list[Problem]:
    """The first `limit` problems, then every n-th from the i-th: deterministic, disjoint shares."""
    chosen = list(problems)
    if limit is not None:
        chosen = chosen[:limit]
    if shard is not None:
        i, n = shard
        chosen = chosen[i::n]
    return chosen


def default_out_dir(suite: str, shard: tuple[int, int] | None = None) -> Path:
    name = Path(suite).stem if os.sep in suite else suite
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    tail = f"-shard{shard[0]}of{shard[1]}" if shard else ""
    return Path("runs") / f"{name}-{stamp}{tail}"


# ---------------------------------------------------------------------------------------------
# Prerequisites


def _check_lean(config: Config) -> None:
    """Fail before any work when Lean cannot be started, naming what is missing."""
    lean = config.lean
    project = Path(lean.project_dir)
    if not project.is_dir():
        raise PrerequisiteError(
            f"Lean project not found: lean.project_dir {lean.project_dir} does not exist; "
            "run `harness setup` or set lean.project_dir"
        )
    command = lean.repl_command if lean.backend == "repl" else ["lake"]
    program = command[0]
    if not (shutil.which(program) or (os.sep in program and Path(program).is_file())):
        hint = (
            "install elan, then run `harness setup`"
            if program in ("lake", "lean")
            else ("check lean.repl_command")
        )
        what = "Lean REPL" if lean.backend == "repl" else "Lean"
        raise PrerequisiteError(f"{what} not found: `{program}` is not on PATH; {hint}")
    # The default command runs a REPL binary built inside the project.
    if lean.backend == "repl" and program == "lake" and len(command) >= 3 and command[1] == "env":
        binary = Path(command[2])
        if not binary.is_absolute() and os.sep in command[2] and not (project / binary).exists():
            raise PrerequisiteError(
                f"Lean REPL not found: {project / binary} is not built; run `harness setup`"
            )


@functools.lru_cache(maxsize=1)
def _utc_second(second: int) -> str:
    return dt.datetime.fromtimestamp(second, dt.UTC).isoformat(timespec="seconds")


def _now() -> str:
    # formatted once per second, not once per attempt
    return _utc_second(int(time.time()))


# ---------------------------------------------------------------------------------------------
# Rebuilding a verdict and a conversation from the record


def verdict_of(attempt: Attempt) -> Verdict:
    """The Verdict an attempt line records: what a repair turn needs."""
    return Verdict(
        kind=VerdictKind(attempt.verdict),
        messages=tuple(LeanMessage.from_json(m) for m in attempt.messages),
        rule=attempt.rule,
        where=attempt.where,
        seconds=attempt.check_s,
        native=attempt.native,
        checked_file=attempt.proof,
        goals=tuple(attempt.goals),
        detail=attempt.error,
    )


@dataclass
class _Sample:
    """One sample's state while it is in flight."""

    problem: Problem
    sample: int
    round: int
    history: list[Attempt] = field(default_factory=list)  # its finished rounds, in order
    retries: int = 0  # infrastructure retries of the current round
    answer: Answer | None = None  # awaiting its check (kept across checker_error retries)
    candidate: Candidate | None = None
    prover_s: float = 0.0


@dataclass
class _ProblemState:
    remaining: int  # samples not finished
    proved: bool = False
    # stop_on_success: samples wait here and start one after another, so that a proof
    # spares the rest (other problems keep the pipeline full meanwhile)
    pending: collections.deque[tuple[int, int, list[int]]] = field(
        default_factory=collections.deque
    )


# ---------------------------------------------------------------------------------------------
# The engine


class _Search:
    def __init__(
        self,
        config: Config,
        record: RunRecord,
        index: RecordIndex,
        problems: list[Problem],
        progress: Any,
        log: Callable[[str], None],
    ) -> None:
        from harness.extract import extract_proof
        from harness.prompts import build_prompt, repair_message
        from harness.soundness import verify

        self._extract_proof = extract_proof
        self._build_prompt = build_prompt
        self._repair_message = repair_message
        self._verify = verify

        self.config = config
        self.search = config.search
        self.record = record
        self.problems = problems
        self.progress = progress
        self.log = log
        self.rounds = 1 + self.search.repair_rounds
        # (problem -> sample -> round -> (offset, verdict)): the record, without its text
        self.recorded: dict[str, dict[int, dict[int, tuple[int, str]]]] = {}
        for (problem, sample, rnd), value in index.last.items():
            self.recorded.setdefault(problem, {}).setdefault(sample, {})[rnd] = value
        self.ended = index.ended  # rounds that ended their sample early
        self.tokens = 0
        self.cost = 0.0
        for a in record.iter_effective(light=True, index=index):
            self.tokens += a.prompt_tokens + a.completion_tokens
            self.cost += a.cost or 0.0
        self.cap = (
            2 * (config.prover.concurrency + _CHECK_TASKS_PER_WORKER * config.lean.workers) + 2
        )
        self.prover_q: asyncio.Queue[_Sample] = asyncio.Queue()
        self.check_q: asyncio.Queue[_Sample] = asyncio.Queue()
        self.states: dict[str, _ProblemState] = {}
        self.active = 0
        self.feeding = True
        self.stopped: str | None = None
        self.fatal: BaseException | None = None
        self.done = asyncio.Event()
        self.slots = asyncio.Semaphore(self.cap)
        self.client: Any = None
        self.checker: Any = None

    # -- planning from the record ----------------------------------------------------------------

    def plan(self, problem: Problem) -> list[tuple[int, int, list[int]]]:
        """(sample, next round, offsets of its finished rounds) for each sample with work left."""
        recorded = self.recorded.get(problem.name, {})
        if self.search.stop_on_success and any(
            v == VerdictKind.PROVED for rounds in recorded.values() for _, v in rounds.values()
        ):
            return []
        work = []
        for sample in range(self.search.samples):
            rounds = recorded.get(sample, {})
            offsets: list[int] = []
            nxt = 0
            finished = False
            while nxt < self.rounds:
                entry = rounds.get(nxt)
                if entry is None or entry[1] in _INFRA:
                    break  # not done, or to retry
                offsets.append(entry[0])
                if entry[1] == VerdictKind.PROVED or (problem.name, sample, nxt) in self.ended:
                    finished = True
                    break
                nxt += 1
            if not finished and nxt < self.rounds:
                work.append((sample, nxt, offsets))
        return work

    def already_proved(self, problem: Problem) -> bool:
        return any(
            v == VerdictKind.PROVED
            for rounds in self.recorded.get(problem.name, {}).values()
            for _, v in rounds.values()
        )

    # -- conversation ------------------------------------------------------------------------

    def conversation(self, s: _Sample) -> list[ChatMessage]:
        messages = list(self._build_prompt(s.problem, self.config.prompt))
        for a in s.history:
            messages.append({"role": "assistant", "content": a.answer})
            messages.append(
                self._repair_message(
                    verdict_of(a), a.round + 1, self.search.feedback_max_errors, a.proof
                )
            )
        return messages

    # -- bookkeeping -------------------------------------------------------------------------

    def over_budget(self) -> str | None:
        if self.search.max_tokens is not None and self.tokens >= self.search.max_tokens:
            return f"token budget reached ({self.tokens:,} >= search.max_tokens {self.search.max_tokens:,})"
        if self.search.max_cost is not None and self.cost >= self.search.max_cost:
            return (
                f"cost budget reached (${self.cost:.4f} >= search.max_cost ${self.search.max_cost})"
            )
        return None

    def finish_sample(self, s: _Sample) -> None:
        state = self.states[s.problem.name]
        state.remaining -= 1
        if state.pending:
            if not state.proved and not self.stopped:
                # the next sample of this problem takes over the slot
                self.prover_q.put_nowait(self.sample(s.problem, *state.pending.popleft()))
                return
            if state.proved:  # stop_on_success: the waiting samples are not needed
                state.remaining -= len(state.pending)
                state.pending.clear()
        if state.remaining == 0:
            del self.states[s.problem.name]
            self.progress.problem_done(state.proved)
        self.active -= 1
        self.slots.release()
        self.check_done()

    def drop_sample(self, s: _Sample) -> None:
        """Leave a sample unfinished (the run is stopping); the next run picks it up."""
        self.active -= 1
        self.slots.release()
        self.check_done()

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
            self.stopped = _one_line(exc)
        self.check_done()

    def _cost(self, answer: Answer) -> float | None:
        if answer.cost is not None:
            return answer.cost
        p = self.config.prover
        if p.price_prompt_per_mtok is None or p.price_completion_per_mtok is None:
            return None
        return (
            answer.prompt_tokens * p.price_prompt_per_mtok
            + answer.completion_tokens * p.price_completion_per_mtok
        ) / 1e6

    def finish_round(self, s: _Sample, verdict: Verdict, check_s: float = 0.0) -> None:
        answer = s.answer or Answer(text="")
        p = self.config.prover
        proof = verdict.checked_file or (s.candidate.proof if s.candidate else "")
        # A conversation that outgrew the model's context (the client's note on an HTTP 400)
        # only grows in another repair round: the sample ends here.
        outgrown = verdict.kind == VerdictKind.TRUNCATED and answer.note is not None
        attempt = Attempt(
            problem=s.problem.name,
            sample=s.sample,
            round=s.round,
            verdict=verdict.kind.value,
            rule=verdict.rule,
            where=verdict.where,
            answer=answer.text,
            finish_reason=answer.finish_reason,
            proof=proof,
            messages=[dict(vars(m)) for m in verdict.messages],  # as to_json(), cheaper
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost=self._cost(answer),
            prover_s=round(s.prover_s, 3),
            check_s=round(verdict.seconds or check_s, 3),
            model=p.model,
            temperature=p.temperature,
            top_p=p.top_p,
            max_tokens=p.max_tokens,
            seed=p.seed,
            split=s.problem.split,
            native=verdict.native,
            error=verdict.detail or answer.error,
            time=_now(),
            goals=list(verdict.goals),
            infra_retries=s.retries,
            ends_sample=outgrown and s.round + 1 < self.rounds,
        )
        self.record.append(attempt)
        self.progress.attempt(
            verdict.kind == VerdictKind.PROVED, answer.prompt_tokens + answer.completion_tokens
        )
        state = self.states[s.problem.name]
        if verdict.kind == VerdictKind.PROVED:
            state.proved = True
            self.finish_sample(s)
        elif verdict.kind.is_infrastructure or outgrown or s.round + 1 >= self.rounds:
            self.finish_sample(s)
        else:
            s.history.append(attempt)
            s.round += 1
            s.retries = 0
            s.answer = None
            s.candidate = None
            s.prover_s = 0.0
            self.prover_q.put_nowait(s)

    # -- workers -----------------------------------------------------------------------------

    def sample(self, problem: Problem, sample: int, nxt: int, offsets: list[int]) -> _Sample:
        """A sample ready for its next round, its finished rounds read back from the record."""
        history = self.record.read_at(offsets) if offsets else []
        return _Sample(problem, sample, nxt, history)

    async def feed(self) -> None:
        try:
            for problem in self.problems:
                if self.stopped or self.fatal:
                    break
                work = self.plan(problem)
                if not work:
                    continue
                state = _ProblemState(remaining=len(work), proved=self.already_proved(problem))
                self.states[problem.name] = state
                if self.search.stop_on_success:
                    state.pending.extend(work[1:])
                    work = work[:1]
                for sample, nxt, offsets in work:
                    await self.slots.acquire()
                    self.active += 1
                    s = self.sample(problem, sample, nxt, offsets)
                    if self.stopped or self.fatal:
                        self.drop_sample(s)
                        break
                    self.prover_q.put_nowait(s)
        finally:
            self.feeding = False
            self.check_done()

    async def prover_worker(self) -> None:
        while True:
            s = await self.prover_q.get()
            if self.stopped:
                self.drop_sample(s)
                continue
            if self.search.stop_on_success and self.states[s.problem.name].proved:
                self.finish_sample(s)
                continue
            reason = self.over_budget()
            if reason:
                self.drop_sample(s)
                self.stop(reason)
                continue
            messages = self.conversation(s)
            started = time.monotonic()
            try:
                answer: Answer = await self.client.complete(messages)
            except ProverError as exc:  # e.g. 401: no retry fixes it; finish what is in flight
                self.drop_sample(s)
                self.halt(exc)
                continue
            s.prover_s += time.monotonic() - started
            self.tokens += answer.prompt_tokens + answer.completion_tokens
            self.cost += self._cost(answer) or 0.0
            s.answer = answer
            if answer.error:
                if s.retries < self.search.infra_retries:
                    s.retries += 1
                    self.prover_q.put_nowait(s)  # later: behind the work already queued
                    continue
                self.finish_round(s, Verdict(VerdictKind.PROVER_ERROR, detail=answer.error))
                continue
            if answer.truncated:
                self.finish_round(
                    s,
                    Verdict(
                        VerdictKind.TRUNCATED,
                        detail=answer.note
                        or "the answer hit prover.max_tokens (finish_reason=length)",
                    ),
                )
                continue
            found = self._extract_proof(answer.text, s.problem.decl_name)
            if isinstance(found, NoProof):
                self.finish_round(s, Verdict(VerdictKind.NO_PROOF, detail=found.reason))
                continue
            s.candidate = found
            self.check_q.put_nowait(s)

    async def check_worker(self) -> None:
        while True:
            s = await self.check_q.get()
            assert s.candidate is not None
            started = time.monotonic()
            verdict: Verdict = await self._verify(s.problem, s.candidate, self.checker, self.config)
            elapsed = time.monotonic() - started
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


# ---------------------------------------------------------------------------------------------
# The run


def _header(
    config: Config,
    suite: Suite,
    problems: list[Problem],
    old: dict[str, Any],
    versions: dict[str, str],
    limit: int | None,
    shard: tuple[int, int] | None,
) -> dict[str, Any]:
    from harness import __version__

    seen = {p["name"] for p in old.get("problems", [])}
    listed = list(old.get("problems", []))
    listed += [{"name": p.name, "split": p.split} for p in problems if p.name not in seen]
    return {
        "harness_version": __version__,
        "config_hash": config_hash(config),
        "suite": suite.source.to_json(),
        "lean_toolchain": versions.get("lean_toolchain") or old.get("lean_toolchain") or "unknown",
        "mathlib_rev": versions.get("mathlib_rev") or old.get("mathlib_rev") or "unknown",
        "model": config.prover.model,
        "prompt": config.prompt,
        "samples": config.search.samples,
        "repair_rounds": config.search.repair_rounds,
        "selection": {
            "limit": limit,
            "shard": f"{shard[0]}/{shard[1]}" if shard else None,
        },
        "started": old.get("started") or _now(),
        "finished": None,
        "stopped": None,
        "wall_s": float(old.get("wall_s") or 0.0),
        "invocations": int(old.get("invocations") or 0) + 1,
        "problems": listed,
    }


def _lean_versions(config: Config) -> dict[str, str]:
    try:
        from harness.checker.toolchain import project_versions

        return project_versions(config.lean.project_dir)
    except Exception:  # versions are information, never a reason to stop
        return {}


async def run_search(
    config: Config,
    suite: Suite,
    out_dir: str | os.PathLike[str],
    *,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    write_report: bool = True,
) -> Summary:
    """Run (or resume) the search of `suite` into `out_dir`; returns the run's summary."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    from harness.client import ProverClient, require_api_key

    api_key = require_api_key(config)  # before any work: a missing key is one clear line
    _check_lean(config)

    record = RunRecord(out_dir, secrets=[api_key] if api_key else [])
    diff = record.check_config(config, force=force)
    if diff:
        log(f"harness: warning: continuing with a changed config ({'; '.join(diff)})")
    problems = select_problems(suite.problems, limit, shard)
    record.dir.mkdir(parents=True, exist_ok=True)
    torn = record.repair()
    if torn:
        log(f"harness: {record.attempts_path}: removed a torn last line ({torn} bytes)")
    index = record.index()
    if index.unreadable:
        log(f"harness: {record.attempts_path}: skipped {index.unreadable} unreadable lines")

    versions = _lean_versions(config)
    pinned = suite.source.lean_toolchain
    have = versions.get("lean_toolchain", "unknown")
    if pinned and have not in ("", "unknown") and pinned.split(":")[-1] != have.split(":")[-1]:
        log(
            f"harness: warning: suite {suite.source.suite} is pinned to Lean {pinned}, "
            f"but {config.lean.project_dir} uses {have}; results may differ"
        )

    header = _header(config, suite, problems, record.read_header(), versions, limit, shard)
    record.write_config(config)
    record.write_header(header)

    engine = _Search(config, record, index, problems, None, log)
    counts = ProgressCounts(
        problems=len(problems),
        done=sum(1 for p in problems if not engine.plan(p)),
        proved=sum(1 for p in problems if engine.already_proved(p)),
    )
    display = make_progress(counts, enabled=progress)
    engine.progress = display
    started = time.monotonic()
    error: BaseException | None = None
    try:
        if counts.done < len(problems):  # a finished run makes no request and no check
            from harness.checker import open_checker

            record.open()
            display.start()
            try:
                async with (
                    ProverClient(config.prover, api_key) as client,
                    open_checker(config) as checker,
                ):
                    await engine.run(client, checker)
            finally:
                display.stop()
    except BaseException as exc:
        error = exc
        raise
    finally:
        record.close()
        header["wall_s"] = round(header["wall_s"] + time.monotonic() - started, 3)
        header["stopped"] = engine.stopped or (_one_line(error) if error is not None else None)
        header["finished"] = _now() if error is None and engine.stopped is None else None
        record.write_header(header)
        summary = summarize_record(record)
        record.write_summary(summary)
        if write_report:
            try:
                from harness.report import write_reports

                write_reports(record.dir)
            except Exception as exc:  # the record is safe; a report can be rebuilt later
                log(
                    f"harness: warning: report not written ({exc}); run `harness report {record.dir}`"
                )
    return summary


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted"
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}"


async def run_async(
    config: Config,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    suite: Suite | None = None,
    from_dir: str | None = None,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    progress: bool = True,
) -> Summary:
    """Load the config's suite (unless given) and run the search; the library form of `harness run`."""
    if suite is None:
        from harness.suites import load_suite

        suite = load_suite(config.suite, config, from_dir=from_dir)
    if shard is None:
        shard = shard_from_env()
    out = Path(out_dir) if out_dir is not None else default_out_dir(config.suite, shard)
    return await run_search(
        config, suite, out, limit=limit, shard=shard, force=force, progress=progress
    )


def run(config: Config, out_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> Summary:
    """Synchronous `run_async`: `harness.run(config)` does what `harness run` does."""
    return asyncio.run(run_async(config, out_dir, **kwargs))
