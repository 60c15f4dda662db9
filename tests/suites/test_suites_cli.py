"""`harness suites`: listing, show, fetch, and one-line errors (exit 2) on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.suites import CATALOGUE
from tests.conftest import ROOT, shared_path


def run_cli(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_listing_has_one_line_per_suite_starting_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["suites", "--set", f"suites.cache_dir={tmp_path}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = ["smoke"] + [e.name for e in CATALOGUE]
    assert [line.split()[0] for line in lines] == names
    assert "built-in" in lines[0]
    for line, entry in zip(lines[1:], CATALOGUE, strict=True):
        assert "not cached" in line
        version = entry.lean_toolchain.removeprefix("leanprover/lean4:")
        assert f"lean {version} " in line and "mathlib " in line
        assert entry.counts_text() in line and entry.commit[:7] in line


def test_fetch_from_then_list_shows_cached(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = shared_path("benchmarks", "proofnet-deepseek-prover-v1.5")
    cache = f"suites.cache_dir={tmp_path}"
    assert main(["suites", "fetch", "proofnet", "--from", str(folder), "--set", cache]) == 0
    assert "valid=185 test=186 verified" in capsys.readouterr().out
    assert main(["suites", "--set", cache]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("proofnet "))
    assert " cached " in line
    assert main(["suites", "show", "proofnet", "--set", cache]) == 0
    assert capsys.readouterr().out.startswith("proofnet: 371 problems (valid=185 test=186)")


def test_show_a_suite_file_by_path(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = tmp_path / "mine.jsonl"
    f.write_text(
        json.dumps({"name": "a", "split": "test", "formal_statement": "theorem a : True := by"})
        + "\n"
    )
    assert main(["suites", "show", str(f)]) == 0
    assert capsys.readouterr().out.startswith(f"{f}: 1 problems (test=1)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["suites", "show", "{broken}"], "harness: error: {broken}: unknown suite"),
        (["suites", "show", "BROKEN"], "broken.jsonl:2: not valid JSON"),
        (["suites", "show", "NOTHEOREM"], "Empty.lean: no theorem to prove"),
        (["suites", "show", "minif2f-test"], "run `harness suites fetch minif2f-test`"),
        (["suites", "fetch", "no-such-suite"], "no-such-suite: not a catalogued suite"),
        (
            ["suites", "fetch", "proofnet", "--from", "EMPTY"],
            "--from: no file datasets/proofnet.jsonl",
        ),
        (["suites", "show", "NOTHING.jsonl"], "nothing.jsonl: no records (an empty suite file)"),
        (["suites", "show", "NOTHING.json"], "nothing.json: no records (an empty JSON list)"),
        (["suites", "show", "NUMBER"], "number.jsonl:1: field 'formal_statement' is empty or"),
        (["suites", "show", "JUNK"], "junk.jsonl: not UTF-8 text"),
        (["suites", "show", "EMPTY"], "empty: no Lean files matching *.lean"),
        (
            ["suites", "fetch", "minif2f-test", "--from", "EMPTY", "--set", "BADCACHE"],
            "minif2f-test: fetch failed (Not a directory)",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"name": "a", "formal_statement": "theorem a : True := by"}\n{"name": \n')
    empty = tmp_path / "Empty.lean"
    empty.write_text("import Mathlib\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "nothing.jsonl").write_text("\n\n")
    (tmp_path / "nothing.json").write_text(" [ ] ")
    (tmp_path / "number.jsonl").write_text('{"name": "a", "formal_statement": 5}\n')
    (tmp_path / "junk.jsonl").write_bytes(b"\xff\xfe\x00\x81" * 64)
    (tmp_path / "a-file").write_text("")
    swap = {
        "BROKEN": str(broken),
        "NOTHEOREM": str(empty),
        "EMPTY": str(tmp_path / "empty"),
        "NOTHING.jsonl": str(tmp_path / "nothing.jsonl"),
        "NOTHING.json": str(tmp_path / "nothing.json"),
        "NUMBER": str(tmp_path / "number.jsonl"),
        "JUNK": str(tmp_path / "junk.jsonl"),
        "BADCACHE": f"suites.cache_dir={tmp_path / 'a-file' / 'cache'}",
    }
    proc = run_cli([swap.get(a, a) for a in args], tmp_path / "cache")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_from_repo_without_lean_dojo_prints_the_install_hint(tmp_path: Path) -> None:
    from harness.suites.dojo import dojo_available

    if dojo_available():
        pytest.skip("lean-dojo is installed here")
    proc = run_cli(["suites", "from-repo", "https://github.com/x/y", "--commit", "abc"], tmp_path)
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "harness: error: lean-dojo is not installed; install the extra: pip install 'lean-harness[dojo]'"
    )
