"""A pool of REPL processes keyed by import block: import once, reuse for every header.

Each process imports its header's import lines once (under `lean.header_timeout_s`), proves the
import really loaded by running probe commands (the REPL ignores a bad import silently), and
keeps one child environment per distinct options/opens part of a header. A job's commands then
run in that environment, one after another, each in the environment the previous one left; the
audits run last, each in the environment the commands left, sent together (one round trip).
Two savings that change no answer: a job's first command (the suite's reference statement,
the same for every sample of a problem) is elaborated once per process and its environment
reused; and when the last command has errors the audits are not run (each comes back with
`repl_error` "not run: ...", as from the one-shot backend). At most `lean.workers` processes
exist; an idle process of another import block is evicted when a new block needs a slot.

Up to `lean.pipeline_depth` jobs use one process at once (when every process is busy): their
requests are written as soon as they are ready and Lean answers them in order, so it finds the
next one waiting the moment it finishes a reply instead of waiting for the harness to read it
and decide. A job's time limit counts from when Lean reaches its request.

Failure policy (the caller never sees a pass from a broken process):
- wall-clock expiry (`job.timeout_s` or `lean.timeout_s`, Lean's time on the job's own
  requests): the process group is killed and the slot freed → outcome "timeout";
- EOF, non-zero exit, unparsable output: the process is discarded and the job retried once on a
  fresh process; a second failure → outcome "checker_error" with a one-line reason;
- a job in line behind a job that timed out, crashed or was cancelled never reached Lean: it is
  put back (on another process) without using up its retry;
- a process is replaced after `lean.recycle_after` checks (the REPL never frees environments).
A REPL-level `{"message": ...}` reply to a command is an answer, not a crash: it is recorded as
that command's `repl_error`, and the following commands run in the last environment Lean gave.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checker import protocol
from harness.checker.process import ReplProcess, open_workspace
from harness.checker.toolchain import project_versions
from harness.config import Config
from harness.errors import CheckerError, ReplCrashed, ReplInterrupted, ReplTimeout
from harness.types import CommandResult, LeanJob, LeanJobResult, LeanMessage

__all__ = ["ReplPool", "HeaderInvalid", "BASE_PROBE"]

# Run with the imports in the process's first command: every import block must elaborate it.
BASE_PROBE = "#check Nat"
# First-command results remembered per process: enough for the problems in flight at once.
_FIRST_RESULTS_KEPT = 64
# Times a job may be put back because another job stopped its process (each stop is some
# other job's timeout or crash, so this only bounds a pathological run).
_INTERRUPTIONS_MAX = 8


class HeaderInvalid(CheckerError):
    """The header's imports did not load (a probe failed): no check can mean anything."""

    def __init__(self, message: str, messages: tuple[LeanMessage, ...] = ()) -> None:
        super().__init__(message)
        self.messages = messages


@dataclass
class _Worker:
    key: tuple[str, ...]
    process: ReplProcess
    jobs: int = 1  # jobs using the process now (at most lean.pipeline_depth)
    retiring: bool = False  # takes no new job; closed when its last job leaves
    ready: bool = False
    preparing: bool = False
    setup: asyncio.Lock = field(default_factory=asyncio.Lock)
    base_env: int | None = None
    # non-import header text -> (env id, messages Lean gave for it, in header coordinates)
    header_envs: dict[str, tuple[int | None, tuple[LeanMessage, ...]]] = field(default_factory=dict)
    checks: int = 0
    last_used: float = 0.0
    # (env, text) of a job's first command -> its result (a future while Lean works on it, so
    # a job queued behind waits for it instead of sending it again), oldest first (see _run_on)
    first_results: dict[tuple[int | None, str], asyncio.Future[CommandResult]] = field(
        default_factory=dict
    )


def _modules(import_lines: tuple[str, ...]) -> list[str]:
    modules: list[str] = []
    for line in import_lines:
        modules.extend(word for word in line.split()[1:] if word not in ("runtime",))
    return modules


def _first_problem(result: CommandResult) -> str:
    if result.repl_error:
        return result.repl_error.splitlines()[0]
    if result.errors:
        return result.errors[0].text.splitlines()[0]
    return "no error text"


