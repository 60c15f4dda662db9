"""The command line: one-line errors on bad input, `python -m harness` works."""

from __future__ import annotations

import subprocess
import sys

from harness.cli import COMMANDS, main


def test_python_dash_m_harness_help():
    out = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in COMMANDS:
        assert name in out


def test_bad_config_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("prover:\n  concurrency: lots\n")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "config", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "prover.concurrency: expected an integer" in proc.stderr


def test_config_command_prints_resolved_yaml(capsys):
    assert main(["config", "--set", "search.samples=32"]) == 0
    assert "samples: 32" in capsys.readouterr().out
