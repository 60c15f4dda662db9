"""`harness run` end to end: the loopback chat server as the prover, the REPL double as Lean."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from tests.doubles.chat_server import ChatServer, Status
from tests.run.helpers import (
    ERROR_TEXT,
    KEY,
    KEY_ENV,
    MARKER,
    PROBLEMS,
    SAMPLES,
    ScriptedProver,
    edit_repl_script,
    expected_rounds,
    read_lines,
    repl_requests,
    write_setup,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("api_key")]


def harness_run(config: Path, out: Path, *extra: str) -> int:
    return main(
        ["run", str(config), "--out", str(out), "--limit", str(PROBLEMS), "--no-progress", *extra]
    )


def effective(lines: list[dict]) -> dict[tuple[str, int, int], dict]:
    out = {}
    for line in lines:
        out[(line["problem"], line["sample"], line["round"])] = line
    return out


def recompute(lines: list[dict], problem_names: list[str], n: int) -> dict:
    """summary.json's numbers, by a second, plain implementation."""
    rows = effective(lines).values()
    proved_samples = {name: set() for name in problem_names}
    for row in rows:
        if row["verdict"] == "proved":
            proved_samples[row["problem"]].add(row["sample"])
    pass_at = {}
    k = 1
    while k <= n:
        values = [1 - math.comb(n - len(s), k) / math.comb(n, k) for s in proved_samples.values()]
        pass_at[str(k)] = sum(values) / len(values)
        k *= 2
    return {
        "problems": len(problem_names),
        "proved": sum(1 for s in proved_samples.values() if s),
        "attempts": len(rows),
        "pass_at": pass_at,
    }


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_a_run_with_lean_sandboxed_gives_the_scripted_verdicts(tmp_path, problems):
    with ChatServer(ScriptedProver(problems)) as server:
        config, _ = write_setup(tmp_path, server.url, sandboxed=True)
        run = tmp_path / "run"
        assert harness_run(config, run) == 0
    got = {key: line["verdict"] for key, line in effective(read_lines(run)).items()}
    assert got == expected_rounds(problems)
    header = json.loads((run / "header.json").read_text())
    assert header["sandbox"] == "bwrap" and header["confirmation"].startswith("fresh process")


def test_every_verdict_and_the_summary_match_the_script(tmp_path, problems):
    with ChatServer(ScriptedProver(problems)) as server:
        server.script(Status(500))  # the first request fails once: retried, never repair material
        config, repl_log = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        assert harness_run(config, run) == 0
        requests = list(server.requests)
        headers = list(server.headers)

    lines = read_lines(run)
    got = {key: line["verdict"] for key, line in effective(lines).items()}
    assert got == expected_rounds(problems)
    assert len(lines) == len(got)  # no duplicates
    assert len(requests) == len(lines) + 1  # one round asked twice: the 500
    assert [line["infra_retries"] for line in lines].count(1) == 1

    by_key = effective(lines)
    p0, p1, p2, p3 = (p.name for p in problems)
    # lean_error: Lean's message, at the marker's line in the file that was checked
    failed = by_key[(p1, 0, 0)]
    (error,) = [m for m in failed["messages"] if m["severity"] == "error"]
    assert error["text"] == ERROR_TEXT
    marker_line = next(i for i, text in enumerate(failed["proof"].split("\n"), 1) if MARKER in text)
    assert error["line"] == marker_line
    # ... and the repair prompt the server received carries that error and its line
    repairs = [
        r
        for r in requests
        if any(m["role"] == "assistant" for m in r["messages"])
        and MARKER in r["messages"][1]["content"]
    ]
    assert len(repairs) == SAMPLES
    for r in repairs:
        assert ERROR_TEXT in r["messages"][-1]["content"]
        assert f"line {marker_line}" in r["messages"][-1]["content"]
    assert by_key[(p0, 2, 0)]["proof"].startswith(problems[0].header + problems[0].statement)
    assert by_key[(p3, 1, 0)]["finish_reason"] == "length"
    assert by_key[(p2, 3, 1)]["answer"].startswith("I think")
    first = by_key[(p0, 0, 0)]
    assert first["model"] == "deepseek/deepseek-prover-v2" and first["temperature"] == 1.0
    assert first["max_tokens"] == 16384 and first["split"] == "test"
    assert first["prompt_tokens"] == 10 and first["completion_tokens"] > 0

    summary = json.loads((run / "summary.json").read_text())
    assert summary["suite"] == "smoke"
    assert (summary["problems"], summary["proved"], summary["attempts"]) == (4, 2, 28)
    assert summary["pass_at"] == {"1": 0.5, "2": 0.5, "4": 0.5}
    assert summary["by_verdict"]["proved"] == 8 and summary["by_verdict"]["truncated"] == 8
    assert summary["by_verdict"]["lean_error"] == 4 and summary["by_verdict"]["sorry"] == 4
    assert summary["by_verdict"]["no_proof"] == 4 and summary["by_verdict"]["prover_error"] == 0
    # summary.json is what the record says
    expected = recompute(lines, [p.name for p in problems], SAMPLES)
    assert summary["pass_at"] == pytest.approx(expected.pop("pass_at"))
    assert {k: summary[k] for k in expected} == expected

    header = json.loads((run / "header.json").read_text())
    assert header["suite"]["suite"] == "smoke" and header["suite"]["sha256"]
    assert header["lean_toolchain"] == "unknown" and header["config_hash"]
    assert header["harness_version"] and header["finished"]
    assert "## pass@k" in (run / "report.md").read_text()
    assert (run / "report.html").exists()

    # The key went to the server, and into no file of the run directory.
    assert headers[0]["authorization"] == f"Bearer {KEY}"
    for path in run.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    assert repl_requests(repl_log) > 0
    assert KEY not in repl_log.read_text()  # nor into Lean's environment


