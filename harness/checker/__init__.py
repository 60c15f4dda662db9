"""The Lean checker: run a `LeanJob` in Lean, get a `LeanJobResult`.

    async with open_checker(config) as checker:
        result = await checker.run(LeanJob(header, commands, audits))
        checker.versions()  # {"lean_toolchain": ..., "mathlib_rev": ...}

Backends (`lean.backend`): "repl", a pool of REPL processes keyed by import block
(`pool.py`); "oneshot", `lake env lean --json` per job (`oneshot.py`); "kimina", remote Kimina
Lean Servers over HTTP (`kimina.py`; its results carry `checked_by`, and it raises
`CheckerUnavailable` when no server answers). All give the same outcomes ("ok" | "timeout" |
"checker_error"); `protocol.classify` turns a command's result into "accepted" | "lean_error" |
"sorry". Verdicts are made by `harness.soundness.verify`, not here.
"""

from __future__ import annotations

from typing import Any, Protocol

from harness.checker.kimina import KiminaChecker
from harness.checker.oneshot import OneShotChecker
from harness.checker.pool import ReplPool
from harness.checker.protocol import classify
from harness.config import Config
from harness.types import Confirmation, LeanJob, LeanJobResult

__all__ = [
    "LeanChecker",
    "open_checker",
    "classify",
    "ReplPool",
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
    return ReplPool(config)
