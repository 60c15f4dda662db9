"""Progress while a run goes."""

from __future__ import annotations

import io
import re

from harness.progress import ProgressCounts, make_progress


def test_plain_progress_lines_when_not_a_terminal():
    stream = io.StringIO()
    counts = ProgressCounts(problems=3)
    display = make_progress(counts, stream=stream)
    display.start()
    display.attempt(True, 120)
    display.problem_done(True)
    display.stop()
    text = stream.getvalue()
    assert "problems 1/3 done, 1 proved" in text and "1 rounds" in text and "120 tokens" in text
    assert "\x1b[" not in text  # no terminal control codes in logs


def test_proved_count_is_right_after_a_resume(tmp_path, monkeypatch, capsys):
    """Problems proved before the stop are counted once, not again when they finish."""
    import json

    from harness.cli import main
    from tests.doubles.chat_server import ChatServer
    from tests.run.helpers import (
        KEY,
        KEY_ENV,
        PROBLEMS,
        ScriptedProver,
        smoke_problems,
        write_setup,
    )

    monkeypatch.setenv(KEY_ENV, KEY)
    problems = smoke_problems()
    with ChatServer(ScriptedProver(problems)) as server:
        config, _ = write_setup(tmp_path, server.url)
        run = tmp_path / "run"
        args = ["run", str(config), "--out", str(run), "--limit", str(PROBLEMS), "--no-progress"]
        one_at_a_time = ["--set", "prover.concurrency=1", "--set", "lean.workers=1"]
        assert main([*args, *one_at_a_time, "--set", "search.max_tokens=60"]) == 0
        first = [json.loads(x) for x in (run / "attempts.jsonl").read_text().splitlines()]
        # the first problem proved before the stop, with samples still to run
        assert first[0]["verdict"] == "proved" and len(first) < 4
        capsys.readouterr()
        assert main(args) == 0
    last = [x for x in capsys.readouterr().err.splitlines() if "problems " in x][-1]
    assert "problems 4/4 done, 2 proved" in last


def test_the_bar_keeps_the_problem_count_and_eta_at_80_columns():
    from harness.progress import RichProgress

    counts = ProgressCounts(problems=244, done=3, proved=2)
    counts.started -= 100
    stream = io.StringIO()
    display = RichProgress(counts, stream)
    display._console.width = 80
    display.start()
    counts.done, counts.attempts, counts.tokens = 10, 1234, 12_345_678
    display.stop()
    last = stream.getvalue().splitlines()[-1]
    assert "10/244" in last and "2 proved" in last
    assert re.search(r"ETA (\d+h)?\d+m\d\ds", last)  # the reports' duration format
    assert len(last) <= 80


def test_plain_progress_lines_come_at_least_every_10_seconds(monkeypatch):
    import harness.progress as progress_module

    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    display = make_progress(ProgressCounts(problems=3), stream=stream)
    display.start()
    for _ in range(30):  # one round a second for 30 seconds
        clock[0] += 1.0
        display.attempt(False, 10)
    assert stream.getvalue().count("\n") >= 3
