"""The run directory: append, torn-line repair, supersede, config refusal, the header, merge."""

from __future__ import annotations

import json

import pytest
import yaml

from harness.config import load_config
from harness.errors import RecordError
from harness.record import (
    CoveredProblem,
    IndexEntry,
    RunHeader,
    RunRecord,
    Selection,
    merge_runs,
    summarize_record,
)
from harness.types import Attempt, SuiteSource, VerdictKind


def _a(problem, sample, rnd, verdict, **kw):
    return Attempt(problem=problem, sample=sample, round=rnd, verdict=verdict, **kw)


def test_torn_last_line_is_cut_before_appending(tmp_path):
    rec = RunRecord(tmp_path)
    with rec:
        rec.append(_a("p", 0, 0, "lean_error"))
    with open(rec.attempts_path, "a", encoding="utf-8") as f:
        f.write('{"problem": "p", "sample": 0, "ro')  # killed mid-write
    assert [a.key for a in rec.iter_effective()] == [("p", 0, 0)]
    with rec:
        rec.append(_a("p", 0, 1, "proved"))
    lines = rec.attempts_path.read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == [0, 1]


def test_last_line_per_key_wins_and_infra_failures_are_not_finished(tmp_path):
    rec = RunRecord(tmp_path)
    with rec:
        rec.append(_a("p", 0, 0, "prover_error", error="HTTP 500"))
        rec.append(_a("p", 1, 0, "checker_error"))
        rec.append(_a("p", 0, 0, "proved"))  # the retry supersedes the failure
    idx = rec.index()
    assert idx.finished() == {("p", 0, 0)}
    assert idx.last[("p", 0, 0)] == IndexEntry(idx.last[("p", 0, 0)].offset, VerdictKind.PROVED)
    effective = list(rec.iter_effective())
    assert [(a.key, a.verdict) for a in effective] == [
        (("p", 1, 0), "checker_error"),
        (("p", 0, 0), "proved"),
    ]


def test_unreadable_complete_lines_are_skipped_and_counted(tmp_path):
    rec = RunRecord(tmp_path)
    rec.dir.mkdir(exist_ok=True)
    not_a_verdict = {"problem": "p", "sample": 1, "round": 0, "verdict": "maybe"}
    rec.attempts_path.write_text(
        'not json\n{"problem": "p"}\n'
        + json.dumps(not_a_verdict)
        + "\n"
        + json.dumps(_a("p", 0, 0, "sorry").to_json())
        + "\n"
    )
    idx = rec.index()
    assert idx.unreadable == 3 and len(idx.last) == 1


def test_lines_of_older_versions_read_with_the_verdict_as_a_kind(tmp_path):
    """An early line: no goals, infra_retries or ends_sample; a field since retired."""
    rec = RunRecord(tmp_path)
    rec.dir.mkdir(exist_ok=True)
    line = {"problem": "p", "sample": 0, "round": 0, "verdict": "lean_error", "retired": 1}
    rec.attempts_path.write_text(json.dumps(line) + "\n")
    (a,) = rec.iter_effective()
    assert a.verdict is VerdictKind.LEAN_ERROR and a.goals == [] and not a.ends_sample
    with rec:
        rec.append(_a("p", 0, 1, VerdictKind.PROVED))
    assert json.loads(rec.attempts_path.read_text().splitlines()[1])["verdict"] == "proved"


def test_a_sample_ended_early_is_in_the_index(tmp_path):
    rec = RunRecord(tmp_path)
    with rec:
        rec.append(_a("p", 0, 1, "truncated", ends_sample=True))
        rec.append(_a("p", 1, 1, "truncated", ends_sample=True))
        rec.append(_a("p", 1, 1, "truncated"))  # the last line decides
    idx = rec.index()
    assert idx.last[("p", 0, 1)].ends_sample and not idx.last[("p", 1, 1)].ends_sample


def test_a_config_written_before_a_key_existed_still_resumes(tmp_path):
    rec = RunRecord(tmp_path)
    rec.write_config(load_config())
    old = yaml.safe_load(rec.config_path.read_text())
    del old["soundness"]["allow_native_decide"]  # as if written before the key existed
    rec.config_path.write_text(yaml.safe_dump(old))
    rec.check_config(load_config())  # no "different config"