def test_rerunning_a_finished_run_asks_nothing(tmp_path, problems, capsys):
    with ChatServer(ScriptedProver(problems)) as server:
        config, repl_log = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        assert harness_run(config, run) == 0
        asked, checked = len(server.requests), repl_requests(repl_log)
        before = (run / "summary.json").read_text()
        lines = (run / "attempts.jsonl").read_text()
        assert harness_run(config, run) == 0
        assert len(server.requests) == asked
        assert repl_requests(repl_log) == checked
        assert (run / "attempts.jsonl").read_text() == lines
        assert json.loads((run / "summary.json").read_text()) == json.loads(before)

        # A changed config is refused, naming the key; --force goes ahead.
        capsys.readouterr()
        assert harness_run(config, run, "--set", "search.samples=8") == 2
        err = capsys.readouterr().err
        assert "search.samples: 4 -> 8" in err and "--force" in err
        assert err.count("\n") == 1


def test_sigkill_then_resume_gives_the_clean_run(tmp_path, problems):
    with ChatServer(ScriptedProver(problems, delay=0.25)) as server:
        config, _ = write_setup(tmp_path, server.url)
        clean, killed = tmp_path / "clean", tmp_path / "killed"
        assert harness_run(config, clean) == 0

        cmd = [
            sys.executable,
            "-m",
            "harness",
            "run",
            str(config),
            "--out",
            str(killed),
            "--limit",
            str(PROBLEMS),
            "--no-progress",
        ]
        env = dict(os.environ, **{KEY_ENV: KEY})
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        attempts = killed / "attempts.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if attempts.exists() and attempts.read_text().count("\n") >= 8:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = attempts.read_text().count("\n")
        assert 8 <= partial < 28
        with attempts.open("a") as f:
            f.write('{"problem": "smoke_add_zero", "sample": 3, "rou')  # torn mid-write

        assert harness_run(config, killed) == 0
        resumed_requests = list(server.requests)

    a, b = read_lines(clean), read_lines(killed)
    assert len(b) == len(a) == 28
    assert len({(x["problem"], x["sample"], x["round"]) for x in b}) == 28
    assert {k: v["verdict"] for k, v in effective(a).items()} == {
        k: v["verdict"] for k, v in effective(b).items()
    }
    sa = json.loads((clean / "summary.json").read_text())
    sb = json.loads((killed / "summary.json").read_text())
    assert (sa["proved"], sa["attempts"], sa["pass_at"]) == (
        sb["proved"],
        sb["attempts"],
        sb["pass_at"],
    )
    # Conversations rebuilt from the record still carry Lean's error into the repair turn.
    for r in resumed_requests:
        if any(m["role"] == "assistant" and MARKER in m["content"] for m in r["messages"]):
            assert ERROR_TEXT in r["messages"][-1]["content"]


def test_token_budget_stops_cleanly_and_a_larger_one_continues(tmp_path, problems):
    with ChatServer(ScriptedProver(problems)) as server:
        config, _ = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        assert harness_run(config, run, "--set", "search.max_tokens=100") == 0
        summary = json.loads((run / "summary.json").read_text())
        assert summary["complete"] is False and summary["attempts"] < 28
        assert "token budget" in json.loads((run / "header.json").read_text())["stopped"]
        assert harness_run(config, run) == 0  # budgets may change without --force
        summary = json.loads((run / "summary.json").read_text())
        assert summary["complete"] is True
        assert {k: v["verdict"] for k, v in effective(read_lines(run)).items()} == expected_rounds(
            problems
        )


