"""The "repl" backend: the REPL pool (`pool.py`) run in a child process of its own.

    async with PoolProcess(config) as checker:      # starts `python -m harness.checker`
        result = await checker.run(job)             # the same LeanJobResult ReplPool gives

Why a process: Lean's pipes are then served by an event loop that does nothing else. In the
harness's own loop a REPL reply waits while that loop reads prover answers and screens them,
so Lean sits idle between one job and the next. bench_pipeline.py (Lean's recorded latencies
scaled down, 2 REPL processes) measured the difference: Lean idle 0.75 ms per request in the
harness's loop, about 5% of the wall time, against 0.12 ms in a loop of its own.

The two processes are this package at one version, joined by a private pipe: the parent writes
requests on the child's stdin, the child writes replies on its stdout (its fd 1 is moved to
stderr first, so a stray print cannot break a frame). A frame is an 8-byte big-endian length
and a pickle. Model text crosses only as str values inside LeanJob and LeanJobResult, and no
process that runs model text holds an end of the pipe (Lean's processes get pipes of their own;
the sandbox hides every other process from them).

    parent -> child: ("config", Config)  once, first
                     ("run", id, LeanJob) | ("confirm", id, LeanJob, bytes) | ("cancel", id)
    child -> parent: ("ready", 0, None, stats) once its pool is open, or ("fatal", 0, message, {})
                     ("result", id, value, stats) | ("error", id, message, stats)

EOF on the child's stdin closes its pool (every REPL process killed and reaped) and ends it.
The child runs in its own session: Ctrl-C in a terminal reaches the harness, which cancels its
jobs and closes the checker, not the child directly. The prover's and the decomposer's API
keys are not in the child's environment. A pool that cannot open (an unwritable scratch
directory) is a CheckerError at `async with`, saying why. If the child dies, the next job
starts a new child and the jobs it held go to that one; a job whose second child dies too ends
`checker_error` with the exit status, as a job is retried once when its REPL process crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import resource
import signal
import struct
import sys
from pathlib import Path
from typing import Any

from harness.checker.pool import ReplPool
from harness.checker.toolchain import project_versions
from harness.config import Config
from harness.errors import CheckerError
from harness.types import Confirmation, LeanJob, LeanJobResult

__all__ = ["PoolProcess"]

_LENGTH = struct.Struct(">Q")
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding `harness/`
# how long a closing child may take to close its pool before it is killed
_CLOSE_TIMEOUT_S = 30.0


def _frame(message: tuple[Any, ...]) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> tuple[Any, ...] | None:
    """The next message, or None at EOF."""
    try:
        size = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))[0]
        return pickle.loads(await reader.readexactly(size))
    except asyncio.IncompleteReadError:
        return None


class PoolProcess:
    """The "repl" backend of `open_checker`. Use as `async with PoolProcess(config) as pool`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        # the child's ReplPool.stats as of its latest reply, with the child's own CPU seconds
        # (`process_cpu_s`: its Lean processes are not counted)
        self.stats: dict[str, Any] = {"backend": "repl", "checks": 0}
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, tuple[str, asyncio.Future[Any]]] = {}  # id -> (op, answer)
        self._ids = itertools.count(1)
        self._closed = False
        self._starting = asyncio.Lock()

    async def __aenter__(self) -> PoolProcess:
        await self._child()  # a pool that cannot open says why here, before any job
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def versions(self) -> dict[str, str]:
        return project_versions(Path(self.config.lean.project_dir).resolve())

    async def run(self, job: LeanJob) -> LeanJobResult:
        """As ReplPool.run: never raises for Lean's or a process's failures."""
        return await self._ask("run", job)

    async def confirm(self, job: LeanJob, pickled: bytes) -> Confirmation:
        """As ReplPool.confirm, in the child's confirming process."""
        return await self._ask("confirm", job, pickled)

    async def aclose(self) -> None:
        """Close the child's pool (EOF on its stdin) and reap it; kill it if it hangs."""
        self._closed = True
        async with self._starting:  # a child being started is started, then closed here
            pass
        proc = self._proc
        if proc is not None and proc.returncode is None:
            assert proc.stdin is not None
            with contextlib.suppress(OSError):
                proc.stdin.close()
            try:
                async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._reader is not None:
            await self._reader
        self._fail_pending("the Lean checker is closed")

    # -- the parent's side ------------------------------------------------------------------

    async def _ask(self, op: str, *args: Any) -> Any:
        reason = ""
        for _ in range(2):  # a job a child died with goes to a new child once
            proc = await self._child()
            assert proc.stdin is not None
            key = next(self._ids)
            answer = asyncio.get_running_loop().create_future()
            self._pending[key] = (op, answer)
            try:
                proc.stdin.write(_frame((op, key, *args)))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    await proc.stdin.drain()  # a dead child: its reader settles the answer
                return await answer
            except _ChildDied as died:
                reason = str(died)
            except asyncio.CancelledError:
                if self._pending.pop(key, None) is not None and not proc.stdin.is_closing():
                    proc.stdin.write(_frame(("cancel", key)))
                raise
        return _failed(op, f"{reason} (also after a retry in a new checker process)")

    async def _child(self) -> asyncio.subprocess.Process:
        """The running child, started (again, after a death) when needed."""
        async with self._starting:  # jobs arriving together share one child
            if self._closed:
                raise CheckerError("the Lean checker is closed")
            proc = self._proc
            if proc is not None and proc.returncode is None:
                assert proc.stdin is not None
                if not proc.stdin.is_closing():
                    return proc
            return await self._start()

    async def _start(self) -> asyncio.subprocess.Process:
        if self._reader is not None:
            await self._reader  # the dead child's jobs are settled
        secrets = (self.config.prover.api_key_env, self.config.decomposer.api_key_env)
        env = {k: v for k, v in os.environ.items() if k not in secrets}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")) if p
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "harness.checker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise CheckerError(f"cannot start the Lean checker process: {exc}") from exc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_frame(("config", self.config)))
        # the child says "ready" once its pool is open, or why it could not open it
        try:
            first = await _read_frame(proc.stdout)
        except BaseException:  # cancelled meanwhile: this child is nobody's, so it goes
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.stdin.close()
            await proc.wait()
            raise
        if first is None or first[0] != "ready":
            proc.stdin.close()
            code = await proc.wait()
            if first is not None:
                raise CheckerError(first[2])
            raise CheckerError(f"the Lean checker process could not start ({_status(code)})")
        self._proc = proc
        self._reader = asyncio.create_task(self._read_replies(proc, proc.stdout))
        return proc

    async def _read_replies(
        self, proc: asyncio.subprocess.Process, stdout: asyncio.StreamReader
    ) -> None:
        while (message := await _read_frame(stdout)) is not None:
            kind, key, value, self.stats = message
            _, answer = self._pending.pop(key, (None, None))
            if answer is None or answer.done():
                continue  # cancelled meanwhile
            if kind == "result":
                answer.set_result(value)
            else:
                answer.set_exception(CheckerError(value))
        assert proc.stdin is not None
        proc.stdin.close()  # the pipe of a child that died (closing closes it first)
        code = await proc.wait()
        if not self._closed:
            self._fail_pending(f"the Lean checker process ended ({_status(code)})")

    def _fail_pending(self, reason: str) -> None:
        """Settle what nobody will answer: with CheckerError when the checker was closed under
        its caller, with _ChildDied (to be tried again) when the child died."""
        pending, self._pending = self._pending, {}
        for _, answer in pending.values():
            if not answer.done():
                answer.set_exception((CheckerError if self._closed else _ChildDied)(reason))


