"""The run around the search: selecting problems (limit, shards, Slurm), the run header."""

from __future__ import annotations

import pytest

from harness.config import config_hash, load_config
from harness.errors import ConfigError
from harness.record import CoveredProblem, RunHeader, Selection
from harness.search import _header, parse_shard, select_problems, shard_from_env
from harness.types import Problem, Suite, SuiteSource


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


def test_a_resumed_invocation_keeps_what_earlier_ones_recorded():
    config = load_config(None, ["search.samples=2"])
    suite = Suite(SuiteSource("smoke", sha256="abc"), tuple(problems(3)))
    first = _header(config, suite, problems(2), RunHeader(), {}, 2, None)
    assert first.invocations == 1 and first.started and first.wall_s == 0.0
    assert (first.lean_toolchain, first.mathlib_rev) == ("unknown", "unknown")
    assert first.config_hash == config_hash(config) and first.suite == suite.source
    assert first.selection == Selection(limit=2)

    first.wall_s, first.lean_toolchain = 7.5, "v4.9.0"
    again = _header(config, suite, problems(3)[1:], first, {"mathlib_rev": "abc123"}, None, (0, 2))
    assert again.problems == [CoveredProblem("p0"), CoveredProblem("p1"), CoveredProblem("p2")]
    assert (again.started, again.wall_s, again.invocations) == (first.started, 7.5, 2)
    assert (again.lean_toolchain, again.mathlib_rev) == ("v4.9.0", "abc123")
    assert again.selection == Selection(shard="0/2") and again.finished is None
