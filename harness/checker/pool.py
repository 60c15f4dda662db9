"""A pool of REPL processes keyed by import block: import once, reuse for every header.

Each process imports its header's import lines once (under `lean.header_timeout_s`), proves the
import really loaded by running probe commands (the REPL ignores a bad import silently), and
keeps one child environment per distinct options/opens part of a header. A job's commands then
run in that environment, one after another, each in the environment the previous one left; the
audits run last, each in the environment the commands left, sent together (one round trip).
Two savings that change no answer: a job's first command (the suite's reference statement,
the same for every sample of a problem) is elaborated once per process and its environment
reused; and when the last command has errors the audits are not run (each comes back with
`repl_error` "not run: ...", as from the one-shot backend). At most `lean.workers` processes exist; an idle process of another import
block is evicted when a new block needs a slot.

Failure policy (the caller never sees a pass from a broken process):
- wall-clock expiry (`job.timeout_s` or `lean.timeout_s`): the process group is killed and the
  slot freed → outcome "timeout";
- EOF, non-zero exit, unparsable output: the process is discarded and the job retried once on a
  fresh process; a second failure → outcome "checker_error" with a one-line reason;
- a process is replaced after `lean.recycle_after` checks (the REPL never frees environments).
A REPL-level `{"message": ...}` reply to a command is an answer, not a crash: it is recorded as
that command's `repl_error`, and the following commands run in the last environment Lean gave.
"""

from __future__ import annotations

import asyncio
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
from harness.errors import CheckerError, ReplCrashed, ReplTimeout
from harness.types import CommandResult, LeanJob, LeanJobResult, LeanMessage

__all__ = ["ReplPool", "HeaderInvalid", "BASE_PROBE"]

# Run with the imports in the process's first command: every import block must elaborate it.
BASE_PROBE = "#check Nat"
# First-command results remembered per process: enough for the problems in flight at once.
_FIRST_RESULTS_KEPT = 64


class HeaderInvalid(CheckerError):
    """The header's imports did not load (a probe failed): no check can mean anything."""

    def __init__(self, message: str, messages: tuple[LeanMessage, ...] = ()) -> None:
        super().__init__(message)
        self.messages = messages


