"""The command line: one-line errors on bad input, `python -m harness` works."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# ---------------------------------------------------------------------------------------------
# File-system mistakes are one line naming the path (issue 13, point 2)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """`path` made unwritable: chmod for a normal user; as root (which chmod does not stop) the
    immutable attribute (`chattr +i`, needs CAP_LINUX_IMMUTABLE and a file system that has it)."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root, and no chattr to make a directory read-only")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"root, and chattr +i does not work here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    """A small finished run (the chat server and REPL doubles): its config file and directory;
    the chat server keeps answering (a run asks it once before it makes its directory)."""
    from tests.doubles.chat_server import ChatServer
    from tests.run.helpers import KEY, KEY_ENV, ScriptedProver, smoke_problems, write_setup

    tmp = tmp_path_factory.mktemp("fs")
    with pytest.MonkeyPatch.context() as mp, ChatServer(ScriptedProver(smoke_problems())) as server:
        mp.setenv(KEY_ENV, KEY)
        config, _ = write_setup(tmp, server.url, samples=1)
        run = tmp / "run"
        assert main(["run", str(config), "--out", str(run), "--limit", "2", "--no-progress"]) == 0
        yield config, run


def _one_line_naming(capsys, code: int, path: Path | str) -> str:
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("harness: error: ") and str(path) in err, err
    return err


@pytest.mark.timeout(120)
def test_file_system_errors_are_one_line_naming_the_path(
    finished_run, tmp_path, capsys, monkeypatch
):
    from tests.run.helpers import KEY, KEY_ENV

    monkeypatch.setenv(KEY_ENV, KEY)
    config, run = finished_run
    a_file = tmp_path / "a-file"
    a_file.write_text("x")

    def harness_run(out: Path) -> int:
        return main(["run", str(config), "--out", str(out), "--limit", "1", "--no-progress"])

    # run: --out naming a file, a parent that is a file, a parent nobody may write (/sys)
    err = _one_line_naming(capsys, harness_run(a_file), a_file)
    assert "not a directory" in err
    _one_line_naming(capsys, harness_run(a_file / "run"), a_file / "run")
    if Path("/sys/kernel").is_dir():  # sysfs: no directory can be made there, even by root
        _one_line_naming(capsys, harness_run(Path("/sys/harness-run")), "/sys/harness-run")
    # run: a missing parent is made
    assert harness_run(tmp_path / "missing" / "run") == 0
    # report: a file for a run directory, --out under a file or a missing parent
    _one_line_naming(capsys, main(["report", str(a_file)]), a_file)
    for out in (a_file / "cmp.md", tmp_path / "missing-parent" / "cmp.md"):
        _one_line_naming(capsys, main(["report", str(run), str(run), "--out", str(out)]), out)
    # resume and report of a read-only run directory
    with _read_only(run):
        err = _one_line_naming(capsys, harness_run(run), run)
        assert "cannot write" in err
        _one_line_naming(capsys, main(["report", str(run)]), run / "report.md")
        _one_line_naming(
            capsys,
            main(["report", str(run), str(run), "--out", str(run / "cmp.md")]),
            run / "cmp.md",
        )


def test_file_system_errors_without_a_path_are_one_line(monkeypatch, capsys):
    import harness.cli as cli

    def fails(args):
        raise PermissionError(13, "Permission denied\nsecond line", "/some/where")

    monkeypatch.setattr(cli, "_config_command", fails)
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert err == "harness: error: /some/where: Permission denied; second line\n"


def test_config_takes_a_positional_config_file_like_run(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("search:\n  samples: 7\n")
    assert main(["config", str(path)]) == 0
    assert "samples: 7" in capsys.readouterr().out


def test_doctor_and_config_have_help_descriptions():
    from harness.cli import build_parser

    choices = build_parser()._subparsers._group_actions[0].choices
    for name in ("doctor", "config"):
        assert choices[name].description and len(choices[name].description) > 40
