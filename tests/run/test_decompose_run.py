"""`harness run --set search.strategy=decompose` end to end: the loopback chat server plays the
decomposer and the prover (told apart by their prompts), the REPL double plays Lean."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from tests.doubles.chat_server import ChatServer, Reply
from tests.run.helpers import KEY, KEY_ENV, MARKER, edit_repl_script, read_lines, write_setup

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("api_key")]

STATEMENT = "theorem smoke_add_zero (n : Nat) : n + 0 = n :="
THREE_HAVES = f"""{STATEMENT} by
  have h1 : n + 0 = n + 0 := by
    sorry
  have h2 : n + 0 = n := by sorry
  have h3 : n = n := by
    sorry
  exact h2
"""


def sketch_answer(sketch: str) -> str:
    return f"Informally: adding zero changes nothing.\n\n```lean4\n{sketch}```\n"


def lemma_of(request: dict[str, Any]) -> tuple[str, int]:
    """The lemma a prover request asks for: its name and its hole number (1-based)."""
    text = request["messages"][0]["content"]
    found = re.search(r"theorem (\w+_subgoal_(\d+))", text)
    assert found, text[:300]
    return found.group(1), int(found.group(2))


def lemma_answer(request: dict[str, Any], proof: str) -> str:
    """The prover's answer: the lemma restated as it was shown, and `proof`."""
    text = request["messages"][0]["content"]
    statement = re.search(r"(theorem \w+_subgoal_\d+.*?:=)", text, re.S).group(1)
    return f"```lean4\n{statement} {proof}\n```"


class Scripted:
    """The decomposer's sketch per sketch round, and the prover's proof per (hole, round)."""

    def __init__(
        self,
        sketches: list[str],
        proofs: Callable[[int, int], str] = lambda hole, rnd: "by\n  simp",
        delay: float = 0.0,
    ) -> None:
        self.sketches = sketches
        self.proofs = proofs
        self.delay = delay

    def __call__(self, request: dict[str, Any]) -> Reply:
        rnd = sum(1 for m in request["messages"] if m["role"] == "assistant")
        if "Decompose the proof" in request["messages"][0]["content"]:
            return Reply(sketch_answer(self.sketches[min(rnd, len(self.sketches) - 1)]))
        _, hole = lemma_of(request)
        return Reply(lemma_answer(request, self.proofs(hole, rnd)), delay=self.delay)


def setup(tmp: Path, url: str, rules: list[dict] | None = None, **search: Any) -> Path:
    config, _ = write_setup(
        tmp,
        url,
        strategy="decompose",
        samples=1,
        sketch_repair_rounds=1,
        subgoal_samples=1,
        subgoal_repair_rounds=1,
        **search,
    )
    edit_repl_script(config, first_rules=rules)
    return config


def run(config: Path, out: Path, *extra: str) -> int:
    return main(["run", str(config), "--out", str(out), "--limit", "1", "--no-progress", *extra])


