"""The run directory: append, torn-line repair, supersede, config refusal, merge."""

from __future__ import annotations

import json

import pytest

from harness.config import load_config
from harness.errors import RecordError
from harness.record import RunRecord, merge_runs, summarize_record
from harness.types import Attempt


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
    effective = list(rec.iter_effective())
    assert [(a.key, a.verdict) for a in effective] == [
        (("p", 1, 0), "checker_error"),
        (("p", 0, 0), "proved"),
    ]


def test_unreadable_complete_lines_are_skipped_and_counted(tmp_path):
    rec = RunRecord(tmp_path)
    rec.dir.mkdir(exist_ok=True)
    rec.attempts_path.write_text(
        'not json\n{"problem": "p"}\n' + json.dumps(_a("p", 0, 0, "sorry").to_json()) + "\n"
    )
    idx = rec.index()
    assert idx.unreadable == 2 and len(idx.last) == 1


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
    rec.write_header({"note": key})
    for path in tmp_path.iterdir():
        assert key not in path.read_text()


def _shard(tmp_path, name, problems, attempts, samples=2):
    rec = RunRecord(tmp_path / name)
    rec.write_config(load_config(None, [f"search.samples={samples}"]))
    rec.write_header(
        {
            "suite": {"suite": "smoke", "sha256": "abc"},
            "samples": samples,
            "problems": [{"name": p, "split": "test"} for p in problems],
            "finished": "2026-01-01T00:00:00+00:00",
            "wall_s": 5.0,
        }
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
    assert out.read_header()["merged_from"] == [str(a), str(b)]


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
    rec.write_header({"samples": 2, "problems": [{"name": "p", "split": "test"}]})
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
