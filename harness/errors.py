"""The harness's exception tree. Foreign exceptions are mapped to these where they enter.

    HarnessError                 anything the CLI prints as one line (exit status 2)
    ├── ConfigError              a bad key, value or config file
    ├── SuiteError               a malformed suite file: names file, line and problem
    ├── ProverError              the prover endpoint failed in a way a retry cannot fix
    │   └── ProverHTTPError      a non-retryable HTTP status (400/401/403/404)
    ├── CheckerError             Lean could not be run (not a verdict: a broken setup)
    │   ├── ReplCrashed          the REPL exited or its output could not be parsed
    │   ├── ReplTimeout          a REPL did not answer in time
    │   └── CheckerUnavailable   no remote Lean server answered for a bounded time: stop the run
    ├── RecordError              a run directory that cannot be read, written or resumed
    └── PrerequisiteError        something the user must install or set first

Inside a run, failures of one attempt are values (verdicts `prover_error`, `checker_error`);
only what stops the whole run raises.
"""

from __future__ import annotations

__all__ = [
    "HarnessError",
    "ConfigError",
    "SuiteError",
    "ProverError",
    "ProverHTTPError",
    "CheckerError",
    "ReplCrashed",
    "ReplTimeout",
    "ReplInterrupted",
    "CheckerUnavailable",
    "RecordError",
    "PrerequisiteError",
]


class HarnessError(Exception):
    """Base of every error the harness raises on purpose; its message is one line for a user."""


class ConfigError(HarnessError):
    """A configuration key, value or file is wrong."""


class SuiteError(HarnessError):
    """A suite file is malformed."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class ProverError(HarnessError):
    """The prover endpoint failed in a way that retrying will not fix."""


class ProverHTTPError(ProverError):
    def __init__(self, status: int, url: str, message: str) -> None:
        self.status = status
        self.url = url
        super().__init__(message)


class CheckerError(HarnessError):
    """Lean could not be run."""


class ReplCrashed(CheckerError):
    """The REPL process exited, or wrote something that is not a reply."""


class ReplTimeout(CheckerError):
    """The REPL did not answer within its time limit."""


class ReplInterrupted(CheckerError):
    """The REPL was stopped before it answered this request, because of another request
    queued on it (a timeout, a crash, a cancel): not this request's fault; retry elsewhere."""


class CheckerUnavailable(CheckerError):
    """Every remote Lean server (lean.kimina_urls) failed for a bounded time, or refused us for
    good (a rejected API key, a URL that is no Kimina server). Not a verdict: the run must stop
    (it is resumable). The message is one line naming the URLs and why; never the key."""

    def __init__(self, message: str, urls: tuple[str, ...] = ()) -> None:
        self.urls = tuple(urls)
        super().__init__(message)


class RecordError(HarnessError):
    """A run directory cannot be read, written or resumed."""


class PrerequisiteError(HarnessError):
    """Something must be installed or set before this command can work."""