class ReplPool:
    """The "repl" backend of `open_checker`. Use as `async with ReplPool(config) as pool`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lean = config.lean
        self.project_dir = Path(self.lean.project_dir).resolve()
        self._workers: list[_Worker] = []
        self._cond = asyncio.Condition()
        self._names = itertools.count(1)
        self._scratch: Path | None = None
        self._own_scratch = False
        self._closed = False
        # import blocks whose probe failed: the project does not change during a run, so later
        # jobs fail at once instead of paying for the import again
        self._invalid: dict[tuple[str, ...], HeaderInvalid] = {}
        # tasks waiting in _acquire, per (import block, fresh) (see _release)
        self._waiting: collections.Counter[tuple[tuple[str, ...], bool]] = collections.Counter()
        self.stats: dict[str, Any] = {
            "backend": "repl",
            "checks": 0,
            "timeouts": 0,
            "crashes": 0,
            "retries": 0,
            "interruptions": 0,
            "checker_errors": 0,
            "processes_started": 0,
            "imports": 0,
            "max_processes": 0,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> ReplPool:
        self._scratch, self._own_scratch = open_workspace(self.lean)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Kill and reap every process. The pool cannot be used afterwards."""
        self._closed = True
        async with self._cond:
            workers, self._workers = self._workers, []
            self._cond.notify_all()
        for worker in workers:
            await worker.process.close()
        if self._own_scratch and self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def versions(self) -> dict[str, str]:
        return project_versions(self.project_dir)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live REPL processes (for tests and diagnostics)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    # -- slots ----------------------------------------------------------------------------------

    def _new_worker(self, key: tuple[str, ...]) -> _Worker:
        assert self._scratch is not None
        process = ReplProcess(
            self.lean.repl_command,
            self.project_dir,
            self._scratch,
            memory_mb=self.lean.memory_mb,
            file_size_mb=self.lean.file_size_mb,
            env_passthrough=self.lean.env_passthrough,
            env_withhold=(self.config.prover.api_key_env,),
            name=f"repl-{next(self._names)}",
        )
        worker = _Worker(key=key, process=process)
        self._workers.append(worker)
        self.stats["max_processes"] = max(self.stats["max_processes"], len(self._workers))
        return worker

    async def _acquire(self, key: tuple[str, ...], fresh: bool) -> _Worker:
        """A process for `key`: an idle one, else a new one while there are free slots, else a
        place in line on a busy one (`lean.pipeline_depth`), else evict an idle process of
        another import block. `fresh`: a new process only (a retry after a crash)."""
        depth = self.lean.pipeline_depth
        async with self._cond:
            while True:
                if self._closed:
                    raise CheckerError("the Lean checker is closed")
                if key in self._invalid:  # found bad while this job waited
                    raise self._invalid[key]
                # while a waiter only an idle process can serve (another import block, a fresh
                # retry) waits, no job queues behind a busy process, so one drains
                need_idle = self._someone_needs_idle(key)
                if not fresh:
                    usable = [
                        w
                        for w in self._workers
                        if w.key == key
                        and w.jobs < depth
                        and not w.retiring
                        # jobs in line count toward lean.recycle_after too
                        and w.checks + w.jobs < self.lean.recycle_after
                    ]
                    best = min(usable, key=lambda w: w.jobs, default=None)
                    # a job in line waits for the one ahead: an idle or new process is better
                    if best is not None and (
                        best.jobs == 0
                        or (len(self._workers) >= self.lean.workers and not need_idle)
                    ):
                        best.jobs += 1
                        return best
                if len(self._workers) < self.lean.workers:
                    return self._new_worker(key)
                idle = [
                    w
                    for w in self._workers
                    if w.jobs == 0 and not w.retiring and (fresh or w.key != key)
                ]
                if idle:
                    victim = min(idle, key=lambda w: w.last_used)
                    self._workers.remove(victim)
                    await victim.process.close()
                    return self._new_worker(key)
                self._waiting[(key, fresh)] += 1
                try:
                    await self._cond.wait()
                except asyncio.CancelledError:
                    # Pass on a wake-up this waiter may have consumed (3.11 drops it).
                    self._cond.notify(1)
                    raise
                finally:
                    self._waiting[(key, fresh)] -= 1

    async def _discard(self, worker: _Worker) -> None:
        """Release and close a process whose state is unknown. Shielded: a cancel arriving
        meanwhile must not leave it in the pool half-closed, holding its slot for ever."""
        await asyncio.shield(self._release(worker, discard=True))

    def _someone_needs_idle(self, key: tuple[str, ...]) -> bool:
        """Whether a waiter could use only an idle process, not a place in line on `key`'s."""
        return sum(self._waiting.values()) > self._waiting[(key, False)]

    async def _release(self, worker: _Worker, discard: bool) -> None:
        worker.last_used = time.monotonic()
        async with self._cond:
            worker.jobs -= 1
            if discard or worker.checks >= self.lean.recycle_after:
                worker.retiring = True
            closing = worker.retiring and worker.jobs == 0
            if not closing:
                # An idle process serves any waiter (reuse, or evict and replace); a place in
                # line on a busy one only a waiter for its imports: wake them all only if one of
                # another import block could take the wake-up and leave the place unused.
                inline = self._waiting[(worker.key, False)]
                if worker.jobs == 0 or inline == sum(self._waiting.values()):
                    self._cond.notify(1)
                else:
                    self._cond.notify_all()
                return
        # Closed before its slot is given up: never more than lean.workers processes alive.
        await worker.process.close()
        async with self._cond:
            if worker in self._workers:
                self._workers.remove(worker)
            self._cond.notify_all()

    # -- preparing a process ----------------------------------------------------------------------

    async def _prepare(self, worker: _Worker) -> None:
        """Start the process, import once, and prove the imports loaded."""
        process = worker.process
        worker.preparing = True
        await process.start()
        self.stats["processes_started"] += 1
        self.stats["imports"] += 1
        timeout = self.lean.header_timeout_s
        start = time.monotonic()
        first = "\n".join((*worker.key, BASE_PROBE))
        result = protocol.decode_reply(
            await process.request(protocol.encode_command(first), timeout)
        )
        if result.env is None or protocol.classify(result) == "lean_error":
            raise HeaderInvalid(
                f"the imports {' '.join(_modules(worker.key)) or '(none)'} did not load: "
                f"{_first_problem(result)} (is lean.project_dir built? try `harness doctor`)",
                result.errors,
            )
        worker.base_env = result.env
        for module in _modules(worker.key):
            probe = self.lean.import_probes.get(module)
            if not probe:
                continue
            remaining = timeout - (time.monotonic() - start)
            reply = await process.request(
                protocol.encode_command(probe, worker.base_env), remaining
            )
            checked = protocol.decode_reply(reply)
            if protocol.classify(checked) == "lean_error":
                raise HeaderInvalid(
                    f"import {module} did not load: `{probe}` failed: {_first_problem(checked)} "
                    "(is the package built in lean.project_dir? try `harness setup`)",
                    checked.errors,
                )
        worker.ready = True

    async def _header_env(
        self, worker: _Worker, parts: protocol.HeaderParts
    ) -> tuple[int | None, tuple[LeanMessage, ...]]:
        rest = parts.rest
        if not rest.strip():
            return worker.base_env, ()
        if rest not in worker.header_envs:
            reply = await worker.process.request(
                protocol.encode_command(rest, worker.base_env), self.lean.header_timeout_s
            )
            result = protocol.decode_reply(reply)
            shift = parts.rest_line - 1
            messages = tuple(
                LeanMessage(
                    severity=m.severity,
                    line=m.line + shift if m.line else m.line,
                    column=m.column,
                    text=m.text,
                    end_line=m.end_line + shift if m.end_line else m.end_line,
                    end_column=m.end_column,
                )
                for m in result.messages
            )
            if result.repl_error:
                messages += (LeanMessage("error", 0, 0, result.repl_error),)
            env = result.env if result.env is not None else worker.base_env
            worker.header_envs[rest] = (env, messages)
        return worker.header_envs[rest]

    # -- running a job ----------------------------------------------------------------------------

    async def _run_on(
        self, worker: _Worker, parts: protocol.HeaderParts, job: LeanJob, timeout: float
    ) -> LeanJobResult:
        async with worker.setup:  # one job prepares a process; a job in line waits for it
            if not worker.ready:
                if worker.preparing:  # the job that prepared it failed: it is gone
                    raise ReplInterrupted("the REPL failed to start for another job")
                await self._prepare(worker)
            env, header_messages = await self._header_env(worker, parts)
        # The check's time limit counts Lean's time on this job's own requests: neither a
        # process's one-time import nor the time spent in line behind another job is charged.
        spent = 0.0
        process = worker.process

        async def send(texts: list[str], env: int | None) -> list[dict[str, Any]]:
            nonlocal spent
            objs = [protocol.encode_command(text, env) for text in texts]
            replies, seconds = await process.exchange(objs, timeout - spent)
            spent += seconds
            return replies

        first, *rest = job.commands or ("",)
        commands: list[CommandResult] = []
        if job.commands:
            # The first command (the suite's reference statement) repeats for every sample of a
            # problem; in one environment the same text gives the same result and a new,
            # immutable environment, so it is elaborated once per process and reused.
            key = (env, first)
            pending = worker.first_results.get(key)
            if pending is None:
                pending = asyncio.get_running_loop().create_future()
                worker.first_results[key] = pending
                if len(worker.first_results) > _FIRST_RESULTS_KEPT:
                    del worker.first_results[next(iter(worker.first_results))]
                try:
                    cached = protocol.decode_reply((await send([first], env))[0])
                except BaseException:
                    worker.first_results.pop(key, None)
                    pending.set_exception(ReplInterrupted("the REPL failed on another job"))
                    pending.exception()  # retrieved: no "never retrieved" warning without waiters
                    raise
                if cached.env is None or cached.repl_error is not None:
                    worker.first_results.pop(key, None)  # not reusable; the waiters may use it
                pending.set_result(cached)
            else:
                # shield: a cancel of this job must not cancel the job computing it
                cached = await asyncio.shield(pending)
            commands.append(cached)
            if cached.env is not None:
                env = cached.env
        for text in rest:
            result = protocol.decode_reply((await send([text], env))[0])
            commands.append(result)
            if result.env is not None:
                env = result.env
        audits: list[CommandResult] = []
        if job.audits and commands and protocol.classify(commands[-1]) == "lean_error":
            # Audits judge a declaration Lean accepted; after errors they can say nothing
            # (as the one-shot backend, which has no .olean to audit then).
            reason = "not run: the last command has errors"
            audits = [CommandResult(repl_error=reason) for _ in job.audits]
        elif job.audits:
            # Every audit runs in the environment the commands left and none depends on
            # another's reply: send them together, one round trip for all.
            audits = [protocol.decode_reply(reply) for reply in await send(list(job.audits), env)]
        worker.checks += 1
        return LeanJobResult(
            outcome="ok",
            commands=tuple(commands),
            audits=tuple(audits),
            seconds=spent,
            header_messages=header_messages,
        )

    async def run(self, job: LeanJob) -> LeanJobResult:
        """Check one job; never raises for Lean's or the process's failures (see module doc)."""
        started = time.monotonic()
        parts = protocol.split_header(job.header)
        timeout = job.timeout_s or self.lean.timeout_s
        self.stats["checks"] += 1
        failure = ""
        crashes = interruptions = 0
        while True:
            known_bad = self._invalid.get(parts.imports)
            if known_bad is not None:
                self.stats["checker_errors"] += 1
                return LeanJobResult(
                    outcome="checker_error",
                    error=str(known_bad),
                    header_messages=known_bad.messages,
                )
            try:
                worker = await self._acquire(parts.imports, fresh=crashes > 0)
            except HeaderInvalid:
                continue  # found bad while this job waited: reported above
            try:
                result = await self._run_on(worker, parts, job, timeout)
            except ReplTimeout as exc:
                await self._discard(worker)
                self.stats["timeouts"] += 1
                return LeanJobResult(
                    outcome="timeout", seconds=time.monotonic() - started, error=str(exc)
                )
            except HeaderInvalid as exc:
                self._invalid[parts.imports] = exc  # before a waiter can wake
                await self._discard(worker)
                continue  # reported as above
            except ReplInterrupted as exc:
                # Another job's timeout or crash stopped the process before Lean reached this
                # one: not this job's failure, so it does not use up its retry.
                await self._discard(worker)
                self.stats["interruptions"] += 1
                interruptions += 1
                if interruptions <= _INTERRUPTIONS_MAX:
                    continue
                failure = f"{exc} ({interruptions} times)"
                break
            except UnicodeEncodeError as exc:
                # Nothing was sent: the process is as it was. Lean reads UTF-8 only, and a lone
                # surrogate (which json.loads accepts in a suite or an answer) has no encoding.
                await self._release(worker, discard=False)
                self.stats["checker_errors"] += 1
                bad = exc.object[exc.start : exc.end]
                return LeanJobResult(
                    outcome="checker_error",
                    seconds=time.monotonic() - started,
                    error=f"the text cannot be sent to Lean: {bad!r} is a lone surrogate, "
                    "not a character (UTF-8 has no encoding for it)",
                )
            except ReplCrashed as exc:
                await self._discard(worker)
                self.stats["crashes"] += 1
                failure = str(exc)
                crashes += 1
                if crashes == 1:
                    self.stats["retries"] += 1
                    continue
                failure += " (also after a retry on a fresh process)"
                break
            except BaseException:
                # Cancelled mid-request: the process state is unknown, so it goes.
                with contextlib.suppress(Exception):
                    await self._discard(worker)
                raise
            await self._release(worker, discard=False)
            if self.lean.pipeline_depth == 1 or self._someone_needs_idle(parts.imports):
                # Let a check waiting for this process send its job first: otherwise this task
                # goes on to its verdict and to its next job, which would take the process back
                # (with depth 1 it sits idle meanwhile; deeper, another import block's job
                # waiting for an idle process would wait for ever).
                await asyncio.sleep(0)
            return result
        self.stats["checker_errors"] += 1
        return LeanJobResult(
            outcome="checker_error", seconds=time.monotonic() - started, error=failure
        )
