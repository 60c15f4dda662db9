"""A pool of REPL processes keyed by import block: import once, reuse for every header.
(`open_checker` runs it in a child process of its own: see pool_process.py.)

Each process imports its header's import lines once (under `lean.header_timeout_s`), proves the
import really loaded by running probe commands (the REPL ignores a bad import silently), and
keeps one child environment per distinct options/opens part of a header. A job's commands then
run in that environment, one after another, each in the environment the previous one left; the
audits run last, each in the environment the commands left, sent together (one round trip).
Two savings that change no answer: a job's first command (the suite's reference statement,
the same for every sample of a problem) is elaborated once per process and its environment
reused; and when the last command has errors the audits are not run (each comes back with
`repl_error` "not run: ...", as from the one-shot backend).

`lean.workers` slots, each with at most one process and a task that runs one job at a time on
it. Jobs wait in one line, first come first served whatever their import block: a slot that
finishes a job takes the next in line at once (Lean does not wait for the job's caller to wake
up), reusing its process if it has that job's imports, else replacing it. A job arriving when
slots are idle goes to one whose process has its imports, else to an empty one, else to the
one idle longest.

Failure policy (the caller never sees a pass from a broken process):
- wall-clock expiry (`job.timeout_s` or `lean.timeout_s`, counted from the job's first command:
  a process's one-time import is not charged): the process group is killed → outcome "timeout";
- EOF, non-zero exit, unparsable output: the process is discarded and the job retried once on a
  fresh process; a second failure → outcome "checker_error" with a one-line reason;
- imports that do not load (a failed probe) → "checker_error" for the job, at once for the jobs
  in line with the same imports, and for every later one (the project does not change);
- text UTF-8 cannot carry (a lone surrogate) → "checker_error"; nothing was sent;
- a job cancelled while Lean works on it: its process is killed and discarded by the slot (not
  by the cancelled task, which may be gone); cancelled while in line, it just leaves the line;
- a process is replaced after `lean.recycle_after` checks (the REPL never frees environments).
A REPL-level `{"message": ...}` reply to a command is an answer, not a crash: it is recorded as
that command's `repl_error`, and the following commands run in the last environment Lean gave.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import os
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
from harness.types import (
    CommandResult,
    Confirmation,
    ConfirmJob,
    LeanJob,
    LeanJobResult,
    LeanMessage,
)

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
    """One process (started by the first job it serves) and what it has cached."""

    key: tuple[str, ...]
    process: ReplProcess
    ready: bool = False
    base_env: int | None = None
    # non-import header text -> (env id, messages Lean gave for it, in header coordinates)
    header_envs: dict[str, tuple[int | None, tuple[LeanMessage, ...]]] = field(default_factory=dict)
    # (env, text) of a job's first command -> Lean's reply to it, oldest first (see _run_on)
    first_results: dict[tuple[int | None, str], CommandResult] = field(default_factory=dict)
    checks: int = 0


@dataclass
class _Pending:
    """A job in line or running, and where its caller waits for the result."""

    job: LeanJob
    parts: protocol.HeaderParts
    result: asyncio.Future[LeanJobResult]
    queued_at: float
    slot: _Slot | None = None  # while a slot runs it


@dataclass
class _Slot:
    """A place for one process, and the task that runs jobs on it (see ReplPool._drive)."""

    worker: _Worker | None = None
    task: asyncio.Task[None] | None = None
    wake: asyncio.Future[_Pending] | None = None  # while idle: gets the next job
    last_used: float = 0.0


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


def _take_file(path: Path) -> bytes | None:
    """The bytes of a file a model-running process wrote, never following a link it made."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            return f.read()
    finally:
        path.unlink(missing_ok=True)


def _settle(pending: _Pending, result: LeanJobResult) -> None:
    if not pending.result.done():  # else its caller was cancelled
        pending.result.set_result(result)


def _close_under(pending: _Pending) -> None:
    """Tell a job's caller the pool was closed before its job was done."""
    if not pending.result.done():
        pending.result.set_exception(CheckerError("the Lean checker is closed"))


