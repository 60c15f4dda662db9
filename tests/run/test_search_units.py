"""Selecting problems (limit, shards, Slurm), rebuilding verdicts, progress output."""

from __future__ import annotations

import io

import pytest

from harness.errors import ConfigError
from harness.progress import ProgressCounts, make_progress
from harness.search import parse_shard, select_problems, shard_from_env, verdict_of
from harness.types import Attempt, Problem, VerdictKind


def problems(n: int) -> list[Problem]:
    return [Problem(name=f"p{i}", header="", statement=f"theorem p{i} : True :=") for i in range(n)]


def test_shards_are_disjoint_and_cover_the_limited_suite():
    ps = problems(10)
    shares = [select_problems(ps, limit=7, shard=(i, 3)) for i in range(3)]
    names = [p.name for share in shares for p in share]
    assert sorted(names) == sorted(p.name for p in ps[:7]) and len(names) == 7
    assert [p.name for p in shares[1]] == ["p1", "p4"]
    assert select_problems(ps, limit=3) == ps[:3]


def test_shard_flag_and_slurm_defaults():
    assert parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "x", "1/0", "-1/2"):
        with pytest.raises(ConfigError):
            parse_shard(bad)
    assert shard_from_env({}) is None
    assert shard_from_env({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}) == (3, 4)
    # --array=1-4: ids start at 1
    env = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"}
    assert shard_from_env(env) == (0, 4)


def test_a_recorded_round_gives_back_the_verdict_a_repair_turn_needs():
    a = Attempt(
        "p",
        0,
        0,
        "lean_error",
        proof="theorem p : True := by\n  bad",
        messages=[{"severity": "error", "line": 2, "column": 2, "text": "unknown tactic"}],
        goals=["⊢ True"],
        error=None,
    )
    v = verdict_of(a)
    assert v.kind == VerdictKind.LEAN_ERROR
    assert v.messages[0].line == 2 and v.messages[0].text == "unknown tactic"
    assert v.checked_file == a.proof and v.goals == ("⊢ True",)


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
