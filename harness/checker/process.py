"""One Lean REPL subprocess: start it under limits, send a request, read a reply, kill it.

`ReplProcess` owns exactly one child (and its process group): it starts `lean.repl_command`
exactly as given, in `lean.project_dir`, in a new session, with RLIMIT_AS / RLIMIT_FSIZE set in
the child and an environment reduced to an allow-list (the prover's API key never reaches Lean).
`close()` kills the whole group and reaps it; nothing relies on `__del__`. Which process serves
which header, and when one is replaced, is `pool.py`'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.checker import protocol
from harness.checker.sandbox import sandboxed
from harness.config import LeanConfig
from harness.errors import CheckerError, ReplCrashed, ReplTimeout

__all__ = ["ReplProcess", "lean_environment", "limits_preexec", "kill_group", "ENV_ALLOW"]

# What Lean, Lake and elan need to run, and nothing else.
ENV_ALLOW = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "ELAN_HOME",
    "ELAN_TOOLCHAIN",
    "LEAN_PATH",
    "LEAN_SRC_PATH",
    "LEAN_SYSROOT",
    "LEAN_CC",
    "LEAN_NUM_THREADS",
    "LANG",
    "LANGUAGE",
    "TZ",
    "XDG_CACHE_HOME",  # Mathlib's `cache` looks here
    "MATHLIB_CACHE_DIR",
    "GIT_CONFIG_GLOBAL",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
ENV_ALLOW_PREFIXES = ("LAKE", "LC_")

# Lean's replies can carry large infotrees; one line may be long.
_STREAM_LIMIT = 64 * 1024 * 1024


def open_workspace(lean: LeanConfig) -> tuple[Path, bool]:
    """Check that `lean.project_dir` exists; return the scratch directory for Lean's temporary
    files and whether it was made here (and is removed on close)."""
    if not Path(lean.project_dir).is_dir():
        raise CheckerError(
            f"lean.project_dir {lean.project_dir}: no such directory "
            "(point it at a Lake project, or run `harness setup`)"
        )
    if lean.scratch_dir:
        scratch = Path(lean.scratch_dir).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch, False
    return Path(tempfile.mkdtemp(prefix="harness-lean-")), True


def lean_environment(
    scratch: str | os.PathLike[str],
    passthrough: Sequence[str] = (),
    withhold: Sequence[str] = (),
) -> dict[str, str]:
    """The parent's environment reduced to the allow-list, with TMPDIR set to `scratch`.

    `withhold` names secrets (the prover key's variable) dropped even when the allow-list or
    `lean.env_passthrough` would let them through.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if (key in ENV_ALLOW or key.startswith(ENV_ALLOW_PREFIXES) or key in passthrough)
        and key not in withhold
    }
    env["TMPDIR"] = str(scratch)
    return env


