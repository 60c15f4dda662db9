"""Progress while a run goes."""

from __future__ import annotations

import io

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
