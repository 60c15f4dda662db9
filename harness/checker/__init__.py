"""The Lean checker: run a `LeanJob` in Lean, get a `LeanJobResult`.

    async with open_checker(config) as checker:
        result = await checker.run(LeanJob(header, commands, audits))
        checker.versions()  # {"lean_toolchain": ..., "mathlib_rev": ...}

Backends (`lean.backend`): "repl", a pool of REPL processes keyed by import block
(`pool.py`), run in a child process so nothing else delays Lean's replies (`pool_process.py`); "oneshot", `lake env lean --json` per job (`oneshot.py`); "kimina", remote Kimina
Lean Servers over HTTP (`kimina.py`; its results carry `checked_by`, and it raises
`CheckerUnavailable` when no server answers). All give the same outcomes ("ok" | "timeout" |
"checker_error"); `protocol.classify` turns a command's result into "accepted" | "lean_error" |
"sorry". Verdicts are made by `harness.soundness.verify`, not here.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Protocol

from harness.checker.kimina import KiminaChecker
from harness.checker.oneshot import OneShotChecker
from harness.checker.pool import ReplPool
from harness.checker.pool_process import PoolProcess
from harness.checker.protocol import classify
from harness.checker.sandbox import require_sandbox
from harness.config import Config
from harness.errors import PrerequisiteError
from harness.types import Confirmation, LeanJob, LeanJobResult

__all__ = [
    "preflight",
    "LeanChecker",
    "open_checker",
    "classify",
    "ReplPool",
    "PoolProcess",
    "OneShotChecker",
    "KiminaChecker",
]


class LeanChecker(Protocol):
    stats: dict[str, Any]

    async def __aenter__(self) -> LeanChecker: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def run(self, job: LeanJob) -> LeanJobResult: ...

    # the REPL pool only (jobs ask for it with `confirm`, built for lean.backend: repl)
    async def confirm(self, job: LeanJob, pickled: bytes) -> Confirmation: ...

    def versions(self) -> dict[str, str]: ...

    async def aclose(self) -> None: ...


def open_checker(config: Config) -> LeanChecker:
    """The backend `config.lean.backend` names, as an async context manager (nothing starts
    until `async with`; processes start lazily, on the first job of each import block)."""
    if config.lean.backend == "oneshot":
        return OneShotChecker(config)
    if config.lean.backend == "kimina":
        return KiminaChecker(config)
    return PoolProcess(config)  # a ReplPool in a child process of its own


def preflight(config: Config) -> None:
    """Fail before any work when Lean cannot be started, naming what is missing (one line):
    `harness run`, `check` and `recheck` call it before anything else."""
    lean = config.lean
    if lean.backend == "kimina":
        return  # Lean runs on the servers; an unreachable one stops the run at its first check
    require_sandbox(lean)
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
