"""Lean runs in a bubblewrap sandbox: code the model gets Lean to run (here: the REPL double
running Python, as a tactic or an instance would) cannot reach the host.

Skips, saying why, where bubblewrap is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from harness.checker.pool import ReplPool
from harness.checker.sandbox import require_sandbox
from harness.errors import PrerequisiteError
from harness.types import LeanJob
from tests.checker.helpers import FAKE_REPL, double_config

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed (apt-get install bubblewrap)"
)
KEY_ENV = "HARNESS_SANDBOX_TEST_KEY"
KEY = "sk-sandbox-test-7f3a9c"
MARKER_SLEEP = "297.25"  # a process the model's code leaves behind, found by its argument

PROBE = """
import json, os, pathlib, socket, subprocess
out = {}
try:
    out["home"] = open(HOME_FILE).read()
except Exception as exc:
    out["home"] = "refused: " + type(exc).__name__
for name, path in (("write_outside", OUTSIDE), ("write_project", PROJECT_FILE)):
    try:
        with open(path, "w") as f:
            f.write("written by model code")
        out[name] = "wrote"
    except Exception as exc:
        out[name] = "refused: " + type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    out["tcp"] = "connected"
except Exception as exc:
    out["tcp"] = "refused: " + type(exc).__name__
out["env_key"] = any(KEY in value for value in os.environ.values())
environs = []
for entry in pathlib.Path("/proc").iterdir():
    if entry.name.isdigit():
        try:
            environs.append((entry / "environ").read_bytes())
        except Exception:
            pass
out["proc_key"] = any(KEY.encode() in data for data in environs)
out["processes"] = len(environs)
subprocess.Popen(["sleep", SLEEP], start_new_session=True)
result = json.dumps(out)
"""


def _sandbox_config(tmp_path: Path, probe: str):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    config, _ = double_config(
        tmp_path,
        {"rules": [{"match": "PROBE", "exec": probe}]},
        sandbox="bwrap",
        # the double is Python: it needs its interpreter and its own file, read-only
        sandbox_ro_binds=[sys.base_prefix, str(FAKE_REPL.parent), str(scripts)],
        repl_command=[
            str(Path(sys.executable).resolve()),
            str(FAKE_REPL),
            "--script",
            str(scripts / "script.json"),
        ],
    )
    (scripts / "script.json").write_text((tmp_path / "script.json").read_text())
    return config


def _sleepers() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARKER_SLEEP.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@needs_bwrap
def test_model_code_inside_lean_cannot_reach_the_host(tmp_path, monkeypatch):
    home_file = Path.home() / f".harness-sandbox-secret-{os.getpid()}"
    home_file.write_text("host secret")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    outside = tmp_path / "outside.txt"
    monkeypatch.setenv(KEY_ENV, KEY)
    probe = "\n".join(
        [
            f"HOME_FILE = {str(home_file)!r}",
            f"OUTSIDE = {str(outside)!r}",
            f"PROJECT_FILE = {str(tmp_path / 'project' / 'model.txt')!r}",
            f"PORT = {listener.getsockname()[1]}",
            f"KEY = {KEY!r}",
            f"SLEEP = {MARKER_SLEEP!r}",
            PROBE,
        ]
    )
    config = _sandbox_config(tmp_path, probe)

    async def go():
        async with ReplPool(config) as pool:
            return await pool.run(
                LeanJob(header="", commands=("theorem x : True := trivial -- PROBE",))
            )

    try:
        result = asyncio.run(go())
    finally:
        home_file.unlink()
    assert result.outcome == "ok", result.error
    (found,) = [m.text for m in result.commands[0].messages if m.text.startswith("{")]
    seen = json.loads(found)
    assert seen["home"].startswith("refused"), seen  # no $HOME inside
    # a write lands in the sandbox's private /tmp at most: nothing on the host
    assert not outside.exists(), seen["write_outside"]
    assert seen["write_project"].startswith("refused")  # the project is read-only
    assert not (tmp_path / "project" / "model.txt").exists()
    assert seen["tcp"].startswith("refused"), seen  # no network, not even loopback
    with pytest.raises(BlockingIOError):
        listener.accept()
    assert seen["env_key"] is False and seen["proc_key"] is False
    assert seen["processes"] <= 4  # its own PID namespace: no harness, no host processes
    deadline = time.monotonic() + 5
    while _sleepers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sleepers() == []  # nothing it started outlives the check


def test_without_bubblewrap_lean_commands_stop_at_once_saying_how_to_fix_it(tmp_path, monkeypatch):
    config, _ = double_config(tmp_path, sandbox="bwrap")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on this PATH
    with pytest.raises(PrerequisiteError) as err:
        require_sandbox(config.lean)
    message = str(err.value)
    assert "apt-get install -y bubblewrap" in message and "lean.sandbox: none" in message
    assert "\n" not in message


def test_doctor_says_whether_lean_is_sandboxed(tmp_path):
    from harness.checker.toolchain import doctor_checks

    def sandbox_line(**lean):
        config, _ = double_config(tmp_path, **lean)
        (check,) = [c for c in doctor_checks(config) if c.name == "sandbox"]
        return check

    unconfined = sandbox_line(sandbox="none")
    assert not unconfined.ok and "unconfined" in unconfined.line()
    if shutil.which("bwrap"):
        assert sandbox_line(sandbox="bwrap").ok