class _ChildDied(Exception):
    """The child ended with this job unanswered (it may or may not have read it)."""


def _failed(op: str, reason: str) -> LeanJobResult | Confirmation:
    if op == "confirm":
        return Confirmation("checker_error", error=reason)
    return LeanJobResult(outcome="checker_error", error=reason)


def _status(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit code {code}"


# -- the child's side ---------------------------------------------------------------------------


async def _serve(frames_in: int, frames_out: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(frames_in, "rb")
    )
    out, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(frames_out, "wb"))
    first = await _read_frame(reader)
    if first is None:
        return
    _, config = first
    tasks: dict[int, asyncio.Task[None]] = {}
    pool = ReplPool(config)
    try:
        await pool.__aenter__()
    except Exception as exc:  # e.g. an unwritable lean.scratch_dir: the parent says so
        out.write(_frame(("fatal", 0, f"the Lean checker could not open: {_one_line(exc)}", {})))
        out.close()
        return
    out.write(_frame(("ready", 0, None, dict(pool.stats))))
    try:

        def stats() -> dict[str, Any]:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return {**pool.stats, "process_cpu_s": usage.ru_utime + usage.ru_stime}

        async def answer(key: int, op: str, args: tuple[Any, ...]) -> None:
            try:
                value = await (pool.run(*args) if op == "run" else pool.confirm(*args))
                message: tuple[Any, ...] = ("result", key, value, stats())
            except asyncio.CancelledError:
                return  # the parent stopped waiting: nobody reads an answer
            except Exception as exc:  # a bug in the pool: the job's caller sees it
                message = ("error", key, f"the Lean checker failed: {_one_line(exc)}", stats())
            finally:
                tasks.pop(key, None)
            out.write(_frame(message))

        while (message := await _read_frame(reader)) is not None:
            op, key, *args = message
            if op == "cancel":
                if key in tasks:
                    tasks[key].cancel()
            else:
                tasks[key] = asyncio.create_task(answer(key, op, tuple(args)))
        for task in list(tasks.values()):
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    finally:
        await pool.aclose()  # every Lean process killed and reaped
    out.close()


def _one_line(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {(str(exc).splitlines() or [''])[0]}"


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this process ends
    frames_out = os.dup(1)
    os.dup2(2, 1)  # a stray print goes to stderr, never into a frame
    asyncio.run(_serve(0, frames_out))
    return 0
