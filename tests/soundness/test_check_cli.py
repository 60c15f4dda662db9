"""`harness check` and `harness recheck` against the REPL double."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.config import config_to_dict
from harness.types import Attempt
from tests.checker.helpers import double_config, read_log

CLI_CORPUS = Path(__file__).resolve().parent / "corpus" / "cli"

pytestmark = pytest.mark.timeout(60)

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
FILE = (
    HEADER
    + "lemma helper (n : ℕ) : n + 0 = n := by simp\n\n"
    + "theorem good (n : ℕ) : n + 0 = n := by\n  exact helper n\n\n"
    + "theorem cheat : (2 : ℕ) + 2 = 5 := by\n  exact absurd rfl (by native_decide)\n"
)


def config_file(tmp_path, script=None, **extra):
    config, log = double_config(tmp_path, script)
    data = config_to_dict(config)
    data.update(extra)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path, log


def double_lean(tmp_path, script=None) -> tuple[str, Path]:
    """`--set lean=...` pointing Lean at the REPL double (recheck takes lean.* from the current
    config only), and the double's request log."""
    config, log = double_config(tmp_path, script)
    return "lean=" + json.dumps(config_to_dict(config)["lean"]), log


def test_check_file_reports_each_theorem_and_the_rule(tmp_path, capsys):
    cfg, _ = config_file(tmp_path)
    lean = tmp_path / "proofs.lean"
    lean.write_text(FILE, encoding="utf-8")
    code = main(["check", str(lean), "--config", str(cfg)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == "good proved"
    assert out[1] == "cheat rejected  native_decide at 14:23 native_decide"  # as in the file
    assert len(out) == 2


def test_check_file_reports_lean_s_first_error_at_its_line_in_the_file(tmp_path, capsys):
    script = {"rules": [{"match": "wrong_lemma", "error": "Unknown identifier `wrong_lemma`"}]}
    cfg, _ = config_file(tmp_path, script)
    lean = tmp_path / "proofs.lean"
    text = FILE.replace("exact helper n", "exact wrong_lemma n")
    text = text.replace("by native_decide", "by decide")
    lean.write_text(text, encoding="utf-8")
    code = main(["check", str(lean), "--config", str(cfg)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1  # not every theorem is proved
    line = text.splitlines().index("  exact wrong_lemma n") + 1
    error = f"lean_error  {line}:8: Unknown identifier `wrong_lemma`"
    # a later theorem is checked with the file's text before it, errors included
    assert out == [f"good {error}", f"cheat {error}"]


def test_check_json_reports_a_rejection_with_rule_and_place(tmp_path, capsys):
    cfg, _ = config_file(tmp_path)
    lean = tmp_path / "proofs.lean"
    lean.write_text(FILE, encoding="utf-8")
    code = main(["check", str(lean), "--config", str(cfg), "--json"])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]  # nothing but JSON lines
    assert code == 1
    cheat = rows[1]
    assert [cheat[k] for k in ("name", "verdict", "rule")] == ["cheat", "rejected", "native_decide"]
    assert cheat["where"].startswith("14:23")
    assert isinstance(cheat["messages"], list) and isinstance(cheat["time_s"], float)


def test_check_json_is_json_lines_only(tmp_path, capsys):
    cfg, _ = config_file(tmp_path)
    lean = tmp_path / "proofs.lean"
    lean.write_text(FILE.replace("by native_decide", "by decide"), encoding="utf-8")
    code = main(["check", str(lean), "--config", str(cfg), "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [(r["name"], r["verdict"]) for r in rows] == [("good", "proved"), ("cheat", "proved")]
    assert set(rows[0]) >= {"name", "verdict", "rule", "messages", "time_s"}


def test_check_suite_jsonl_uses_the_suites_statement(tmp_path, capsys):
    cfg, log = config_file(tmp_path)
    proofs = tmp_path / "proofs.jsonl"
    rows = [
        # a whole theorem with a changed statement: the suite's is checked
        {
            "name": "smoke_add_zero",
            "proof": "theorem smoke_add_zero (n : Nat) : True := by\n  simp",
        },
        {"name": "smoke_zero_add", "proof": "by\n  omega"},  # only the proof
        {
            "name": "smoke_two_plus_two",
            "proof": "```lean4\ntheorem smoke_two_plus_two : 2 + 2 = 4 := by\n  sorry\n```",
        },
    ]
    proofs.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    code = main(["check", "--suite", "smoke", str(proofs), "--config", str(cfg)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[:2] == ["smoke_add_zero proved", "smoke_zero_add proved"]
    assert out[2].startswith("smoke_two_plus_two sorry  sorry at ")
    sent = [
        e["request"]["cmd"]
        for e in read_log(log)
        if e["event"] == "request" and "cmd" in e["request"]
    ]
    assert any("theorem smoke_add_zero (n : Nat) : n + 0 = n := by\n  simp" in c for c in sent)
    assert not any(": True := by" in c for c in sent)


def test_check_bad_input_is_one_line(tmp_path, capsys):
    cfg, _ = config_file(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "smoke_add_zero", "proof": "by simp"}\nnot json\n', encoding="utf-8")
    assert main(["check", "--suite", "smoke", str(bad), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:2" in err and "Traceback" not in err
    assert main(["check", str(tmp_path / "missing.lean"), "--config", str(cfg)]) == 2
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"name": "nope", "proof": "by simp"}\n', encoding="utf-8")
    assert main(["check", "--suite", "smoke", str(unknown), "--config", str(cfg)]) == 2
    assert "no problem named 'nope'" in capsys.readouterr().err


def test_recheck_finds_proofs_that_no_longer_pass(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cfg, log = config_file(tmp_path, suite="smoke")
    (run_dir / "config.yaml").write_text(cfg.read_text(encoding="utf-8"), encoding="utf-8")
    attempts = [
        Attempt(
            "smoke_add_zero",
            0,
            0,
            "proved",
            answer="```lean4\ntheorem smoke_add_zero (n : Nat) : n + 0 = n := by\n  simp\n```",
        ),
        # recorded as proved by an older, weaker harness: the audit now finds an axiom
        Attempt(
            "smoke_zero_add",
            0,
            0,
            "proved",
            answer="```lean4\naxiom cheat : False\ntheorem smoke_zero_add (n : Nat) : 0 + n = n := cheat.elim\n```",
        ),
        Attempt("smoke_two_plus_two", 0, 0, "lean_error", answer="by\n  sorry"),
    ]
    (run_dir / "attempts.jsonl").write_text(
        "".join(json.dumps(a.to_json()) + "\n" for a in attempts), encoding="utf-8"
    )
    lean, log = double_lean(tmp_path)
    code = main(["recheck", str(run_dir), "--set", lean])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith("smoke_zero_add sample 0 round 0: now rejected  axiom at ")
    assert out[-1] == "rechecked 2 proved attempts: 1 still pass, 1 no longer pass"
    assert [e for e in read_log(log) if e["event"] == "start"]  # a fresh process was started


def test_recheck_all_pass_exits_zero(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cfg, _ = config_file(tmp_path, suite="smoke")
    (run_dir / "config.yaml").write_text(cfg.read_text(encoding="utf-8"), encoding="utf-8")
    a = Attempt("smoke_add_zero", 0, 0, "proved", answer="by\n  simp")
    (run_dir / "attempts.jsonl").write_text(json.dumps(a.to_json()) + "\n", encoding="utf-8")
    lean, _ = double_lean(tmp_path)
    assert main(["recheck", str(run_dir), "--set", lean]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("1 still pass, 0 no longer pass")
    assert "harness recheck: 1/1 re-checked" in err  # progress, on stderr
    assert main(["recheck", str(tmp_path / "nowhere")]) == 2


# ---------------------------------------------------------------------------------------------
# issue 12: what a file adds above its first theorem, and a run directory's config


def cli_cases(ext: str) -> list[tuple[Path, str, str, str]]:
    """(path, outcome, rule, layer) of the command-line exploit corpus (corpus/cli)."""
    out = []
    for path in sorted(CLI_CORPUS.glob(f"*.{ext}")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        fields = [f.strip() for f in first.lstrip("-# ").removeprefix("expect: ").split("|")]
        outcome, _, rule = fields[0].partition(" ")
        layer = next(f.removeprefix("layer: ") for f in fields if f.startswith("layer: "))
        out.append((path, outcome, rule, layer))
    return out


@pytest.mark.parametrize("case", cli_cases("lean"), ids=lambda c: c[0].stem)
def test_check_file_screens_the_header_it_adds(case, tmp_path, capsys):
    path, outcome, rule, layer = case
    assert layer.startswith("harness check")
    cfg, log = config_file(tmp_path)
    lean = tmp_path / path.name
    lean.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    code = main(["check", str(lean), "--config", str(cfg)])
    captured = capsys.readouterr()
    assert not [e for e in read_log(log) if e["event"] == "start"]  # Lean never started
    if outcome == "rejected":
        assert code == 1
        lines = captured.out.splitlines()
        assert lines and all(f" rejected  {rule} at " in line for line in lines), lines
        line = int(lines[0].split(f"{rule} at ")[1].split(":")[0])
        assert lean.read_text(encoding="utf-8").splitlines()[line - 1].startswith("set_option")
    else:
        assert (outcome, code) == ("error", 2)
        assert rule in captured.err and len(captured.err.strip().splitlines()) == 1
        assert main(["check", str(lean), "--config", str(cfg), rule]) != 2  # trusted: checked
        assert [e for e in read_log(log) if e["event"] == "start"]


def test_check_file_with_a_known_header_and_its_options(tmp_path, capsys):
    cfg, _ = config_file(tmp_path)
    deepseek = HEADER.replace("maxHeartbeats 400000", "maxHeartbeats 0")
    for header in (HEADER, deepseek, "import Mathlib\n\nset_option autoImplicit false\n\n", ""):
        lean = tmp_path / "proofs.lean"
        lean.write_text(header + "theorem good (n : ℕ) : n + 0 = n := by\n  simp\n", "utf-8")
        assert main(["check", str(lean), "--config", str(cfg)]) == 0, header
        assert capsys.readouterr().out == "good proved\n"


def _run_dir_with_hostile_config(tmp_path, answer: str) -> tuple[Path, Path]:
    """A run directory whose config.yaml is corpus/cli's hostile one, its programs a script
    that would leave a marker file if it were ever started; one attempt recorded `proved`."""
    marker = tmp_path / "marker"
    script = tmp_path / "evil.py"
    script.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('started')\n")
    ((path, outcome, _, layer),) = cli_cases("yaml")
    assert (outcome, layer) == ("ignored", "harness recheck (config)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("repl_command", "lean_command"):
        data["lean"][key] = [sys.executable, str(script)]
    data["suite"] = "smoke"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    attempt = Attempt("smoke_two_plus_two", 0, 0, "proved", answer=answer)
    (run_dir / "attempts.jsonl").write_text(json.dumps(attempt.to_json()) + "\n", "utf-8")
    return run_dir, marker


def test_recheck_never_starts_the_program_a_run_directory_names(tmp_path, capsys):
    run_dir, marker = _run_dir_with_hostile_config(tmp_path, "by\n  decide")
    empty = tmp_path / "no_project"
    empty.mkdir()
    sets = [f"lean.project_dir={empty}", "lean.timeout_s=5", "lean.header_timeout_s=5"]
    main(["recheck", str(run_dir), *[a for s in sets for a in ("--set", s)]])
    err = capsys.readouterr().err
    assert not marker.exists()  # the run directory's lean.repl_command was never started
    assert "lean.*, soundness.*, prover.* come from the current config" in err


def test_recheck_takes_soundness_and_lean_from_the_current_config(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIMLAPI_KEY", "sk-test-secret-1234")
    run_dir, marker = _run_dir_with_hostile_config(tmp_path, "by\n  native_decide")
    lean, log = double_lean(tmp_path)
    code = main(["recheck", str(run_dir), "--set", lean])
    captured = capsys.readouterr()
    assert not marker.exists()
    # the run's `soundness.allow_native_decide: true` is not the current policy
    assert code == 1
    assert captured.out.startswith(
        "smoke_two_plus_two sample 0 round 0: now rejected  native_decide"
    )
    assert len([line for line in captured.err.splitlines() if "current config" in line]) == 1
    code = main(
        ["recheck", str(run_dir), "--set", lean, "--set", "soundness.allow_native_decide=true"]
    )
    assert code == 0  # the current config may allow it
    starts = [e for e in read_log(log) if e["event"] == "start"]
    assert starts and all("AIMLAPI_KEY" not in s["environ"] for s in starts)


def test_check_without_lean_stops_with_the_runs_one_line_preflight(tmp_path, capsys):
    lean_file = tmp_path / "proof.lean"
    lean_file.write_text("theorem a : True := trivial\ntheorem b : True := trivial\n")
    code = main(
        ["check", str(lean_file), "--set", f"lean.project_dir={tmp_path}", "--set",
         "lean.repl_command=no-such-repl-binary", "--set", "lean.sandbox=none"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no-such-repl-binary" in err and "Errno" not in err