def limits_preexec(memory_mb: int, file_size_mb: int) -> Callable[[], None]:
    """A preexec_fn setting the address-space and file-size limits in the child only."""
    memory = int(memory_mb) * 1024 * 1024
    file_size = int(file_size_mb) * 1024 * 1024

    def apply() -> None:
        for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, file_size)):
            _soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, value))

    return apply


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by `pid` (the child was started in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class ReplProcess:
    """A running REPL. Use `await start()`, `await request(obj, timeout)`, `await close()`.

    One caller at a time: a request is written, its reply read, and only then may the next
    request be made (the pool gives each process to one job at a time)."""

    def __init__(
        self,
        command: Sequence[str],
        cwd: str | os.PathLike[str],
        scratch: str | os.PathLike[str],
        *,
        memory_mb: int,
        file_size_mb: int,
        env_passthrough: Sequence[str] = (),
        env_withhold: Sequence[str] = (),
        name: str = "repl",
        sandbox: LeanConfig | None = None,
    ) -> None:
        self.command = list(command)
        self.cwd = str(cwd)
        self.scratch = Path(scratch)
        self.memory_mb = memory_mb
        self.file_size_mb = file_size_mb
        self.env_passthrough = tuple(env_passthrough)
        self.env_withhold = tuple(env_withhold)
        self.name = name
        self.sandbox = sandbox  # its `sandbox` settings wrap the command (checker/sandbox.py)
        self.requests = 0
        self.started_at = 0.0
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_path = self.scratch / f"{name}.stderr"
        self._closed = False
        self._busy = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and not self._closed

    async def start(self) -> None:
        self.scratch.mkdir(parents=True, exist_ok=True)
        argv = list(self.command)
        env = lean_environment(self.scratch, self.env_passthrough, self.env_withhold)
        if self.sandbox is not None:
            argv, env = sandboxed(argv, env, lean=self.sandbox, scratch=self.scratch, cwd=self.cwd)
        try:
            with open(self._stderr_path, "wb") as stderr:
                self._proc = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=stderr,
                    cwd=self.cwd,
                    env=env,
                    start_new_session=True,
                    preexec_fn=limits_preexec(self.memory_mb, self.file_size_mb),
                    limit=_STREAM_LIMIT,
                )
        except (OSError, ValueError) as exc:
            raise ReplCrashed(
                f"cannot start the REPL ({' '.join(self.command)}) in {self.cwd}: {exc}"
            ) from exc
        self.started_at = time.monotonic()

    async def request(self, obj: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and return the parsed reply. Failures as `exchange`."""
        return (await self.exchange((obj,), timeout))[0]

    async def exchange(
        self, objs: Sequence[dict[str, Any]], timeout: float
    ) -> list[dict[str, Any]]:
        """Write `objs` (independent requests, e.g. audits that all run in one known
        environment: one round trip for all) and return their replies, in order.

        Within `timeout` seconds, or the process is killed and ReplTimeout raised; on EOF or
        unparsable output, ReplCrashed (the process is closed). A cancel after the requests
        were written kills the process: their replies would go to the next request. Text UTF-8
        cannot encode (a lone surrogate) raises UnicodeEncodeError with nothing sent."""
        # first: a lone surrogate raises here, with nothing written and the process untouched
        data = "".join(map(protocol.frame, objs)).encode("utf-8")
        if self._busy:
            raise RuntimeError(f"{self.name}: a request is already in progress")
        if not self.alive:
            raise ReplCrashed(self._exit_description("the REPL is not running"))
        assert self._proc is not None and self._proc.stdin is not None
        self._busy = True
        self.requests += len(objs)
        try:
            self._proc.stdin.write(data)
            # asyncio.timeout rather than wait_for: 3.11's wait_for runs the request in another
            # task and can swallow a cancellation that races with its result (gh-86296); a
            # cancelled caller must always see CancelledError.
            async with asyncio.timeout(max(timeout, 0.001)):
                try:
                    await self._proc.stdin.drain()
                except (BrokenPipeError, ConnectionResetError) as exc:
                    await self._reap_quietly()
                    raise ReplCrashed(self._exit_description("the REPL closed its input")) from exc
                return [await self._read_reply() for _ in objs]
        except TimeoutError:
            await self.close()
            raise ReplTimeout(f"Lean did not answer within {timeout:.0f} s") from None
        except ReplCrashed:
            await self.close()
            raise
        except BaseException:
            # Cancelled with requests written and their replies unread: the next reader would
            # get them, so the process cannot go on.
            self.kill()
            raise
        finally:
            self._busy = False

    def kill(self) -> None:
        """Stop the process now, without waiting (`close()` reaps it). A request waiting for
        its reply gets ReplCrashed."""
        self._closed = True
        if self._proc is not None and self._proc.returncode is None:
            kill_group(self._proc.pid)

    async def _read_reply(self) -> dict[str, Any]:
        """One reply: its text up to the blank line that ends it, read in one piece (the
        pretty-printed JSON has many lines; reading them one by one costs a call each)."""
        assert self._proc is not None and self._proc.stdout
        stdout = self._proc.stdout
        while True:
            try:
                raw = await stdout.readuntil(b"\n\n")
            except asyncio.IncompleteReadError as exc:  # EOF
                await self._reap_quietly()
                partial = " after a partial reply" if exc.partial.strip() else ""
                raise ReplCrashed(self._exit_description(f"the REPL exited{partial}")) from None
            except (ValueError, asyncio.LimitOverrunError) as exc:
                raise ReplCrashed("the REPL wrote a reply longer than 64 MiB") from exc
            if raw.strip():
                break  # else: a stray blank line between replies
        text = raw.decode("utf-8", errors="replace")
        try:
            return protocol.parse_reply(text)
        except ValueError as exc:
            snippet = " ".join(text.split())[:120]
            raise ReplCrashed(f"unparsable REPL output: {snippet!r}") from exc

    async def _reap_quietly(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._proc.wait()

    def _stderr_tail(self) -> str:
        try:
            data = self._stderr_path.read_bytes()[-2000:]
        except OSError:
            return ""
        text = data.decode("utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1][:200] if lines else ""

    def _exit_description(self, what: str) -> str:
        code = self._proc.returncode if self._proc else None
        parts = [what]
        if code is not None:
            parts.append(f"(signal {-code})" if code < 0 else f"(exit code {code})")
        tail = self._stderr_tail()
        if tail:
            if "out of memory" in tail.lower() or "bad_alloc" in tail:
                parts.append(f"out of memory (lean.memory_mb={self.memory_mb})")
            parts.append(f"stderr: {tail}")
        return " ".join(parts)

    async def close(self) -> None:
        """Kill the process group and reap the child. Safe to call more than once."""
        proc = self._proc
        if proc is None:
            return
        self._closed = True
        kill_group(proc.pid)
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        await proc.wait()
        with contextlib.suppress(OSError):
            self._stderr_path.unlink()
