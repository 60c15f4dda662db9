"""Shared helpers for the checker tests: configs that point the pool at the REPL double."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from harness.checker.process import ReplProcess
from harness.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = ROOT / "tests" / "doubles" / "fake_repl.py"
FAKE_LEAN = Path(__file__).resolve().parent / "fake_lean.py"


def double_config(
    tmp_path: Path,
    script: dict[str, Any] | None = None,
    replay: list[Path] | None = None,
    **lean: Any,
) -> tuple[Config, Path]:
    """A config whose REPL is the double; returns it and the double's request log."""
    log = tmp_path / "requests.jsonl"
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script or {}), encoding="utf-8")
    command = [sys.executable, str(FAKE_REPL), "--script", str(script_path), "--log", str(log)]
    for path in replay or []:
        command += ["--replay", str(path)]
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    settings: dict[str, Any] = {
        "project_dir": str(project),
        "repl_command": command,
        "workers": 1,
        "timeout_s": 10,
        "header_timeout_s": 20,
        "memory_mb": 4096,
        # the double logs to a file outside any sandbox: tests/checker/test_sandbox.py and the
        # sandboxed end-to-end run exercise bubblewrap
        "sandbox": "none",
    }
    settings.update(lean)
    return load_config(None, {"lean": settings}), log


def repl_process(
    tmp_path: Path, command: list[str] | None = None, config: Config | None = None
) -> ReplProcess:
    """A ReplProcess (not started) running `command`, or the REPL of `config`."""
    if command is None:
        assert config is not None
        command = list(config.lean.repl_command)
    cwd = config.lean.project_dir if config is not None else tmp_path
    return ReplProcess(command, cwd, tmp_path / "scratch", memory_mb=4096, file_size_mb=64)


def read_log(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def requests_by_pid(log: Path) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for event in read_log(log):
        if event["event"] == "request":
            out.setdefault(event["pid"], []).append(event["request"])
    return out


def started_pids(log: Path) -> list[int]:
    return [e["pid"] for e in read_log(log) if e["event"] == "start"]


def process_state(pid: int) -> str | None:
    """The State letter of /proc/PID/status, or None when the process is gone (reaped)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return None


def children() -> list[tuple[int, str, bytes]]:
    """Our descendant processes from /proc: (pid, state letter, command line). Descendants,
    not only children: the REPL pool runs in a child process of its own (pool_process.py)."""
    table: dict[int, tuple[int, str, bytes]] = {}  # pid -> (parent, state, command line)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        with contextlib.suppress(ValueError):
            parent = int(fields.get("PPid", "").strip())
            table[int(entry.name)] = (parent, fields.get("State", "").strip()[:1], cmdline)
    found, parents = [], {os.getpid()}
    while parents:
        level = [(pid, state, cmd) for pid, (ppid, state, cmd) in table.items() if ppid in parents]
        found += level
        parents = {pid for pid, _, _ in level}
    return found


def zombie_children() -> list[int]:
    """Our own descendants that are zombies (exited, never reaped)."""
    return [pid for pid, state, _ in children() if state == "Z"]


def live_doubles() -> list[int]:
    """Our descendants running the REPL double and not yet exited."""
    return [pid for pid, state, cmd in children() if state != "Z" and b"fake_repl.py" in cmd]
