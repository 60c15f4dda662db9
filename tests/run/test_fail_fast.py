"""Failing fast and honestly, and resuming by running the same command again (issue 13)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.client import ProverClient
from tests.doubles.chat_server import ChatServer, Reset, Status
from tests.run.helpers import (
    KEY,
    KEY_ENV,
    PROBLEMS,
    ScriptedProver,
    expected_rounds,
    read_lines,
    write_setup,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("api_key")]


def closed_port_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def harness_cmd(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness", "run", str(config), "--no-progress", *extra]


def verdicts(run: Path) -> dict[tuple[str, int, int], str]:
    return {(x["problem"], x["sample"], x["round"]): x["verdict"] for x in read_lines(run)}


def claims_completion(run: Path) -> bool:
    summary = run / "summary.json"
    header = run / "header.json"
    if summary.exists() and json.loads(summary.read_text()).get("complete"):
        return True
    return header.exists() and bool(json.loads(header.read_text()).get("finished"))


def test_a_dead_endpoint_stops_the_smoke_run_in_seconds_naming_the_url(tmp_path):
    url = closed_port_url()
    config, _ = write_setup(tmp_path, url)
    run = tmp_path / "run"
    env = dict(os.environ, **{KEY_ENV: KEY})
    started = time.monotonic()
    done = subprocess.run(
        harness_cmd(config, "--out", str(run)), env=env, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 30
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (run.exists() and claims_completion(run))


def test_the_circuit_breaker_stops_a_run_whose_endpoint_dies_resumably(
    tmp_path, problems, capsys, monkeypatch
):
    monkeypatch.setattr(ProverClient, "BREAKER_FAILURES", 4)
    prover = ScriptedProver(problems)
    asked: list[int] = []

    def dying_after_six(request):
        asked.append(1)
        return prover(request) if len(asked) <= 6 else Reset()

    with ChatServer(dying_after_six) as server:
        config, _ = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        args = ["run", str(config), "--out", str(run), "--limit", str(PROBLEMS), "--no-progress"]
        assert main(args) == 2
        err = capsys.readouterr().err
        (line,) = [x for x in err.splitlines() if "error" in x]
        assert "unreachable" in line and server.url in line
        assert not claims_completion(run)
        assert all(v != "prover_error" for v in verdicts(run).values())

        server.responder = prover  # the endpoint is back: the same command finishes the run
        assert main(args) == 0
    assert verdicts(run) == expected_rounds(problems)


def test_infrastructure_failures_left_make_a_run_incomplete_and_exit_non_zero(
    tmp_path, problems, capsys
):
    prover = ScriptedProver(problems)
    last = problems[3].decl_name

    def failing_one_problem(request):
        text = request["messages"][-1]["content"]
        return Status(500) if last in text else prover(request)

    with ChatServer(failing_one_problem) as server:
        config, _ = write_setup(tmp_path, server.url, infra_retries=0)
        run = tmp_path / "run"
        args = ["run", str(config), "--out", str(run), "--limit", str(PROBLEMS), "--no-progress"]
        assert main(args) == 1
        out = capsys.readouterr().out
        assert "4 rounds ended in infrastructure failures" in out
        summary = json.loads((run / "summary.json").read_text())
        assert summary["complete"] is False and summary["infrastructure_failures"] == 4
        assert "infrastructure" in json.loads((run / "header.json").read_text())["stopped"]

        server.responder = prover
        assert main(args) == 0
        summary = json.loads((run / "summary.json").read_text())
        assert summary["complete"] is True and summary["infrastructure_failures"] == 0
    assert {k: v for k, v in verdicts(run).items()} == expected_rounds(problems)


@pytest.mark.parametrize(
    "override",
    ["prompt=no_such_prompt", "prompt=missing-template.txt", "prover.base_url=notaurl"],
)
def test_a_config_mistake_creates_no_run_directory(tmp_path, override, capsys):
    config, _ = write_setup(tmp_path, "http://127.0.0.1:9/v1")
    run = tmp_path / "run"
    assert main(["run", str(config), "--out", str(run), "--no-progress", "--set", override]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not run.exists()


def test_the_default_run_directory_is_the_same_for_the_same_command(tmp_path, monkeypatch):
    from harness.config import load_config
    from harness.search import default_out_dir

    a = default_out_dir("smoke", None, load_config(None, ["prover.model=org/m-1"]), 4)
    b = default_out_dir("smoke", None, load_config(None, ["prover.model=org/m-1"]), 4)
    c = default_out_dir("smoke", None, load_config(None, ["search.samples=9"]), 4)
    assert a == b and a != c
    assert a.parent == Path("runs") and a.name.startswith("smoke-m-1-") and "first4" in a.name


def test_sigint_then_the_same_command_resumes_into_one_run_equal_to_a_clean_one(tmp_path, problems):
    with ChatServer(ScriptedProver(problems, delay=0.25)) as server:
        config, _ = write_setup(tmp_path, server.url)
        clean = tmp_path / "clean"
        assert main(["run", str(config), "--out", str(clean), "--limit", str(PROBLEMS)]) == 0

        work = tmp_path / "work"
        work.mkdir()
        cmd = harness_cmd(config, "--limit", str(PROBLEMS))  # no --out: the default directory
        env = dict(os.environ, **{KEY_ENV: KEY})
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # the signal goes to the harness only, as a Ctrl-C would
        )
        deadline = time.monotonic() + 60
        attempts: list[Path] = []
        while time.monotonic() < deadline:
            attempts = list(work.glob("runs/*/attempts.jsonl"))
            if attempts and attempts[0].read_text().count("\n") >= 8:
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        (run,) = [p.parent for p in attempts]
        assert f"the run directory is runs/{run.name}" in err
        assert "to resume, run: harness run" in err
        partial = read_lines(run)
        assert 8 <= len(partial) < 28

        again = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, timeout=90)
        assert again.returncode == 0, again.stderr
        assert f"resuming runs/{run.name}" in again.stderr
        assert f"{len({(x['problem'], x['sample'], x['round']) for x in partial})} rounds" in (
            again.stderr
        )

    assert [p.name for p in (work / "runs").iterdir()] == [run.name]  # one run directory
    lines = read_lines(run)
    keys = [(x["problem"], x["sample"], x["round"]) for x in lines]
    assert len(keys) == len(set(keys)) == 28  # no duplicates
    assert verdicts(run) == verdicts(clean) == expected_rounds(problems)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["complete"] is True