class ReplPool:
    """The "repl" backend of `open_checker`. Use as `async with ReplPool(config) as pool`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lean = config.lean
        self.project_dir = Path(self.lean.project_dir).resolve()
        self._slots: list[_Slot] = []  # lean.workers of them, made by the first job
        self._line: collections.deque[_Pending] = collections.deque()  # oldest first
        self._idle: list[_Slot] = []  # slots waiting for a job (only while the line is empty)
        self._names = itertools.count(1)
        self._scratch: Path | None = None
        self._own_scratch = False
        self._closed = False
        # import blocks whose probe failed: the project does not change during a run, so later
        # jobs fail at once instead of paying for the import again
        self._invalid: dict[tuple[str, ...], HeaderInvalid] = {}
        # the one confirming process (soundness.confirm), started by the first confirmation
        self._confirmer: _Worker | None = None
        self._confirm_lock = asyncio.Lock()
        # (imports, header, suite text) -> the clean statement's results (the same every time)
        self._clean: dict[tuple[Any, ...], tuple[CommandResult, CommandResult]] = {}
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
        """Stop the slots, kill and reap every process. The pool cannot be used afterwards."""
        self._closed = True
        tasks = [slot.task for slot in self._slots if slot.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        while self._line:
            _close_under(self._line.popleft())
        for slot in self._slots:
            if slot.worker is not None:
                await slot.worker.process.close()
        if self._confirmer is not None:
            await self._confirmer.process.close()
        if self._own_scratch and self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def versions(self) -> dict[str, str]:
        return project_versions(self.project_dir)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live REPL processes (for tests and diagnostics)."""
        workers = [slot.worker for slot in self._slots if slot.worker is not None]
        return [w.process.pid for w in workers if w.process.pid is not None]

    # -- the line and the slots -------------------------------------------------------------------

    async def run(self, job: LeanJob) -> LeanJobResult:
        """Check one job; never raises for Lean's or the process's failures (see module doc)."""
        parts = protocol.split_header(job.header)
        self.stats["checks"] += 1
        known_bad = self._invalid.get(parts.imports)
        if known_bad is not None:
            return self._bad_header(known_bad)
        if self._closed:
            raise CheckerError("the Lean checker is closed")
        if not self._slots:
            self._slots = [_Slot() for _ in range(max(1, self.lean.workers))]
            for slot in self._slots:
                slot.task = asyncio.create_task(self._drive(slot))
        loop = asyncio.get_running_loop()
        pending = _Pending(job, parts, loop.create_future(), time.monotonic())
        if self._idle:  # then nobody is in line
            slot = min(self._idle, key=lambda s: self._preference(s, parts.imports))
            self._idle.remove(slot)
            assert slot.wake is not None
            slot.wake.set_result(pending)
            slot.wake = None
        else:
            self._line.append(pending)
        try:
            return await pending.result
        except asyncio.CancelledError:
            if pending.result.cancelled():  # else it had its result already
                if pending.slot is not None and pending.slot.worker is not None:
                    # Lean is working on it and nobody will read the answer: the slot discards
                    # the process when the kill reaches it (this task may not live to do so).
                    pending.slot.worker.process.kill()
                elif pending in self._line:
                    self._line.remove(pending)
            raise

    @staticmethod
    def _preference(slot: _Slot, key: tuple[str, ...]) -> tuple[int, float]:
        """Idle slots for a job of `key`, best first: a process with these imports; no process;
        the process idle longest."""
        worker = slot.worker
        if worker is not None and worker.key == key:
            return (0, 0.0)
        return (1, 0.0) if worker is None else (2, slot.last_used)

    async def _drive(self, slot: _Slot) -> None:
        """The slot's task: run the job first in line, or wait for one, for ever."""
        while True:
            if self._line:
                pending = self._line.popleft()
            else:
                wake = slot.wake = asyncio.get_running_loop().create_future()
                self._idle.append(slot)
                try:
                    pending = await wake
                except asyncio.CancelledError:  # the pool is closing
                    if wake.done() and not wake.cancelled():
                        _close_under(wake.result())
                    raise
            pending.slot = slot
            try:
                await self._serve(slot, pending)
            except Exception as exc:  # a bug: the job's caller sees it; the slot goes on
                if not pending.result.done():
                    pending.result.set_exception(exc)
                with contextlib.suppress(Exception):
                    await self._discard(slot)
            finally:
                pending.slot = None
                slot.last_used = time.monotonic()
                _close_under(pending)  # if the pool was closed before it was settled

    def _new_worker(self, key: tuple[str, ...], role: str = "repl") -> _Worker:
        assert self._scratch is not None
        name = f"{role}-{next(self._names)}"
        process = ReplProcess(
            self.lean.repl_command,
            self.project_dir,
            self._scratch / name,  # each process its own writable directory
            memory_mb=self.lean.memory_mb,
            file_size_mb=self.lean.file_size_mb,
            env_passthrough=self.lean.env_passthrough,
            env_withhold=(self.config.prover.api_key_env,),
            name=name,
            sandbox=self.lean,
        )
        return _Worker(key=key, process=process)

    async def _discard(self, slot: _Slot) -> None:
        """Close the slot's process (before another can start in the slot: never more than
        lean.workers alive)."""
        if slot.worker is not None:
            await slot.worker.process.close()
            slot.worker = None

    def _bad_header(self, exc: HeaderInvalid) -> LeanJobResult:
        self.stats["checker_errors"] += 1
        return LeanJobResult(outcome="checker_error", error=str(exc), header_messages=exc.messages)

    def _header_invalid(self, key: tuple[str, ...], exc: HeaderInvalid) -> None:
        """Remember that `key`'s imports do not load, and tell the jobs in line with them."""
        self._invalid[key] = exc
        for pending in [p for p in self._line if p.parts.imports == key]:
            self._line.remove(pending)
            _settle(pending, self._bad_header(exc))

    async def _serve(self, slot: _Slot, pending: _Pending) -> None:
        """Run one job on the slot and settle its result."""
        job, key = pending.job, pending.parts.imports
        timeout = job.timeout_s or self.lean.timeout_s
        started = time.monotonic()
        waited = started - pending.queued_at
        crashes = 0
        while not pending.result.done():  # else cancelled: nothing to do
            known_bad = self._invalid.get(key)
            if known_bad is not None:
                _settle(pending, self._bad_header(known_bad))
                return
            worker = slot.worker
            if worker is not None and (
                worker.key != key or (worker.process.pid is not None and not worker.process.alive)
            ):
                await self._discard(slot)  # another import block's, or dead (killed, crashed)
            if slot.worker is None:
                slot.worker = self._new_worker(key)
                live = sum(s.worker is not None for s in self._slots)
                self.stats["max_processes"] = max(self.stats["max_processes"], live)
            worker = slot.worker
            try:
                result = await self._run_on(worker, pending.parts, job, timeout)
            except ReplTimeout as exc:
                await self._discard(slot)
                self.stats["timeouts"] += 1
                outcome, error = "timeout", str(exc)
            except HeaderInvalid as exc:
                await self._discard(slot)
                self._header_invalid(key, exc)
                continue  # reported as known bad
            except UnicodeEncodeError as exc:
                # Nothing was sent: a ready process is as it was (one that had not finished its
                # import goes). Lean reads UTF-8 only, and a lone surrogate (which json.loads
                # accepts in a suite or an answer) has no encoding.
                if not worker.ready:
                    await self._discard(slot)
                bad = exc.object[exc.start : exc.end]
                outcome, error = (
                    "checker_error",
                    (
                        f"the text cannot be sent to Lean: {bad!r} is a lone surrogate, "
                        "not a character (UTF-8 has no encoding for it)"
                    ),
                )
            except ReplCrashed as exc:
                await self._discard(slot)
                if pending.result.done():
                    return  # cancelled: the kill was its caller's
                self.stats["crashes"] += 1
                crashes += 1
                if crashes == 1:
                    self.stats["retries"] += 1
                    continue
                outcome, error = "checker_error", f"{exc} (also after a retry on a fresh process)"
            else:
                _settle(pending, dataclasses.replace(result, waited_s=waited))
                if worker.checks >= self.lean.recycle_after:
                    await self._discard(slot)
                return
            if outcome == "checker_error":
                self.stats["checker_errors"] += 1
            elapsed = time.monotonic() - started
            result = LeanJobResult(outcome=outcome, seconds=elapsed, error=error, waited_s=waited)
            _settle(pending, result)
            return

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
        # The time limit counts from the job's first command: a process's one-time import and
        # header are not charged to the proof that happens to come first.
        process = worker.process
        started = time.monotonic()
        deadline = started + timeout

        async def send(texts: list[str], env: int | None) -> list[dict[str, Any]]:
            objs = [protocol.encode_command(text, env) for text in texts]
            return await process.exchange(objs, deadline - time.monotonic())

        first, *rest = job.commands or ("",)
        commands: list[CommandResult] = []
        if job.commands:
            # The first command (the suite's reference statement) repeats for every sample of a
            # problem; in one environment the same text gives the same result and a new,
            # immutable environment, so it is elaborated once per process and reused.
            key = (env, first)
            cached = worker.first_results.get(key)
            if cached is None:
                cached = protocol.decode_reply((await send([first], env))[0])
                if cached.env is not None and cached.repl_error is None:
                    worker.first_results[key] = cached
                    if len(worker.first_results) > _FIRST_RESULTS_KEPT:
                        del worker.first_results[next(iter(worker.first_results))]
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
        pickled = None
        if (
            job.confirm is not None
            and commands
            and protocol.classify(commands[-1]) == "accepted"
            and not any(a.errors or a.repl_error for a in audits)
        ):
            # the environment the model built, for a process that never ran model text
            path = process.scratch / f"confirm-{worker.checks}.olean"
            reply = await process.request(
                {"pickleTo": str(path), "env": env}, deadline - time.monotonic()
            )
            pickled = _take_file(path) if "message" not in reply else None
        result = LeanJobResult(
            outcome="ok",
            commands=tuple(commands),
            audits=tuple(audits),
            seconds=time.monotonic() - started,
            header_messages=header_messages,
        )
        if job.confirm is not None and pickled is not None:
            result = dataclasses.replace(result, pickle=pickled)
        return result

    # -- confirming in a fresh process ------------------------------------------------------------

    async def confirm(self, job: LeanJob, pickled: bytes) -> Confirmation:
        """Replay the environment a job's process pickled in the confirming process (one per
        pool, never given model text, so it may serve many confirmations; the slots go on with
        other jobs meanwhile) and run the harness's audits there."""
        spec = job.confirm
        assert spec is not None
        parts = protocol.split_header(job.header)
        key = parts.imports
        timeout = job.timeout_s or self.lean.timeout_s
        async with self._confirm_lock:
            worker = self._confirmer
            if worker is not None and (worker.key != key or not worker.process.alive):
                await worker.process.close()
                worker = None
            if worker is None:
                worker = self._confirmer = self._new_worker(key, role="confirm")
            try:
                return await self._confirm_on(worker, parts, spec, pickled, timeout)
            except ReplTimeout as exc:
                await worker.process.close()
                return Confirmation("timeout", error=str(exc))
            except (ReplCrashed, HeaderInvalid, UnicodeEncodeError) as exc:
                await worker.process.close()
                return Confirmation("checker_error", error=f"confirmation: {exc}")

    async def _confirm_on(
        self,
        worker: _Worker,
        parts: protocol.HeaderParts,
        spec: ConfirmJob,
        pickled: bytes,
        timeout: float,
    ) -> Confirmation:
        if not worker.ready:
            await self._prepare(worker)
        env, _ = await self._header_env(worker, parts)
        process = worker.process
        deadline = time.monotonic() + timeout

        async def one(obj: dict[str, Any]) -> CommandResult:
            return protocol.decode_reply(await process.request(obj, deadline - time.monotonic()))

        # the suite's statement from the suite's text, in an environment with no model text
        clean_key = (worker.key, parts.rest, spec.context + spec.statement)
        clean = self._clean.get(clean_key)
        if clean is None:
            stated = await one(protocol.encode_command(spec.context + spec.statement, env))
            shown = await one(protocol.encode_command(spec.compare, stated.env))
            clean = (stated, shown)
            if stated.env is not None and not stated.repl_error:
                self._clean[clean_key] = clean
        path = process.scratch / f"replay-{worker.checks}.olean"
        path.write_bytes(pickled)
        worker.checks += 1
        try:
            replay = await one({"unpickleEnvFrom": str(path)})
        finally:
            path.unlink(missing_ok=True)
        if replay.env is None or replay.repl_error:
            return Confirmation("ok", clean=clean, replay=replay)
        model = [await one(protocol.encode_command(spec.statement, replay.env))]
        if model[0].env is not None:
            texts = [*spec.audits, spec.compare]
            objs = [protocol.encode_command(text, model[0].env) for text in texts]
            replies = await process.exchange(objs, deadline - time.monotonic())
            model += [protocol.decode_reply(reply) for reply in replies]
        return Confirmation("ok", clean=clean, replay=replay, model=tuple(model))
