"""The one-shot backend: `lake env lean --json FILE` per job, for users without the REPL.

For a job, the header and the commands are written to one file (`HarnessSubmission.lean`) in a
fresh scratch directory; Lean runs on it with `lean.lean_command` (default `lake env lean`) from
`lean.project_dir`, so Lake finds the project. Messages are mapped back to the command whose
lines they fall in, relative to that command (header lines → `header_messages`). When the job
has audits, the same run also writes `HarnessSubmission.olean` (`-o`; `--root=DIR` makes the
module name `HarnessSubmission`), and a second, trusted file imports it and runs the header's
options/opens and the audits, with LEAN_PATH set to the scratch directory. Model text
therefore cannot reach the audits. If the submission has errors, Lean writes no .olean, and
each audit comes back with `repl_error` "not run: ...".

Lean-facing assumptions (checked against Lake and Lean sources, not against a real run here):
- `lake env` keeps an existing LEAN_PATH, placed after the workspace's own library paths
  (Lake `Workspace.augmentedLeanPath = leanPath ++ lakeEnv.leanPath`, the latter starting from
  the LEAN_PATH it was given). A module of the project with the same name would therefore win,
  hence the unlikely module name.
- `lean --json` prints one JSON message per line on stdout (severity "information" for infos),
  nothing for a clean file; exit 0 without errors, 1 with (see protocol.py).
- `lean -o FILE.olean` writes the .olean only when elaboration had no error; importing it needs
  the same Lean and the same imports, which the trusted file has (it runs in the same project).

Outcomes as the REPL pool: "timeout" when the wall clock expires (the process group is killed),
"checker_error" when Lean crashed (a signal, an exit code other than 0/1, or exit 1 with no error
message) also after one retry.

Every run re-imports the header (Mathlib: seconds, ~6.5 GB): this backend is slower than the
pool; use it where the REPL cannot be built. Unlike the REPL, where each command is elaborated on
its own, the commands here share one file: a command cut off mid-syntax runs into the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checker import protocol
from harness.checker.process import kill_group, lean_environment, limits_preexec, open_workspace
from harness.checker.sandbox import sandboxed
from harness.checker.toolchain import project_versions
from harness.config import Config
from harness.errors import ReplCrashed, ReplTimeout
from harness.types import CommandResult, LeanJob, LeanJobResult, LeanMessage

__all__ = ["OneShotChecker", "layout_file", "FileLayout"]

# Module names unlikely to exist in a user's Lake project (whose paths come first in LEAN_PATH).
SUBMISSION = "HarnessSubmission"
AUDIT = "HarnessAudit"


@dataclass
class FileLayout:
    """A file made of a prefix and pieces; where each piece starts (1-based line)."""

    text: str
    prefix_lines: int
    starts: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)


def layout_file(prefix: str, pieces: tuple[str, ...]) -> FileLayout:
    if prefix and not prefix.endswith("\n"):
        prefix += "\n"
    prefix_lines = prefix.count("\n")
    layout = FileLayout(text=prefix, prefix_lines=prefix_lines)
    line = prefix_lines + 1
    for piece in pieces:
        size = piece.count("\n") + 1
        layout.starts.append(line)
        layout.sizes.append(size)
        layout.text += piece + "\n"
        line += size
    return layout


def _shift(message: LeanMessage, offset: int) -> LeanMessage:
    return LeanMessage(
        severity=message.severity,
        line=max(message.line - offset, 1),
        column=message.column,
        text=message.text,
        end_line=message.end_line - offset if message.end_line else message.end_line,
        end_column=message.end_column,
    )


def split_messages(
    layout: FileLayout, messages: list[LeanMessage]
) -> tuple[tuple[LeanMessage, ...], list[list[LeanMessage]]]:
    """Messages in the prefix, and per piece (positions relative to the piece's first line)."""
    header: list[LeanMessage] = []
    per_piece: list[list[LeanMessage]] = [[] for _ in layout.starts]
    for message in messages:
        if message.line <= layout.prefix_lines or not layout.starts:
            header.append(message)
            continue
        index = 0
        for i, start in enumerate(layout.starts):
            if message.line >= start:
                index = i
        per_piece[index].append(_shift(message, layout.starts[index] - 1))
    return tuple(header), per_piece


class OneShotChecker:
    """The "oneshot" backend of `open_checker`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lean = config.lean
        self.project_dir = Path(self.lean.project_dir).resolve()
        self._scratch: Path | None = None
        self._own_scratch = False
        self._running: set[int] = set()
        self._slots = asyncio.Semaphore(self.lean.workers)
        self.stats: dict[str, Any] = {
            "backend": "oneshot",
            "checks": 0,
            "timeouts": 0,
            "crashes": 0,
            "checker_errors": 0,
        }

    async def __aenter__(self) -> OneShotChecker:
        self._scratch, self._own_scratch = open_workspace(self.lean)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for pid in list(self._running):
            kill_group(pid)
        if self._own_scratch and self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def versions(self) -> dict[str, str]:
        return project_versions(self.project_dir)

    # -- one Lean run ---------------------------------------------------------------------------

    async def _lean(
        self, work: Path, args: list[str], timeout: float, lean_path: str | None = None
    ) -> tuple[int, str]:
        env = lean_environment(work, self.lean.env_passthrough, (self.config.prover.api_key_env,))
        if lean_path is not None:
            env["LEAN_PATH"] = (
                f"{lean_path}{os.pathsep}{env['LEAN_PATH']}" if env.get("LEAN_PATH") else lean_path
            )
        argv, env = sandboxed(
            [*self.lean.lean_command, *args],
            env,
            lean=self.lean,
            scratch=work,
            cwd=self.project_dir,
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.project_dir,
                env=env,
                start_new_session=True,
                preexec_fn=limits_preexec(self.lean.memory_mb, self.lean.file_size_mb),
                limit=64 * 1024 * 1024,
            )
        except OSError as exc:
            raise ReplCrashed(f"cannot run {' '.join(self.lean.lean_command)}: {exc}") from exc
        self._running.add(proc.pid)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=max(timeout, 0.001))
        except TimeoutError:
            raise ReplTimeout(f"Lean did not finish within {timeout:.0f} s") from None
        finally:
            kill_group(proc.pid)
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
            self._running.discard(proc.pid)
        return proc.returncode or 0, out.decode("utf-8", errors="replace")

    @staticmethod
    def _crashed(code: int, output: str, messages: list[LeanMessage]) -> str | None:
        if code == 0 or (code == 1 and any(m.severity == "error" for m in messages)):
            return None
        tail = [line for line in output.splitlines() if line.strip() and not line.startswith("{")]
        detail = f": {tail[-1][:200]}" if tail else ""
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        return f"Lean failed ({how}){detail}"

    async def _attempt(self, job: LeanJob, timeout: float) -> LeanJobResult:
        assert self._scratch is not None
        started = time.monotonic()
        deadline = started + timeout
        work = Path(tempfile.mkdtemp(prefix="job-", dir=self._scratch))
        try:
            layout = layout_file(job.header, job.commands)
            source = work / f"{SUBMISSION}.lean"
            source.write_text(layout.text, encoding="utf-8")
            # --root: the module is named after its path below the scratch dir (HarnessSubmission)
            args = ["--json", f"--root={work}"]
            if job.audits:
                args += ["-o", str(work / f"{SUBMISSION}.olean")]
            code, output = await self._lean(work, [*args, str(source)], timeout)
            messages = protocol.decode_lean_json_output(output)
            crash = self._crashed(code, output, messages)
            if crash:
                raise ReplCrashed(crash)
            header_messages, per_command = split_messages(layout, messages)
            commands = tuple(CommandResult(messages=tuple(m)) for m in per_command)
            audits: tuple[CommandResult, ...] = ()
            if job.audits:
                audits = await self._audit(job, work, deadline)
            return LeanJobResult(
                outcome="ok",
                commands=commands,
                audits=audits,
                seconds=time.monotonic() - started,
                header_messages=header_messages,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    async def _audit(self, job: LeanJob, work: Path, deadline: float) -> tuple[CommandResult, ...]:
        if not (work / f"{SUBMISSION}.olean").is_file():
            reason = "not run: the submission did not compile to an .olean"
            return tuple(CommandResult(repl_error=reason) for _ in job.audits)
        parts = protocol.split_header(job.header)
        prefix = "\n".join((*parts.imports, f"import {SUBMISSION}")) + "\n" + parts.rest
        layout = layout_file(prefix, job.audits)
        source = work / f"{AUDIT}.lean"
        source.write_text(layout.text, encoding="utf-8")
        code, output = await self._lean(
            work, ["--json", str(source)], deadline - time.monotonic(), lean_path=str(work)
        )
        messages = protocol.decode_lean_json_output(output)
        crash = self._crashed(code, output, messages)
        if crash:
            raise ReplCrashed(f"audit: {crash}")
        header_messages, per_audit = split_messages(layout, messages)
        if any(m.severity == "error" for m in header_messages):
            first = next(m for m in header_messages if m.severity == "error")
            reason = f"audit file header failed: {first.text.splitlines()[0]}"
            return tuple(CommandResult(repl_error=reason) for _ in job.audits)
        return tuple(CommandResult(messages=tuple(m)) for m in per_audit)

    async def run(self, job: LeanJob) -> LeanJobResult:
        started = time.monotonic()
        timeout = job.timeout_s or self.lean.timeout_s
        self.stats["checks"] += 1
        failure = ""
        async with self._slots:
            for _ in range(2):
                try:
                    return await self._attempt(job, timeout)
                except ReplTimeout as exc:
                    self.stats["timeouts"] += 1
                    return LeanJobResult(
                        outcome="timeout", seconds=time.monotonic() - started, error=str(exc)
                    )
                except ReplCrashed as exc:
                    self.stats["crashes"] += 1
                    failure = str(exc)
        self.stats["checker_errors"] += 1
        return LeanJobResult(
            outcome="checker_error",
            seconds=time.monotonic() - started,
            error=f"{failure} (also after a retry)",
        )
