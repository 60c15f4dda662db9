"""Lean 4 proof-search harness: suite -> prompt -> answer -> candidate -> verdict -> record -> report."""

from __future__ import annotations

from harness.config import Config, load_config
from harness.errors import (
    CheckerError,
    ConfigError,
    HarnessError,
    PrerequisiteError,
    ProverError,
    RecordError,
    SuiteError,
)
from harness.record import harness_version as _harness_version
from harness.types import (
    Answer,
    Attempt,
    Candidate,
    LeanJob,
    LeanJobResult,
    LeanMessage,
    NoProof,
    Problem,
    Suite,
    SuiteSource,
    Summary,
    Verdict,
    VerdictKind,
)

__version__ = _harness_version()

__all__ = [
    "__version__",
    "run",
    "run_async",
    "Config",
    "load_config",
    "HarnessError",
    "ConfigError",
    "SuiteError",
    "ProverError",
    "CheckerError",
    "RecordError",
    "PrerequisiteError",
    "Answer",
    "Attempt",
    "Candidate",
    "LeanJob",
    "LeanJobResult",
    "LeanMessage",
    "NoProof",
    "Problem",
    "Suite",
    "SuiteSource",
    "Summary",
    "Verdict",
    "VerdictKind",
]


def __getattr__(name: str):
    # `harness.run` imports the whole pipeline (httpx, the checker): only when asked for.
    if name in ("run", "run_async"):
        from harness import search

        return getattr(search, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