def test_a_different_config_is_refused_naming_the_keys(tmp_path):
    rec = RunRecord(tmp_path)
    rec.write_config(load_config(None, ["search.samples=4"]))
    with pytest.raises(RecordError) as err:
        rec.check_config(load_config(None, ["search.samples=8", "prover.temperature=0.6"]))
    message = str(err.value)
    assert "search.samples: 4 -> 8" in message and "prover.temperature" in message
    assert "--force" in message
    # --force proceeds and reports the difference; speed and budget keys never block.
    assert rec.check_config(load_config(None, ["search.samples=8"]), force=True)
    assert rec.check_config(load_config(None, ["search.samples=4", "prover.concurrency=32"])) == []
    speed = ["search.samples=4", "prover.transport=httpx", "lean.pipeline_depth=1"]
    assert rec.check_config(load_config(None, speed)) == []


def test_a_run_recorded_before_a_speed_setting_existed_resumes(tmp_path):
    """Older harness versions wrote no prover.transport / lean.pipeline_depth."""
    rec = RunRecord(tmp_path)
    rec.write_config(load_config(None, ["search.samples=4"]))
    text = rec.config_path.read_text()
    old = "\n".join(
        line
        for line in text.splitlines()
        if not line.strip().startswith(("transport:", "pipeline_depth:"))
    )
    assert old != text
    rec.config_path.write_text(old + "\n")
    assert rec.check_config(load_config(None, ["search.samples=4"])) == []


def test_secrets_never_reach_the_files(tmp_path):
    key = "sk-TEST-7f3c9a-DISTINCTIVE"
    rec = RunRecord(tmp_path, secrets=[key])
    with rec:
        rec.append(_a("p", 0, 0, "prover_error", error=f"401 for Bearer {key}"))
    rec.write_header(RunHeader(stopped=f"HTTP 401 for {key}", extra={"note": key}))
    for path in tmp_path.iterdir():
        assert key not in path.read_text()


def _shard(tmp_path, name, problems, attempts, samples=2):
    rec = RunRecord(tmp_path / name)
    rec.write_config(load_config(None, [f"search.samples={samples}"]))
    rec.write_header(
        RunHeader(
            suite=SuiteSource("smoke", sha256="abc"),
            samples=samples,
            problems=[CoveredProblem(p, "test") for p in problems],
            finished="2026-01-01T00:00:00+00:00",
            wall_s=5.0,
            invocations=1,
        )
    )
    with rec:
        for a in attempts:
            rec.append(a)
    return rec.dir


