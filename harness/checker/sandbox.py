"""Every Lean process runs in a bubblewrap sandbox (`lean.sandbox: bwrap`, the default).

The model's text is hostile code, and Lean runs code while it elaborates (tactics, instances,
configuration values). The screen refuses what it knows; the sandbox makes the rest harmless:

* no network (`--unshare-net`); its own PID, IPC and UTS namespaces, so no other process and
  no `/proc/<pid>/environ` of the harness is visible;
* an environment built from nothing (`--clearenv`, then only the allow-list of process.py), with
  HOME and TMPDIR pointing at the scratch directory;
* a filesystem of read-only binds of exactly: the system directories, the Lean toolchain (elan's
  home), `lean.project_dir` and `lean.sandbox_ro_binds`; a private `/tmp`; and one writable
  directory, the process's scratch. No `$HOME`, no host `/tmp`, no run directory;
* `--die-with-parent` and `--new-session`: it cannot outlive the harness or reach its terminal;
  the PID namespace ends every process it started when its first process ends.

`lean.sandbox: none` runs Lean directly: the run header records it and reports say
"unsandboxed".
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from harness.config import LeanConfig
from harness.errors import PrerequisiteError

__all__ = ["sandboxed", "require_sandbox", "INSTALL_HINT"]

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: apt-get install -y bubblewrap; Fedora: dnf install "
    "bubblewrap) or, knowing that model code then runs unconfined, set lean.sandbox: none"
)
_SYSTEM = ("/usr", "/etc")
_MERGED = ("/bin", "/sbin", "/lib", "/lib64", "/lib32")  # symlinks into /usr on most systems


def require_sandbox(lean: LeanConfig) -> None:
    """Stop at once, in one line, when the sandbox is asked for and bubblewrap is missing."""
    if lean.sandbox == "bwrap" and shutil.which("bwrap") is None:
        raise PrerequisiteError(f"lean.sandbox is bwrap but `bwrap` is not on PATH: {INSTALL_HINT}")


def _elan_home(env: dict[str, str]) -> Path | None:
    home = env.get("ELAN_HOME") or os.environ.get("ELAN_HOME")
    path = Path(home) if home else Path.home() / ".elan"
    return path if path.is_dir() else None


def sandboxed(
    command: Sequence[str],
    env: dict[str, str],
    *,
    lean: LeanConfig,
    scratch: str | os.PathLike[str],
    cwd: str | os.PathLike[str],
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run `command` in the sandbox (or as it is, with
    `lean.sandbox: none`). `env` is the allow-listed environment Lean gets."""
    if lean.sandbox == "none":
        return list(command), env
    require_sandbox(lean)
    scratch = Path(scratch).resolve()
    inner = dict(env, HOME=str(scratch), TMPDIR=str(scratch))
    args = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    # a private /tmp first: binds of paths under the host's /tmp then land on top of it
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in _SYSTEM:
        args += ["--ro-bind", path, path]
    for path in _MERGED:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    binds = [Path(lean.project_dir).resolve(), *(Path(p).resolve() for p in lean.sandbox_ro_binds)]
    elan = _elan_home(env)
    if elan is not None:
        binds.append(elan.resolve())
        inner.setdefault("ELAN_HOME", str(elan.resolve()))
    for path in binds:
        if not path.exists():
            raise PrerequisiteError(f"lean.sandbox_ro_binds: {path} does not exist")
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(scratch), str(scratch)]
    for key, value in sorted(inner.items()):
        args += ["--setenv", key, value]
    args += ["--chdir", str(Path(cwd).resolve()), "--", *command]
    # bwrap itself needs only PATH to start; everything Lean sees is set with --setenv
    return args, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