def by_stage(lines: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in lines:
        out.setdefault(line["stage"], []).append(line)
    return out


def test_a_sketch_with_three_haves_is_composed_and_proved(tmp_path, capsys):
    with ChatServer(Scripted([THREE_HAVES])) as server:
        config = setup(tmp_path, server.url)
        assert run(config, tmp_path / "run") == 0
        prompts = [r["messages"][0]["content"] for r in server.requests]
    assert "1/1 proved, 5 rounds (decompose: 1 decomposer and 3 prover calls)" in (
        capsys.readouterr().out
    )
    lines = by_stage(read_lines(tmp_path / "run"))
    (sketch,) = lines["sketch"]
    assert (sketch["verdict"], sketch["rule"], len(sketch["holes"])) == ("sorry", "sketch", 3)
    # the holes are Lean's goals: each have's statement, with the earlier haves as hypotheses
    assert [h["goal"].rsplit("⊢ ", 1)[1] for h in sketch["holes"]] == [
        "n + 0 = n + 0",
        "n + 0 = n",
        "n = n",
    ]
    assert "h1 : n + 0 = n + 0" in sketch["holes"][1]["goal"]
    assert sorted((x["subgoal"], x["verdict"]) for x in lines["subgoal"]) == [
        (0, "proved"),
        (1, "proved"),
        (2, "proved"),
    ]
    (composed,) = lines["compose"]
    assert composed["verdict"] == "proved"
    assert composed["proof"].count(STATEMENT) == 1 and "sorry" not in composed["proof"]
    assert composed["proof"].count("simp") == 3
    # ids link every line to its parent: problem -> sample -> sketch round -> hole -> attempt
    assert sketch["id"] == "smoke_add_zero/s0/k0" and sketch["parent"] == "smoke_add_zero/s0"
    assert {x["parent"] for x in lines["subgoal"]} == {
        f"smoke_add_zero/s0/k0/g{i}" for i in range(3)
    }
    assert composed["parent"] == "smoke_add_zero/s0/k0"
    # the prover saw each hole as a lemma (DeepSeek's form (b)): the earlier haves as hypotheses
    lemma_prompts = [p for p in prompts if "_subgoal_" in p]
    assert len(lemma_prompts) == 3
    second = next(p for p in lemma_prompts if "smoke_add_zero_subgoal_2" in p)
    assert "(h1 : n + 0 = n + 0)" in second and "n + 0 = n :=" in second
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["proved"] == 1


def test_a_broken_sketch_is_repaired_with_lean_errors(tmp_path):
    broken = THREE_HAVES.replace("exact h2", f"exact {MARKER}")
    with ChatServer(Scripted([broken, THREE_HAVES])) as server:
        config = setup(tmp_path, server.url)
        assert run(config, tmp_path / "run") == 0
        second_sketch_request = [
            r for r in server.requests if "Decompose the proof" in r["messages"][0]["content"]
        ][1]
    lines = by_stage(read_lines(tmp_path / "run"))
    assert [(x["round"], x["verdict"]) for x in lines["sketch"]] == [
        (0, "lean_error"),
        (1, "sorry"),
    ]
    assert MARKER in second_sketch_request["messages"][-1]["content"]  # Lean's error went back
    assert [x["verdict"] for x in lines["compose"]] == ["proved"]
    assert all(x["sketch"] == 1 for x in lines["subgoal"] + lines["compose"])


def test_a_hole_failing_all_its_samples_stops_its_sketch(tmp_path):
    def proofs(hole: int, rnd: int) -> str:
        return f"by\n  exact {MARKER}" if hole == 2 else "by\n  simp"

    with ChatServer(Scripted([THREE_HAVES], proofs)) as server:
        config = setup(tmp_path, server.url, rules=None)
        path = yaml.safe_load(config.read_text())
        path["search"]["subgoal_samples"] = 2
        config.write_text(yaml.safe_dump(path))
        assert run(config, tmp_path / "run") == 0
        asked = len(server.requests)
        assert run(config, tmp_path / "run") == 0  # the failed sketch is finished: nothing more
        assert len(server.requests) == asked
    lines = by_stage(read_lines(tmp_path / "run"))
    failing = [x for x in lines["subgoal"] if x["subgoal"] == 1]
    # two samples of two rounds each, every one refused by Lean; then nothing more is asked
    assert sorted((x["subsample"], x["round"]) for x in failing) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert {x["verdict"] for x in failing} == {"lean_error"}
    assert "compose" not in lines
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["proved"] == 0


def test_a_composed_proof_lean_rejects_is_not_proved(tmp_path):
    # Each hole passes on its own (the others are still `sorry`); Lean refuses the whole.
    proofs = {1: "by\n  simp only [first_step]", 2: "by\n  simp only [second_step]"}
    rule = {
        "match_re": r"first_step[\s\S]*second_step",
        "error": "unsolved goals",
        "at": "second_step",
    }
    with ChatServer(Scripted([THREE_HAVES], lambda h, r: proofs.get(h, "by\n  simp"))) as server:
        config = setup(tmp_path, server.url, rules=[rule])
        assert run(config, tmp_path / "run") == 0
    lines = by_stage(read_lines(tmp_path / "run"))
    assert {x["verdict"] for x in lines["subgoal"]} == {"proved"}
    assert [x["verdict"] for x in lines["compose"]] == ["lean_error"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["proved"] == 0


def test_rerunning_a_finished_decomposition_asks_and_checks_nothing(tmp_path):
    with ChatServer(Scripted([THREE_HAVES])) as server:
        config = setup(tmp_path, server.url)
        assert run(config, tmp_path / "run") == 0
        before = len(server.requests)
        lines = read_lines(tmp_path / "run")
        assert run(config, tmp_path / "run") == 0
        assert len(server.requests) == before
    assert read_lines(tmp_path / "run") == lines


def test_sigkill_during_subgoal_proving_then_resume_gives_the_clean_record(tmp_path):
    def slow(hole: int, rnd: int) -> str:
        return "by\n  simp" if rnd else f"by\n  exact {MARKER}"  # every hole needs its repair

    def shape(lines: list[dict]) -> list[tuple]:
        keys = [
            (x["stage"], x["sketch"], x["subgoal"], x["subsample"], x["round"], x["verdict"])
            for x in lines
        ]
        return sorted(keys, key=repr)

    with ChatServer(Scripted([THREE_HAVES], slow, delay=0.3)) as server:
        config = setup(tmp_path, server.url)
        clean, killed = tmp_path / "clean", tmp_path / "killed"
        assert run(config, clean) == 0
        clean_requests = len(server.requests)

        cmd = [sys.executable, "-m", "harness", "run", str(config), "--out", str(killed)]
        cmd += ["--limit", "1", "--no-progress"]
        env = dict(os.environ, **{KEY_ENV: KEY})
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        attempts = killed / "attempts.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the sketch and some holes' first rounds are in
            if attempts.exists() and attempts.read_text().count('"stage": "subgoal"') >= 2:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = read_lines(killed)
        assert 3 <= len(partial) < 8
        asked_before_kill = len(server.requests) - clean_requests
        assert run(config, killed) == 0
        resumed = len(server.requests) - clean_requests - asked_before_kill

    a, b = read_lines(clean), read_lines(killed)
    assert shape(a) == shape(b)  # the same tree, each line once
    # nothing recorded before the kill was asked again
    assert resumed == len(b) - 1 - len(partial)  # the compose line asks no model


def test_a_sketch_whose_declarations_change_the_statement_is_caught(tmp_path):
    # The sketch sneaks in an instance under which `+` means something else; its holes are
    # fine, but the statement comparison (run where the model's declarations are) refuses it.
    cheat = "instance : HAdd Nat Nat Nat := ⟨fun a _ => a⟩\n\n" + THREE_HAVES
    rules = [
        {
            "match": "set_option pp.all",
            "in_env": "instance : HAdd Nat Nat Nat",
            "info": "@__harness_cref : ∀ (n : Nat), @Eq Nat (cheat n 0) n",
        },
        {
            "match": "set_option pp.all",
            "info": "@__harness_cref : ∀ (n : Nat), @Eq Nat (@HAdd.hAdd Nat Nat Nat n 0) n",
        },
    ]
    with ChatServer(Scripted([cheat])) as server:
        config = setup(tmp_path, server.url, rules=rules)
        assert run(config, tmp_path / "run") == 0
    lines = by_stage(read_lines(tmp_path / "run"))
    (composed,) = lines["compose"]
    assert (composed["verdict"], composed["rule"]) == ("rejected", "statement_changed")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["proved"] == 0


class SmokeSketches:
    """The decomposer sketches every smoke problem with two holes; the prover proves every
    hole but the second hole of the last problem (Lean refuses its proof every time)."""

    def __init__(self, problems: list) -> None:
        self.problems = problems

    def __call__(self, request: dict[str, Any]) -> Reply:
        text = request["messages"][0]["content"]
        if "Decompose the proof" in text:
            p = next(p for p in self.problems if f"theorem {p.decl_name} " in text)
            goal = p.statement.rsplit(" : ", 1)[1].removesuffix(":=").strip()
            sketch = (
                f"{p.statement} by\n  have h1 : True := by sorry\n"
                f"  have h2 : {goal} := by\n    sorry\n  exact h2\n"
            )
            return Reply(sketch_answer(sketch))
        name, hole = lemma_of(request)
        last = self.problems[-1].decl_name
        proof = f"by\n  exact {MARKER}" if name == f"{last}_subgoal_2" else "by\n  trivial"
        return Reply(lemma_answer(request, proof))


def test_smoke_suite_decomposed_and_compared_with_whole_proofs_at_equal_budget(
    tmp_path, problems, capsys
):
    from tests.run.helpers import ScriptedProver

    whole, decomposed = tmp_path / "whole", tmp_path / "decompose"
    limit = ["--limit", str(len(problems))]
    with ChatServer(ScriptedProver(problems)) as server:
        (tmp_path / "w").mkdir()
        config, _ = write_setup(tmp_path / "w", server.url)
        assert main(["run", str(config), "--out", str(whole), "--no-progress", *limit]) == 0
    with ChatServer(SmokeSketches(problems)) as server:
        (tmp_path / "d").mkdir()
        config, _ = write_setup(tmp_path / "d", server.url, samples=2)
        args = ["run", str(config), "--out", str(decomposed), "--no-progress", *limit]
        args += ["--set", "search.strategy=decompose", "--set", "search.subgoal_samples=1"]
        assert main(args) == 0

    lines = by_stage(read_lines(decomposed))
    proved = {x["problem"] for x in lines["compose"] if x["verdict"] == "proved"}
    assert proved == {p.name for p in problems[:-1]}  # the last one's hole is never proved
    assert {x["problem"] for x in lines["sketch"]} == {p.name for p in problems}
    summary = json.loads((decomposed / "summary.json").read_text())
    assert (summary["strategy"], summary["proved"]) == ("decompose", len(problems) - 1)
    assert summary["decomposer_calls"] == len(lines["sketch"]) == 2 * len(problems)
    assert summary["prover_calls"] == len(lines["subgoal"])

    capsys.readouterr()
    assert main(["report", str(whole), str(decomposed)]) == 0
    table = capsys.readouterr().out
    assert "decompose" in table and "whole" in table
    assert "Solved within a budget" in table or "budget" in table.lower()
    page = tmp_path / "compare.html"
    assert main(["report", str(whole), str(decomposed), "--out", str(page)]) == 0
    html = page.read_text()
    assert html.count("<svg") >= 2 and str(decomposed.name) in html


def test_a_goal_with_inaccessible_names_reaches_the_prover_as_a_lemma_and_comes_back(tmp_path):
    # Lean prints `intro`'s anonymous hypothesis as `n✝`, a coercion as `↑`, an instance as
    # `inst✝`: the lemma names them, and the proof in place names them back with rename_i.
    goal = "n : Nat\ninst✝ : Inhabited Nat\nn✝ : Nat\n⊢ ↑n✝ + n = n + n✝"
    sketch = (
        f"{STATEMENT} by\n  have h : ∀ m : Nat, m + n = n + m := by\n    intro\n    sorry\n  simp\n"
    )
    seen: list[str] = []

    def proof(hole: int, rnd: int) -> str:
        return "by\n  exact Nat.add_comm n_1 n"

    with ChatServer(Scripted([sketch], proof)) as server:
        config = setup(tmp_path, server.url)
        edit_repl_script(config, sorry_goals=[{"after": "intro", "goal": goal}])
        assert run(config, tmp_path / "run") == 0
        seen = [r["messages"][0]["content"] for r in server.requests]
    lemma = next(p for p in seen if "_subgoal_1" in p)
    assert "[inst_1 : Inhabited Nat]" in lemma and "(n_1 : Nat)" in lemma
    assert "↑n_1 + n = n + n_1 :=" in lemma and "✝" not in lemma
    lines = by_stage(read_lines(tmp_path / "run"))
    (hole,) = lines["subgoal"]
    assert hole["verdict"] == "proved"
    assert "(rename_i inst_1 n_1\n" in hole["proof"]
    (composed,) = lines["compose"]
    assert composed["verdict"] == "proved" and "rename_i inst_1 n_1" in composed["proof"]


def test_recheck_of_a_decomposition_rechecks_the_composed_proofs_only(tmp_path, capsys):
    with ChatServer(Scripted([THREE_HAVES])) as server:
        config = setup(tmp_path, server.url)
        assert run(config, tmp_path / "run") == 0
    capsys.readouterr()
    assert main(["recheck", str(tmp_path / "run"), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    # the three proved holes are not proofs of the problem: only the composed proof is rechecked
    assert "rechecked 1 proved attempts: 1 still pass, 0 no longer pass" in out
