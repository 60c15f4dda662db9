"""`harness setup` and `harness doctor` on a machine without Lean, and with fake tools."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import build_parser, main

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
FAKE_REPL = ROOT / "tests" / "doubles" / "fake_repl.py"


def fake_tools(tmp_path: Path, failing: str | None = None) -> Path:
    """`elan` and `lake` scripts that log their arguments; `failing` makes that subcommand fail."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "tools.log"
    for tool in ("elan", "lake"):
        script = bin_dir / tool
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{tool} $*" >> {log}\n'
            f'echo "{tool}: working on $*"\n'
            f'case "{tool} $*" in "{failing}"*) echo "error: boom" ; exit 3 ;; esac\n'
            "exit 0\n"
        )
        script.chmod(0o755)
    return bin_dir


def project(tmp_path: Path) -> Path:
    dest = tmp_path / "lean_project"
    shutil.copytree(ROOT / "lean_project", dest, ignore=shutil.ignore_patterns(".lake"))
    return dest


def test_doctor_reports_every_check_without_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no elan/lake/lean
    monkeypatch.delenv("AIMLAPI_KEY", raising=False)
    code = main(
        [
            "doctor",
            "--set",
            f"lean.project_dir={ROOT / 'lean_project'}",
            "--set",
            "prover.base_url=http://127.0.0.1:9/v1",
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    checks = out[:-1]
    assert len(checks) == 10 and all(line.startswith(("OK ", "FAIL ")) for line in checks)
    text = "\n".join(out)
    assert "FAIL elan: not found on PATH -> install elan: `apt install elan`" in text
    assert "FAIL prover key: $AIMLAPI_KEY is not set" in text
    assert "FAIL prover endpoint" in text and "Traceback" not in text
    assert "FAIL sandbox: bwrap is not on PATH" in text  # PATH holds no bwrap here


def test_doctor_never_prints_the_key(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIMLAPI_KEY", "sk-very-secret")
    main(["doctor", "--set", "prover.base_url=http://127.0.0.1:9/v1"])
    out = capsys.readouterr().out
    assert "OK   prover key: $AIMLAPI_KEY is set" in out and "sk-very-secret" not in out


def test_setup_without_elan_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["setup", "--set", f"lean.project_dir={project(tmp_path)}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "elan not found" in err and "elan-init.sh" in err


def test_setup_runs_the_steps_in_order_and_streams_output(tmp_path, capsys, monkeypatch):
    bin_dir = fake_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    code = main(["setup", "--set", f"lean.project_dir={project(tmp_path)}"])
    out = capsys.readouterr().out
    assert code == 0
    assert (tmp_path / "tools.log").read_text().splitlines() == [
        "elan toolchain install leanprover/lean4:v4.24.0",
        "lake update REPL",
        "lake exe cache get",
        "lake build repl",
    ]
    assert "[3/4] fetch Mathlib's prebuilt cache: lake exe cache get" in out
    assert "    lake: working on exe cache get" in out


def test_setup_stops_at_the_failing_step_and_names_it(tmp_path, capsys, monkeypatch):
    bin_dir = fake_tools(tmp_path, failing="lake exe cache get")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    code = main(["setup", "--set", f"lean.project_dir={project(tmp_path)}"])
    captured = capsys.readouterr()
    assert code == 2
    assert "step 'fetch Mathlib's prebuilt cache' failed" in captured.err
    assert "exited 3" in captured.err and "network" in captured.err
    assert "lake build repl" not in (tmp_path / "tools.log").read_text()


@contextlib.contextmanager
def http_status(code: int) -> Iterator[str]:
    """A loopback server answering every GET with `code`; yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def doctor_lines(capsys, *sets: str) -> tuple[int, list[str]]:
    args = ["doctor"]
    for item in sets:
        args += ["--set", item]
    code = main(args)
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("status, ok", [(200, True), (501, False), (404, False), (401, False)])
def test_doctor_fails_a_non_2xx_endpoint_answer(status, ok, capsys):
    with http_status(status) as url:
        _, lines = doctor_lines(capsys, f"prover.base_url={url}")
    line = next(ln for ln in lines if "prover endpoint" in ln)
    assert line.startswith("OK " if ok else "FAIL "), line
    assert f"HTTP {status}" in line


def test_doctor_says_which_checks_contact_the_network(capsys):
    _, lines = doctor_lines(capsys, "prover.base_url=http://127.0.0.1:9/v1")
    networked = [ln for ln in lines if "(network)" in ln]
    assert len(networked) == 1 and "prover endpoint (network)" in networked[0]
    assert "network" in build_parser()._subparsers._group_actions[0].choices["doctor"].description


def test_doctor_understands_a_custom_repl_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no elan/lake/lean: a custom REPL needs none
    log = tmp_path / "repl-log.jsonl"
    command = f"lean.repl_command=[{sys.executable!r}, {str(FAKE_REPL)!r}, --log, {str(log)!r}]"
    _, lines = doctor_lines(capsys, command, f"lean.project_dir={tmp_path}")
    text = "\n".join(lines)
    for name in ("elan", "lake", "lean", "project toolchain", "Mathlib cache"):
        assert f"OK   {name}: not checked: not needed by lean.repl_command" in text
    repl = next(ln for ln in lines if ln.split(":")[0].endswith("REPL command"))
    assert repl.startswith("OK ") and "starts" in repl and str(log) not in repl.split(":")[0]
    # a program that is not there, or exits at once with an error, fails
    _, lines = doctor_lines(capsys, "lean.repl_command=/nonexistent/repl")
    assert "FAIL REPL command: /nonexistent/repl: not found" in "\n".join(lines)
    _, lines = doctor_lines(capsys, f"lean.repl_command=[{sys.executable!r}, -c, 'exit(4)']")
    assert any(ln.startswith("FAIL REPL command") and "exited 4" in ln for ln in lines)


def test_setup_and_doctor_work_from_any_directory(tmp_path, capsys, monkeypatch):
    bin_dir = fake_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    proj = project(tmp_path)
    (tmp_path / "c.yaml").write_text("lean:\n  project_dir: lean_project\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["setup", "--config", str(tmp_path / "c.yaml")]) == 0
    assert "lake build repl" in (tmp_path / "tools.log").read_text()
    main(["doctor", str(tmp_path / "c.yaml"), "--set", "prover.base_url=http://127.0.0.1:9/v1"])
    out = capsys.readouterr().out
    assert "lean-toolchain missing" not in out and f"{proj}/.lake" in out  # found from elsewhere


def test_setup_names_the_project_dir_it_tried(tmp_path, capsys, monkeypatch):
    (tmp_path / "c.yaml").write_text("lean:\n  project_dir: nowhere\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert main(["setup", "--config", str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nowhere") in err and "config file's directory" in err