def test_merge_combines_shards_into_one_run(tmp_path):
    a = _shard(tmp_path, "s0", ["p1", "p3"], [_a("p1", 0, 0, "proved"), _a("p3", 0, 0, "sorry")])
    b = _shard(tmp_path, "s1", ["p2"], [_a("p2", 1, 0, "proved")])
    summary = merge_runs([a, b], tmp_path / "all")
    assert (summary.problems, summary.proved, summary.attempts) == (3, 2, 3)
    assert summary.pass_at["1"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    out = RunRecord(tmp_path / "all")
    assert out.read_summary()["proved"] == 2
    assert summarize_record(out) == summary
    header = out.read_header()
    assert header.merged_from == [str(a), str(b)]
    assert [p.name for p in header.problems] == ["p1", "p3", "p2"]
    assert (header.finished, header.wall_s, header.invocations) == (
        "2026-01-01T00:00:00+00:00",
        5.0,
        2,
    )


def test_merge_refuses_shards_with_different_configs(tmp_path):
    a = _shard(tmp_path, "s0", ["p1"], [], samples=2)
    b = _shard(tmp_path, "s1", ["p2"], [], samples=4)
    with pytest.raises(RecordError, match="search.samples"):
        merge_runs([a, b], tmp_path / "all")
    with pytest.raises(RecordError, match="one of the inputs"):
        merge_runs([a], a)


@pytest.mark.parametrize("one_pass_max", [50_000, 2])
def test_summary_in_one_read_equals_the_indexed_two_pass_one(tmp_path, monkeypatch, one_pass_max):
    import harness.record as record_module

    monkeypatch.setattr(record_module, "_ONE_PASS_MAX", one_pass_max)  # 2: the fallback
    rec = RunRecord(tmp_path)
    rec.write_header(RunHeader(samples=2, problems=[CoveredProblem("p", "test")]))
    with rec:
        rec.append(_a("p", 0, 0, "prover_error", prover_s=1.5))
        rec.append(_a("q", 1, 0, "proved", cost=0.25, split="valid"))
        rec.append(_a("p", 1, 0, "lean_error", completion_tokens=7))
        rec.append(_a("p", 0, 0, "proved", prover_s=2.0))  # supersedes the first line
    with open(rec.attempts_path, "a", encoding="utf-8") as f:
        f.write('not json\n{"problem": "p", "sample": 0, "ro')  # unreadable, then torn
    assert list(record_module._effective_light(rec)) == list(rec.iter_effective(light=True))
    summary = summarize_record(rec)
    assert summary == summarize_record(rec, index=rec.index())
    assert summary.attempts == 3 and summary.proved == 2 and summary.prover_s == 2.0


def test_the_header_round_trips_in_the_file_format(tmp_path):
    rec = RunRecord(tmp_path)
    header = RunHeader(
        harness_version="0.1.0",
        config_hash="c0ffee",
        suite=SuiteSource("smoke", variant="built-in", sha256="abc"),
        lean_toolchain="unknown",
        mathlib_rev="unknown",
        model="m",
        prompt="deepseek-v2",
        samples=4,
        repair_rounds=1,
        selection=Selection(limit=4, shard="1/2"),
        started="2026-01-01T00:00:00+00:00",
        wall_s=1.5,
        invocations=1,
        problems=[CoveredProblem("p", "test")],
    )
    rec.write_header(header)
    assert rec.read_header() == header
    data = json.loads(rec.header_path.read_text())
    assert list(data)[:3] == ["harness_version", "config_hash", "suite"]
    assert data["suite"]["variant"] == "built-in" and data["selection"] == {
        "limit": 4,
        "shard": "1/2",
    }
    assert data["problems"] == [{"name": "p", "split": "test"}] and "merged_from" not in data
    assert RunRecord(tmp_path / "none").read_header() == RunHeader()


def test_an_old_header_with_missing_and_unknown_keys_still_reads(tmp_path):
    rec = RunRecord(tmp_path)
    rec.dir.mkdir(exist_ok=True)
    old = {
        "suite": {"suite": "smoke", "retired_key": 1},
        "samples": "4",
        "wall_s": None,
        "problems": [{"name": "p"}, "not a problem"],
        "selection": None,
        "from_the_future": {"x": 1},
    }
    rec.header_path.write_text(json.dumps(old))
    header = rec.read_header()
    assert header.suite == SuiteSource("smoke") and header.samples == 4
    assert header.wall_s is None and header.invocations == 0 and header.finished is None
    assert header.problems == [CoveredProblem("p")] and header.selection == Selection()
    assert header.extra == {"from_the_future": {"x": 1}}
    rec.write_header(header)  # what this version does not know is written back as it was
    assert json.loads(rec.header_path.read_text())["from_the_future"] == {"x": 1}
    rec.header_path.write_text("[1, 2]")
    with pytest.raises(RecordError, match="not a header"):
        rec.read_header()


def _select(run, limit=None, shard=None, suite=None):
    from dataclasses import replace

    from harness.record import Selection

    rec = RunRecord(run)
    header = rec.read_header()
    header = replace(header, selection=Selection(limit=limit, shard=shard))
    if suite is not None:
        header = replace(header, suite=suite)
    rec.write_header(header)
    return run


@pytest.mark.parametrize(
    ("first", "second", "named"),
    [
        ({"limit": 8, "shard": "0/2"}, {"shard": "1/2"}, "different --limit"),
        ({"limit": 8}, {}, "first 8 problems"),
        ({"shard": "0/2"}, {"shard": "1/4"}, "different --shard count"),
        ({"shard": "0/2"}, {}, "one is not a shard"),
    ],
)
def test_merge_refuses_shards_whose_selection_differs_naming_it(tmp_path, first, second, named):
    a = _select(_shard(tmp_path, "s0", ["p1"], []), **first)
    b = _select(_shard(tmp_path, "s1", ["p2"], []), **second)
    with pytest.raises(RecordError, match=named):
        merge_runs([a, b], tmp_path / "all")
    assert not (tmp_path / "all").exists()


def test_merge_refuses_the_same_shard_twice(tmp_path):
    a = _select(_shard(tmp_path, "s0", ["p1"], []), shard="0/2")
    b = _select(_shard(tmp_path, "s1", ["p1"], []), shard="0/2")
    with pytest.raises(RecordError, match="shard 0/2 is given twice"):
        merge_runs([a, b], tmp_path / "all")


def test_merge_refuses_shards_of_different_suites_naming_them(tmp_path):
    a = _shard(tmp_path, "s0", ["p1"], [])
    b = _select(_shard(tmp_path, "s1", ["p2"], []), suite=SuiteSource("minif2f", sha256="def"))
    with pytest.raises(RecordError, match="minif2f"):
        merge_runs([a, b], tmp_path / "all")