@dataclass
class _Worker:
    key: tuple[str, ...]
    process: ReplProcess
    busy: bool = True
    ready: bool = False
    base_env: int | None = None
    # non-import header text -> (env id, messages Lean gave for it, in header coordinates)
    header_envs: dict[str, tuple[int | None, tuple[LeanMessage, ...]]] = field(default_factory=dict)
    checks: int = 0
    last_used: float = 0.0
    # (env, text) of a job's first command -> its result, oldest first (see _run_on)
    first_results: dict[tuple[int | None, str], CommandResult] = field(default_factory=dict)


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
        self.stats: dict[str, Any] = {
            "backend": "repl",
            "checks": 0,
            "timeouts": 0,
            "crashes": 0,
            "retries": 0,
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
        async with self._cond:
            while True:
                if self._closed:
                    raise CheckerError("the Lean checker is closed")
                if not fresh:
                    for worker in self._workers:
                        if not worker.busy and worker.key == key:
                            worker.busy = True
                            return worker
                if len(self._workers) < self.lean.workers:
                    return self._new_worker(key)
                idle = [w for w in self._workers if not w.busy and (fresh or w.key != key)]
                if idle:
                    victim = min(idle, key=lambda w: w.last_used)
                    self._workers.remove(victim)
                    await victim.process.close()
                    return self._new_worker(key)
                try:
                    await self._cond.wait()
                except asyncio.CancelledError:
                    # Pass on a wake-up this waiter may have consumed (3.11 drops it).
                    self._cond.notify(1)
                    raise

    async def _release(self, worker: _Worker, discard: bool) -> None:
        worker.last_used = time.monotonic()
        if discard or worker.checks >= self.lean.recycle_after:
            await worker.process.close()
            async with self._cond:
                if worker in self._workers:
                    self._workers.remove(worker)
                self._cond.notify(1)
            return
        # One waiter suffices: any waiter can use a free slot (reuse, or evict and replace).
        async with self._cond:
            worker.busy = False
            self._cond.notify(1)

    # -- preparing a process ----------------------------------------------------------------------

    async def _prepare(self, worker: _Worker) -> None:
        """Start the process, import once, and prove the imports loaded."""
        process = worker.process
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
        if not worker.ready:
            await self._prepare(worker)
        env, header_messages = await self._header_env(worker, parts)
        # The check's time and wall-clock limit start here: a process's one-time import is not
        # charged to whichever proof happened to come first.
        started = time.monotonic()
        deadline = started + timeout

        first, *rest = job.commands or ("",)
        commands: list[CommandResult] = []
        if job.commands:
            # The first command (the suite's reference statement) repeats for every sample of a
            # problem; in one environment the same text gives the same result and a new,
            # immutable environment, so it is elaborated once per process and reused.
            cached = worker.first_results.get((env, first))
            if cached is None:
                reply = await worker.process.request(
                    protocol.encode_command(first, env), deadline - time.monotonic()
                )
                cached = protocol.decode_reply(reply)
                if cached.env is not None and cached.repl_error is None:
                    worker.first_results[(env, first)] = cached
                    if len(worker.first_results) > _FIRST_RESULTS_KEPT:
                        del worker.first_results[next(iter(worker.first_results))]
            commands.append(cached)
            if cached.env is not None:
                env = cached.env
        for text in rest:
            reply = await worker.process.request(
                protocol.encode_command(text, env), deadline - time.monotonic()
            )
            result = protocol.decode_reply(reply)
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
            replies = await worker.process.requests_pipelined(
                [protocol.encode_command(text, env) for text in job.audits],
                deadline - time.monotonic(),
            )
            audits = [protocol.decode_reply(reply) for reply in replies]
        worker.checks += 1
        return LeanJobResult(
            outcome="ok",
            commands=tuple(commands),
            audits=tuple(audits),
            seconds=time.monotonic() - started,
            header_messages=header_messages,
        )

    async def run(self, job: LeanJob) -> LeanJobResult:
        """Check one job; never raises for Lean's or the process's failures (see module doc)."""
        started = time.monotonic()
        parts = protocol.split_header(job.header)
        timeout = job.timeout_s or self.lean.timeout_s
        self.stats["checks"] += 1
        failure = ""
        known_bad = self._invalid.get(parts.imports)
        if known_bad is not None:
            self.stats["checker_errors"] += 1
            return LeanJobResult(
                outcome="checker_error", error=str(known_bad), header_messages=known_bad.messages
            )
        for attempt in range(2):
            worker = await self._acquire(parts.imports, fresh=attempt > 0)
            try:
                result = await self._run_on(worker, parts, job, timeout)
            except ReplTimeout as exc:
                await self._release(worker, discard=True)
                self.stats["timeouts"] += 1
                return LeanJobResult(
                    outcome="timeout", seconds=time.monotonic() - started, error=str(exc)
                )
            except HeaderInvalid as exc:
                await self._release(worker, discard=True)
                self._invalid[parts.imports] = exc
                self.stats["checker_errors"] += 1
                return LeanJobResult(
                    outcome="checker_error",
                    seconds=time.monotonic() - started,
                    error=str(exc),
                    header_messages=exc.messages,
                )
            except ReplCrashed as exc:
                await self._release(worker, discard=True)
                self.stats["crashes"] += 1
                failure = str(exc)
                if attempt == 0:
                    self.stats["retries"] += 1
                continue
            except BaseException:
                # Cancelled mid-request: the process state is unknown, so it goes.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._release(worker, discard=True))
                raise
            await self._release(worker, discard=False)
            # Let a check waiting for this process send its job first: otherwise this task
            # goes on to its verdict and to preparing its next candidate (milliseconds of CPU)
            # while the process it just freed sits idle.
            await asyncio.sleep(0)
            return result
        self.stats["checker_errors"] += 1
        return LeanJobResult(
            outcome="checker_error",
            seconds=time.monotonic() - started,
            error=f"{failure} (also after a retry on a fresh process)",
        )