def test_stop_on_success_stops_a_problem_at_its_first_proof(tmp_path, problems):
    with ChatServer(ScriptedProver(problems)) as server:
        config, _ = write_setup(tmp_path, server.url, stop_on_success=True)
        run = tmp_path / "run"
        assert (
            main(
                [
                    "run",
                    str(config),
                    "--out",
                    str(run),
                    "--limit",
                    "1",
                    "--no-progress",
                    "--set",
                    "prover.concurrency=1",
                    "--set",
                    "lean.workers=1",
                ]
            )
            == 0
        )
        assert [(x["sample"], x["verdict"]) for x in read_lines(run)] == [(0, "proved")]
        assert json.loads((run / "summary.json").read_text())["pass_at"] == {"4": 1.0}


def test_shards_merge_into_the_full_run(tmp_path, problems, capsys):
    with ChatServer(ScriptedProver(problems)) as server:
        config, _ = write_setup(tmp_path, server.url)
        for i in range(2):
            assert harness_run(config, tmp_path / f"s{i}", "--shard", f"{i}/2") == 0
        assert (
            main(
                [
                    "merge",
                    str(tmp_path / "s0"),
                    str(tmp_path / "s1"),
                    "--out",
                    str(tmp_path / "all"),
                ]
            )
            == 0
        )
    shard0 = {x["problem"] for x in read_lines(tmp_path / "s0")}
    assert shard0 == {problems[0].name, problems[2].name}
    merged = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert (merged["problems"], merged["proved"], merged["attempts"]) == (4, 2, 28)
    assert {
        k: v["verdict"] for k, v in effective(read_lines(tmp_path / "all")).items()
    } == expected_rounds(problems)
    assert (tmp_path / "all" / "report.html").exists()


def test_missing_key_or_lean_is_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    config, _ = write_setup(tmp_path, "https://prover.example.invalid/v1")
    monkeypatch.delenv(KEY_ENV)
    assert harness_run(config, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert "no API key" in err and KEY_ENV in err and err.count("\n") == 1
    monkeypatch.setenv(KEY_ENV, KEY)
    assert (
        harness_run(config, tmp_path / "run", "--set", "lean.repl_command=[/nonexistent/repl]") == 2
    )
    err = capsys.readouterr().err
    assert "Lean REPL not found" in err and err.count("\n") == 1
    assert not (tmp_path / "run" / "attempts.jsonl").exists()


def test_a_refused_key_stops_the_run_in_one_line_with_the_record_intact(tmp_path, problems, capsys):
    prover = ScriptedProver(problems)
    asked = []

    def refusing_after_six(request):
        asked.append(1)
        return prover(request) if len(asked) <= 6 else Status(401, body='{"error": "bad key"}')

    with ChatServer(refusing_after_six) as server:
        config, _ = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        assert harness_run(config, run) == 2
        err = capsys.readouterr().err
        (line,) = [x for x in err.splitlines() if "error" in x]
        assert "401" in line and KEY_ENV in line
        lines = read_lines(run)
        assert 1 <= len(lines) <= 6 and all(x["verdict"] != "prover_error" for x in lines)
        summary = json.loads((run / "summary.json").read_text())
        assert summary["complete"] is False and summary["attempts"] == len(lines)
        assert json.loads((run / "header.json").read_text())["stopped"]

        server.responder = prover  # the key is fixed: the same command finishes the run
        assert harness_run(config, run) == 0
    assert {k: v["verdict"] for k, v in effective(read_lines(run)).items()} == expected_rounds(
        problems
    )


def test_a_round_whose_check_failed_is_checked_again_on_resume_not_asked_again(tmp_path, problems):
    prover = ScriptedProver(problems)
    with ChatServer(prover) as server:
        config, _ = write_setup(tmp_path, server.url, samples=1, infra_retries=0)
        lean_dies = {"match": "simp", "crash": True}  # the first problem's proof is `by simp`
        edit_repl_script(config, first_rules=[lean_dies])
        harness_run(config, tmp_path / "run")
        first = [x for x in read_lines(tmp_path / "run") if x["problem"] == problems[0].name]
        assert [x["verdict"] for x in first] == ["checker_error"]
        asked = len(server.requests)

        edit_repl_script(config, rules=[{"match": MARKER, "error": ERROR_TEXT}])  # Lean works again
        assert harness_run(config, tmp_path / "run") == 0
        assert len(server.requests) == asked  # the recorded answer was checked, not bought again
    again = [x for x in read_lines(tmp_path / "run") if x["problem"] == problems[0].name]
    assert [x["verdict"] for x in again] == ["checker_error", "proved"]
    assert again[1]["answer"] == again[0]["answer"]
    assert again[1]["completion_tokens"] == again[0]["completion_tokens"]
