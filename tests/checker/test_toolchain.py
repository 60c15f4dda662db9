"""`harness setup` and `harness doctor` on a machine without Lean, and with fake tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.cli import main

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]


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
