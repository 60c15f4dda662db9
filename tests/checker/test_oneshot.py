"""The one-shot backend against a fake `lake env lean --json`."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import pytest

from harness.checker import open_checker, protocol
from harness.checker.oneshot import layout_file, split_messages
from harness.config import load_config
from harness.types import LeanJob, LeanMessage
from tests.checker.helpers import FAKE_LEAN, zombie_children

pytestmark = pytest.mark.timeout(60)

HEADER = "import Mathlib\n\nset_option maxHeartbeats 400000\n\nopen Real\n"


def make(tmp_path, errors=None, **lean):
    log = tmp_path / "lean.jsonl"
    script = tmp_path / "lean-script.json"
    script.write_text(json.dumps({"errors": errors or {}}))
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    settings = {
        "backend": "oneshot",
        "project_dir": str(project),
        "lean_command": [
            sys.executable,
            str(FAKE_LEAN),
            "--log",
            str(log),
            "--script",
            str(script),
        ],
        "timeout_s": 10,
        "memory_mb": 4096,
        "sandbox": "none",  # the fake lean logs outside; test_sandbox.py runs it sandboxed
    }
    settings.update(lean)
    return load_config(None, {"lean": settings}), log


def runs(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run_jobs(config, jobs):
    async def go():
        async with open_checker(config) as checker:
            return [await checker.run(job) for job in jobs], dict(checker.stats)

    return asyncio.run(go())


def test_layout_maps_lines_back_to_commands():
    layout = layout_file(
        "import Mathlib\nopen Real",
        ("theorem a : 1 = 1 := by\n  rfl", "theorem b : 2 = 2 := by\n\n  linarith"),
    )
    assert layout.starts == [3, 5] and layout.prefix_lines == 2
    lines = layout.text.split("\n")
    assert lines[2] == "theorem a : 1 = 1 := by" and lines[6] == "  linarith"
    header, per = split_messages(
        layout,
        [
            LeanMessage("error", 2, 5, "bad open"),
            LeanMessage("error", 7, 2, "linarith failed", 7, 10),
            LeanMessage("warning", 3, 8, "unused"),
        ],
    )
    assert [m.line for m in header] == [2]
    assert [(m.line, m.end_line) for m in per[1]] == [(3, 3)] and per[0][0].line == 1


def test_commands_and_audits_via_a_compiled_submission(tmp_path):
    config, log = make(tmp_path, errors={"nlinarith": "linarith failed"})
    job = LeanJob(
        HEADER,
        ("theorem __ref : 1 = 1 := sorry", "theorem t : 1 = 1 := by\n  norm_num"),
        ("#print axioms t",),
    )
    (result,), _ = run_jobs(config, [job])
    assert result.outcome == "ok"
    assert [protocol.classify(c) for c in result.commands] == ["sorry", "accepted"]
    assert result.audits[0].messages[0].text == "'t' depends on axioms: [propext]"
    assert result.audits[0].messages[0].line == 1
    submission, audit = runs(log)
    assert "-o" in submission["argv"] and submission["file"] == "HarnessSubmission.lean"
    # the trusted second file: header imports, the compiled submission, the header's opens
    assert audit["text"].startswith("import Mathlib\nimport HarnessSubmission\n")
    assert "open Real" in audit["text"] and "theorem" not in audit["text"]
    assert audit["LEAN_PATH"].split(":")[0].endswith(submission["argv"][-1].rsplit("/", 2)[-2])


def test_errors_at_command_relative_lines_and_audits_not_run(tmp_path):
    config, log = make(tmp_path, errors={"nlinarith": "linarith failed"})
    job = LeanJob(HEADER, ("theorem t : a < b := by\n  nlinarith",), ("#print axioms t",))
    (result,), _ = run_jobs(config, [job])
    assert result.outcome == "ok"
    (cmd,) = result.commands
    assert protocol.classify(cmd) == "lean_error" and (
        cmd.errors[0].line,
        cmd.errors[0].column,
    ) == (2, 2)
    assert result.audits[0].repl_error.startswith("not run")
    assert len(runs(log)) == 1


def test_timeout_and_crash(tmp_path):
    config, log = make(tmp_path, timeout_s=1)
    t0 = time.monotonic()
    (hung, crashed, fine), stats = run_jobs(
        config,
        [
            LeanJob("", ("HANG",)),
            LeanJob("", ("CRASH",)),
            LeanJob("", ("theorem t : True := trivial",)),
        ],
    )
    assert hung.outcome == "timeout" and time.monotonic() - t0 < 1 + 2 + 5
    assert crashed.outcome == "checker_error" and "exit code 134" in crashed.error
    assert "Stack overflow" in crashed.error
    assert fine.outcome == "ok" and protocol.classify(fine.commands[0]) == "accepted"
    assert stats["crashes"] == 2  # the crash was retried once
    assert zombie_children() == []
