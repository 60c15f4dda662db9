"""Adversarial tests of `search.strategy: decompose` (harness/decompose.py): the decomposer and
the prover as hostile optimisers, resume after kills and infrastructure failures, the record.

The chat-server double plays both models (told apart by their prompts); the REPL double plays
Lean. A cheat that "passes" against the double only shows something where the check it beats
does not depend on Lean (screen, extraction, splicing, hole accounting, the composed text's
structure); tests whose point needs real Lean say so."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.checker.pool import ReplPool
from harness.cli import main
from harness.config import load_config
from harness.decompose import Subgoal, compose, fill_one, subgoal_problem
from harness.soundness.splice import fill_hole, proof_lines, splice
from harness.soundness.verify import check_sketch, verify, verify_hole
from harness.suites import load_suite
from harness.types import Candidate, Hole, Problem, VerdictKind
from tests.checker.helpers import double_config
from tests.doubles.chat_server import ChatServer, Reply, Status
from tests.run.helpers import KEY, KEY_ENV, MARKER, edit_repl_script, read_lines, write_setup

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("api_key")]

DECOMPOSE = "Decompose the proof"


# ---------------------------------------------------------------------------------------------
# Helpers: a scripted tree of answers, keyed by the node each request asks for


def node_of(request: dict[str, Any]) -> tuple:
    """("sketch", problem, round) or ("subgoal", problem, hole (0-based), round)."""
    text = request["messages"][0]["content"]
    rnd = sum(1 for m in request["messages"] if m["role"] == "assistant")
    if DECOMPOSE in text:
        name = re.search(r"^theorem (\w+)", text, re.M).group(1)
        return ("sketch", name, rnd)
    found = re.search(r"theorem (\w+)_subgoal_(\d+)", text)
    assert found, text[:300]
    return ("subgoal", found.group(1), int(found.group(2)) - 1, rnd)


def node_of_line(line: dict) -> tuple | None:
    """The node key of a record line that asked a model (None for compose lines)."""
    if line["stage"] == "sketch":
        return ("sketch", line["problem"], line["round"])
    if line["stage"] == "subgoal":
        return ("subgoal", line["problem"], line["subgoal"], line["round"])
    return None


def lemma_answer(request: dict[str, Any], proof: str, aux: str = "") -> str:
    text = request["messages"][0]["content"]
    statement = re.search(r"```lean4\n(.*?:=)", text, re.S).group(1)
    return f"```lean4\n{aux}{statement} {proof}\n```"


class Tree:
    """Answers per node: `sketches[problem][round]` (proof text after the statement) and
    `proofs(problem, hole, round)`; `fail(node)` may return an action (an HTTP error) instead;
    `hold(node)` may block the request (a threading.Event to wait on)."""

    def __init__(
        self,
        statements: dict[str, str],
        sketches: dict[str, list[str]],
        proofs: Callable[[str, int, int], str],
        fail: Callable[[tuple], Any] | None = None,
        aux: Callable[[str, int, int], str] | None = None,
    ) -> None:
        self.statements = statements
        self.sketches = sketches
        self.proofs = proofs
        self.fail = fail
        self.aux = aux
        self.asked: Counter = Counter()
        self.hold: Callable[[tuple], Any] | None = None

    def __call__(self, request: dict[str, Any]) -> Any:
        node = node_of(request)
        self.asked[node] += 1
        if self.hold is not None:
            event = self.hold(node)
            if event is not None:
                event.wait(30)
        if self.fail is not None:
            action = self.fail(node)
            if action is not None:
                return action
        if node[0] == "sketch":
            _, name, rnd = node
            rounds = self.sketches[name]
            proof = rounds[min(rnd, len(rounds) - 1)]
            return Reply(f"Plan: small steps.\n\n```lean4\n{self.statements[name]} {proof}\n```\n")
        _, name, hole, rnd = node
        aux = self.aux(name, hole, rnd) if self.aux else ""
        return Reply(lemma_answer(request, self.proofs(name, hole, rnd), aux))


def configure(tmp: Path, url: str, rules: list[dict] | None = None, **search: Any) -> Path:
    settings = dict(
        strategy="decompose",
        samples=1,
        sketch_repair_rounds=1,
        subgoal_samples=1,
        subgoal_repair_rounds=1,
    )
    settings.update(search)
    config, _ = write_setup(tmp, url, **settings)
    edit_repl_script(config, first_rules=rules)
    return config


def run(config: Path, out: Path, limit: int = 1, *extra: str) -> int:
    args = ["run", str(config), "--out", str(out), "--limit", str(limit), "--no-progress"]
    return main([*args, *extra])


def effective(lines: list[dict]) -> list[dict]:
    """The last line per key (what the record means)."""
    last: dict[tuple, dict] = {}
    for x in lines:
        key = (
            x["problem"],
            x["sample"],
            x["round"],
            x["stage"],
            x["sketch"],
            x["subgoal"],
            x["subsample"],
        )
        last[key] = x
    return list(last.values())


def shape(lines: list[dict]) -> list[tuple]:
    keys = [
        (
            x["problem"],
            x["sample"],
            x["stage"],
            x["sketch"],
            x["subgoal"],
            x["subsample"],
            x["round"],
            x["verdict"],
        )
        for x in effective(lines)
    ]
    return sorted(keys, key=repr)


def by_stage(lines: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in effective(lines):
        out.setdefault(line["stage"], []).append(line)
    return out


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


A = "theorem smoke_add_zero (n : Nat) : n + 0 = n :="
B = "theorem smoke_zero_add (n : Nat) : 0 + n = n :="
STATEMENTS = {"smoke_add_zero": A, "smoke_zero_add": B}
TWO_HAVES_A = (
    "by\n  have h1 : n + 0 = n := by\n    sorry\n  have h2 : n = n := by sorry\n  exact h1"
)
TWO_HAVES_B = (
    "by\n  have h1 : 0 + n = n := by sorry\n  have h2 : n = n := by\n    sorry\n  exact h1"
)
BROKEN = f"by\n  exact {MARKER}"
GOOD = "by\n  simp"
BAD = f"by\n  exact {MARKER}"


def scenario_proofs(name: str, hole: int, rnd: int) -> str:
    """smoke_add_zero: hole 0 needs its repair round, hole 1 is proved at once (composed,
    proved). smoke_zero_add: hole 0 proved, hole 1 fails every sample (no composition)."""
    if name == "smoke_add_zero":
        return BAD if (hole, rnd) == (0, 0) else GOOD
    return GOOD if hole == 0 else BAD


def scenario() -> Tree:
    return Tree(
        STATEMENTS,
        {"smoke_add_zero": [BROKEN, TWO_HAVES_A], "smoke_zero_add": [TWO_HAVES_B]},
        scenario_proofs,
    )


SCENARIO = dict(samples=2, subgoal_samples=2)


# ---------------------------------------------------------------------------------------------
# Resume: every kill point between two record lines, and a torn last line


def test_resume_from_every_prefix_of_the_record_asks_only_what_is_missing(tmp_path):
    tree = scenario()
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url, **SCENARIO)
        clean = tmp_path / "clean"
        assert run(config, clean, 2) == 0
        lines = read_lines(clean)
        # the scenario's tree: 6 lines per (problem, sample)
        assert len(lines) == 24, [node_of_line(x) for x in lines]
        assert sum(1 for x in lines if x["stage"] == "compose") == 2
        raw = (clean / "attempts.jsonl").read_bytes().splitlines(keepends=True)
        cuts = [(k, b"") for k in range(len(raw) + 1)]
        cuts += [(k, raw[k][: len(raw[k]) // 2]) for k in (3, 11, len(raw) - 1)]  # torn lines
        for k, torn in cuts:
            out = tmp_path / f"cut{k}-{len(torn)}"
            shutil.copytree(clean, out)
            (out / "attempts.jsonl").write_bytes(b"".join(raw[:k]) + torn)
            (out / "summary.json").unlink()
            before = len(server.requests)
            assert run(config, out, 2) == 0, (k, torn)
            asked = Counter(node_of(r) for r in server.requests[before:])
            missing = Counter(n for x in lines[k:] if (n := node_of_line(x)) is not None)
            # nothing recorded is asked again; everything missing is asked once
            assert asked == missing, (k, len(torn))
            assert shape(read_lines(out)) == shape(lines), (k, len(torn))
            assert summary_of(out)["proved"] == 1


def one_problem(tree_proofs: Callable[[str, int, int], str] | None = None, **kw: Any) -> Tree:
    return Tree(
        STATEMENTS,
        {"smoke_add_zero": [BROKEN, TWO_HAVES_A]},
        tree_proofs or scenario_proofs,
        **kw,
    )


def test_http_500s_at_the_sketch_and_at_a_hole_then_two_resumes_give_the_clean_tree(tmp_path):
    with ChatServer(one_problem()) as server:
        config = configure(tmp_path, server.url)
        assert run(config, tmp_path / "clean") == 0
    clean = read_lines(tmp_path / "clean")

    sketch_r1 = ("sketch", "smoke_add_zero", 1)
    hole1_r0 = ("subgoal", "smoke_add_zero", 1, 0)
    tree = one_problem()
    # the sketch's second round: 4 failures (one run's tries); the second hole: 4 more, so the
    # first resume gets past the sketch and fails at the hole, the second resume finishes
    tree.fail = lambda node: (
        Status(500)
        if (node == sketch_r1 and tree.asked[node] <= 4)
        or (node == hole1_r0 and tree.asked[node] <= 4)
        else None
    )
    out = tmp_path / "flaky"
    with ChatServer(tree) as server:
        (tmp_path / "f").mkdir()
        config = configure(tmp_path / "f", server.url)
        run(config, out)
        first = by_stage(read_lines(out))
        assert [x["verdict"] for x in first["sketch"]] == ["lean_error", "prover_error"]
        assert summary_of(out)["complete"] is False
        run(config, out)
        second = by_stage(read_lines(out))
        assert "prover_error" in {x["verdict"] for x in second["subgoal"]}
        assert "compose" not in second
        run(config, out)
        resumed_sketch = [r for r in server.requests if node_of(r) == sketch_r1][-1]
    final = read_lines(out)
    assert shape(final) == shape(clean)
    # every node was answered once; the failing ones were tried 4 times per run
    answered = {n: c for n, c in tree.asked.items() if n not in (sketch_r1, hole1_r0)}
    assert set(answered.values()) == {1}
    assert tree.asked[sketch_r1] == 5 and tree.asked[hole1_r0] == 5
    # the resumed sketch round carries its recorded history: round 0's answer, once
    assert [m["role"] for m in resumed_sketch["messages"]] == ["user", "assistant", "user"]
    s, c = summary_of(out), summary_of(tmp_path / "clean")
    for key in ("proved", "prover_calls", "decomposer_calls", "by_stage"):
        assert s[key] == c[key], key
    assert s["complete"] is True


def test_a_composition_whose_check_crashes_is_checked_again_without_asking_anyone(tmp_path):
    proofs = {0: "by\n  simp only [crash_first]", 1: "by\n  simp only [crash_second]"}
    tree = one_problem(lambda name, hole, rnd: proofs[hole])
    # Lean dies on the composed proof only (both fills in one command)
    crash = {"match_re": r"crash_first[\s\S]*crash_second", "crash": True}
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url, rules=[crash])
        run(config, tmp_path / "run")
        (composed,) = by_stage(read_lines(tmp_path / "run"))["compose"]
        assert composed["verdict"] == "checker_error"
        asked = len(server.requests)
        edit_repl_script(config, rules=[{"match": MARKER, "error": "unknown identifier"}])
        assert run(config, tmp_path / "run") == 0
        assert len(server.requests) == asked  # the holes' proofs come from the record
    lines = by_stage(read_lines(tmp_path / "run"))
    assert [x["verdict"] for x in lines["compose"]] == ["proved"]
    assert summary_of(tmp_path / "run")["proved"] == 1


def test_a_hole_round_whose_check_crashed_is_rechecked_not_asked_again(tmp_path):
    tree = one_problem()
    hole1_r0 = ("subgoal", "smoke_add_zero", 1, 0)

    def proofs(name: str, hole: int, rnd: int) -> str:
        if (hole, rnd) == (1, 0) and tree.asked[hole1_r0] == 1:
            return "by\n  simp only [lean_dies_here]"
        return scenario_proofs(name, hole, rnd)

    tree.proofs = proofs
    crash = {"match": "lean_dies_here", "crash": True}
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url, rules=[crash])
        run(config, tmp_path / "run")
        lines = read_lines(tmp_path / "run")
        assert "checker_error" in {x["verdict"] for x in lines if x["stage"] == "subgoal"}
        edit_repl_script(config, rules=[{"match": MARKER, "error": "unknown identifier"}])
        assert run(config, tmp_path / "run") == 0
    every = read_lines(tmp_path / "run")
    crashed = next(x for x in every if x["verdict"] == "checker_error")
    rechecked = [x for x in every if x["id"] == crashed["id"]][-1]
    assert tree.asked[hole1_r0] == 1  # the recorded answer was checked again, not bought again
    assert crashed["verdict"] == "checker_error" and rechecked["answer"] == crashed["answer"]
    assert rechecked["prompt_tokens"] == crashed["prompt_tokens"]


# ---------------------------------------------------------------------------------------------
# Direct calls: the sketch check, a hole's check in place, filling and composing


def smoke(decl: str = "smoke_add_zero") -> Problem:
    return next(p for p in load_suite("smoke", load_config()).problems if p.decl_name == decl)


def on_double(tmp_path: Path, work: Callable[[Any, Any], Any], script: dict | None = None) -> Any:
    config, log = double_config(tmp_path, script)

    async def go() -> Any:
        async with ReplPool(config) as pool:
            return await work(pool, config)

    return asyncio.run(go()), log


def lean_saw(log: Path) -> str:
    """Every command text the REPL double received, joined."""
    if not log.exists():
        return ""
    events = [json.loads(x) for x in log.read_text().splitlines() if x]
    requests = [e["request"] for e in events if e["event"] == "request"]
    return "\n".join(r.get("cmd", "") for r in requests if isinstance(r, dict))


SKETCH = "by\n  have h1 : n + 0 = n := by\n    sorry\n  have h2 : n = n := by sorry\n  exact h1"


def hole_at(proof: str, index: int, goal: str = "n : Nat\n⊢ n + 0 = n") -> Hole:
    starts = [m.start() for m in re.finditer(r"\bsorry\b", proof)]
    return Hole(starts[index], starts[index] + 5, goal)


def hole_verdict(tmp_path: Path, own: Candidate, script: dict | None = None, sketch=SKETCH):
    problem = smoke()
    sketch_c = Candidate(proof=sketch)
    hole = hole_at(sketch, 0)
    sub = subgoal_problem(problem, 0, hole.goal)
    filled, span = fill_one(sketch_c, hole, own, sub)

    async def work(pool, config):
        return await verify_hole(problem, filled, span, 2, own, pool, config)

    return on_double(tmp_path, work, script)


# What must never reach Lean from a hole's proof or a sketch (proof, aux or preamble), with the
# text that shows it: the double runs the Python of a rule matching that text (model code
# running "inside Lean"), which would leave a file.
CODE = [
    ("proof", "by\n  run_tac (pure ())\n  simp", "run_tac"),
    ("proof", 'by\n  simp\n  #eval IO.println "x"', "#eval"),
    ("aux", 'def f : IO Unit := IO.println "x"', "IO.println"),
    ("aux", 'macro "pwn" : tactic => `(tactic| simp)', "macro"),
    ("aux", 'def g : String := include_str "/etc/passwd"', "include_str"),
    ("aux", 'elab "pwn" : tactic => pure ()', "elab"),
    ("preamble", 'set_option trace.profiler.output "/tmp/x" in', "trace.profiler"),
    ("aux", "initialize counter : Nat ← pure 0", "initialize"),
    ("proof", "by\n  linarith (config := { discharger := fun _ => pure () })", "discharger"),
    ("aux", "@[implemented_by foo] def h : Nat := 0", "implemented_by"),
    ("proof", "by\n  exact (unsafeIO (pure ())).elim", "unsafeIO"),
    ("proof", 'by\n  simp -- )\n  exact s!"{1}"', 's!"'),
    ("aux", 'notation "five" => 5', "five"),
    ("proof", "by\n  simp\n  plausible", "plausible"),
]


def code_candidate(part: str, text: str, proof: str) -> Candidate:
    if part == "proof":
        return Candidate(proof=text)
    return Candidate(proof=proof, **{part: text})


@pytest.mark.parametrize("part,text,trigger", CODE, ids=[f"{c[0]}-{c[2]}" for c in CODE])
def test_code_in_a_hole_proof_or_a_sketch_is_refused_before_lean_sees_it(
    tmp_path, part, text, trigger
):
    flag = tmp_path / "ran.txt"
    script = {"rules": [{"match": trigger, "exec": f"open({str(flag)!r}, 'w').write('ran')"}]}
    own = code_candidate(part, text, "by\n  simp")
    verdict, log = hole_verdict(tmp_path, own, script)
    assert verdict.kind in (VerdictKind.REJECTED, VerdictKind.SORRY), verdict
    problem = smoke()
    sketch = code_candidate(part, text + "\n  sorry" if part == "proof" else text, "by\n  sorry")

    async def work(pool, config):
        return await check_sketch(problem, sketch, pool, config)

    as_sketch, _ = on_double(tmp_path, work, script)
    assert as_sketch.rule != "sketch" and as_sketch.kind is VerdictKind.REJECTED, as_sketch
    assert not flag.exists()
    assert trigger not in lean_saw(log)


def test_the_code_detector_sees_model_text_that_reaches_lean(tmp_path):
    # the control for the test above: clean hole text does reach the double and trips its rule
    flag = tmp_path / "ran.txt"
    script = {
        "rules": [{"match": "control_lemma", "exec": f"open({str(flag)!r}, 'w').write('ran')"}]
    }
    verdict, log = hole_verdict(tmp_path, Candidate(proof="by\n  exact control_lemma n"), script)
    assert verdict.kind is VerdictKind.PROVED and flag.exists()
    assert "control_lemma" in lean_saw(log)


@pytest.mark.parametrize(
    "part,text",
    [
        ("proof", "by\n  simp\n  sorry"),
        ("proof", "by\n  admit"),
        ("proof", "by\n  stop\n  simp"),
        ("proof", "by\n  exact sorryAx _ false"),
        ("proof", "by\n  exact «sorryAx» _ false"),
        ("aux", "theorem helper : n + 0 = n := by sorry"),
        ("aux", "theorem smoke_add_zero (n : Nat) : n + 0 = n := sorry"),
        ("preamble", "open Nat in\nset_option maxHeartbeats 0 in"),
    ],
)
def test_a_hole_proof_with_any_sorry_is_never_proved(tmp_path, part, text):
    own = {
        "proof": Candidate(proof=text),
        "aux": Candidate(proof="by\n  simp", aux=text),
        "preamble": Candidate(proof="by\n  sorry", preamble=text),
    }[part]
    verdict, _ = hole_verdict(tmp_path, own)
    assert verdict.kind is VerdictKind.SORRY, verdict


@pytest.mark.parametrize(
    "aux,proof",
    [
        ("", "by\n  admit"),
        ("", "by\n  have h : n + 0 = n := by stop\n  exact h"),
        ("", "by\n  exact sorryAx _ false"),
        ("theorem helper (n : Nat) : n + 0 = n := by sorry", "by\n  exact helper n"),
        ("instance : Inhabited Nat := sorry", "by\n  sorry"),
        ("", "by\n  run_tac (pure ())\n  sorry"),
        ("set_option debug.skipKernelTC true", "by\n  sorry"),
        ("", "by\n  sorry\n  #exit"),
        ("", "by\n  sorry /- never closed"),
        ("", 'by\n  sorry\n  exact "never closed'),
    ],
)
def test_a_sketch_with_anything_but_proof_sorries_is_not_accepted(tmp_path, aux, proof):
    problem = smoke()

    async def work(pool, config):
        return await check_sketch(problem, Candidate(proof=proof, aux=aux), pool, config)

    verdict, log = on_double(tmp_path, work)
    assert verdict.rule != "sketch", verdict
    assert verdict.holes == ()


def test_an_answer_hole_sketch_may_not_leave_the_answer_as_a_hole(tmp_path):
    problem = Problem(
        name="ans",
        header="",
        context="abbrev sol : Nat := sorry\n",
        statement="theorem ans : sol = 5 :=",
        theorem_name="ans",
        answer_hole=True,
    )
    sketch = Candidate(proof="by\n  sorry", aux="abbrev sol : Nat := sorry")

    async def work(pool, config):
        return await check_sketch(problem, sketch, pool, config)

    verdict, _ = on_double(tmp_path, work)
    assert verdict.rule != "sketch" and verdict.kind is VerdictKind.SORRY


def test_a_hole_proof_restating_the_main_theorem_or_the_lemma_elsewhere_changes_nothing(tmp_path):
    # The prover's aux re-proves the suite theorem (dropped) and its answer restates the lemma
    # under another name first (not taken): the composed file has the suite's statement once.
    problem = smoke()
    sketch = Candidate(proof=SKETCH)
    holes = [hole_at(SKETCH, 0), hole_at(SKETCH, 1, "n : Nat\nh1 : n + 0 = n\n⊢ n = n")]
    subs = [subgoal_problem(problem, i, h.goal) for i, h in enumerate(holes)]
    cheat = Candidate(
        proof="by\n  simp",
        aux="theorem smoke_add_zero (n : Nat) : n + 0 = n := by\n  exact cheat_marker",
    )
    composed = compose(sketch, holes, {0: (cheat, subs[0]), 1: (cheat, subs[1])})
    spliced = splice(problem, composed)
    assert "cheat_marker" not in spliced.file
    assert spliced.file.count("theorem smoke_add_zero") == 1
    assert spliced.statement == problem.statement

    async def work(pool, config):
        return await verify(problem, composed, pool, config)

    verdict, log = on_double(tmp_path, work)
    assert verdict.kind is VerdictKind.PROVED
    assert "cheat_marker" not in lean_saw(log)


def columns(text: str, word: str) -> list[int]:
    """Code-point columns of `word` on each line of `text` where it occurs."""
    return [line.index(word) for line in text.split("\n") if word in line]


def test_a_hole_after_wide_and_astral_characters_is_filled_at_its_code_point_column(tmp_path):
    # `h𝔸` (U+1D538, two UTF-16 units, four UTF-8 bytes) and full-width text in a comment
    # before the sorry: Lean counts columns in code points, as Python does.
    sketch = (
        "by\n  have h𝔸 : n + 0 = n := by /- 全角の説明 -/ sorry\n"
        "  have h2 : n = n := by sorry\n  exact h𝔸"
    )
    problem = smoke()
    own = Candidate(proof="by\n  first_tactic\n  second_tactic")

    async def work(pool, config):
        accepted = await check_sketch(problem, Candidate(proof=sketch), pool, config)
        hole = accepted.holes[0]
        sub = subgoal_problem(problem, 0, hole.goal)
        filled, span = fill_one(Candidate(proof=sketch), hole, own, sub)
        return (
            accepted,
            filled,
            await verify_hole(problem, filled, span, len(accepted.holes), own, pool, config),
        )

    (accepted, filled, verdict), _ = on_double(tmp_path, work)
    assert accepted.rule == "sketch" and len(accepted.holes) == 2
    assert sketch[accepted.holes[0].start : accepted.holes[0].end] == "sorry"
    assert verdict.kind is VerdictKind.PROVED
    first, second = columns(filled.proof, "first_tactic"), columns(filled.proof, "second_tactic")
    assert first == second  # the continuation line sits under the first tactic


# ---------------------------------------------------------------------------------------------
# Defects shown without Lean (the structure of the filled and composed text)


def test_two_multi_line_hole_proofs_on_one_line_compose_aligned():
    problem = Problem(name="t", header="", statement="theorem t : True ∧ True :=", theorem_name="t")
    sketch = "by\n  exact ⟨by sorry, by sorry⟩"
    holes = [hole_at(sketch, 0, "⊢ True"), hole_at(sketch, 1, "⊢ True")]
    sub = subgoal_problem(problem, 0, "⊢ True")
    one = Candidate(proof="by\n  first_one\n  then_one")
    two = Candidate(proof="by\n  first_two\n  then_two")
    # each alone (as verify_hole checks it) is aligned
    for i, own in enumerate((one, two)):
        alone, _ = fill_one(Candidate(proof=sketch), holes[i], own, sub)
        word = ("first_one", "then_one") if i == 0 else ("first_two", "then_two")
        assert columns(alone.proof, word[0]) == columns(alone.proof, word[1])
    composed = compose(Candidate(proof=sketch), holes, {0: (one, sub), 1: (two, sub)})
    assert columns(composed.proof, "first_one") == columns(composed.proof, "then_one")
    assert columns(composed.proof, "first_two") == columns(composed.proof, "then_two")


TERM_HOLES = [
    "by\n  exact fun m => sorry",
    "by\n  exact absurd rfl sorry",
    "by\n  nlinarith [sorry, Nat.zero_le n]",
    "by\n  exact (Eq.refl n).trans sorry",
    "by\n  exact if n = 0 then sorry else sorry",
    "fun m => sorry",
]


@pytest.mark.parametrize("sketch", TERM_HOLES)
def test_a_hole_in_term_position_is_filled_as_a_term(sketch):
    start = sketch.index("sorry")
    text, a, _ = fill_hole(sketch, start, start + 5, proof_lines("by\n  simp"))
    assert text[a:].startswith("(by ")


def test_hole_proofs_with_same_named_helpers_compose_into_a_valid_file():
    from harness.lean_text import declarations

    problem = smoke()
    sketch = Candidate(proof=SKETCH)
    holes = [hole_at(SKETCH, 0), hole_at(SKETCH, 1, "n : Nat\nh1 : n + 0 = n\n⊢ n = n")]
    subs = [subgoal_problem(problem, i, h.goal) for i, h in enumerate(holes)]
    a = Candidate(
        proof="by\n  exact helper n", aux="theorem helper (n : Nat) : n + 0 = n := by simp"
    )
    b = Candidate(proof="by\n  exact helper n", aux="theorem helper (n : Nat) : n = n := rfl")
    composed = compose(sketch, holes, {0: (a, subs[0]), 1: (b, subs[1])})
    names = [d.name for d in declarations(splice(problem, composed).aux) if d.name]
    assert len(names) == len(set(names)), names


def test_a_hole_proof_cannot_change_the_sketchs_answer():
    problem = Problem(
        name="ans",
        header="",
        context="abbrev sol : Nat := sorry\n",
        statement="theorem ans : sol = 5 :=",
        theorem_name="ans",
        answer_hole=True,
    )
    sketch = Candidate(
        proof="by\n  have h : sol = 5 := by sorry\n  exact h", aux="abbrev sol : Nat := 5"
    )
    hole = hole_at(sketch.proof, 0, "⊢ sol = 5")
    sub = subgoal_problem(problem, 0, hole.goal)
    own = Candidate(proof="by\n  decide", aux="abbrev sol : Nat := 7")
    filled, _ = fill_one(sketch, hole, own, sub)
    composed = compose(sketch, [hole], {0: (own, sub)})
    assert (splice(problem, filled).fill, splice(problem, composed).fill) == ("5", "5")


def test_a_hole_proof_that_escapes_its_parentheses_is_refused(tmp_path):
    sketch = "by\n  have h1 : n + 0 = n := sorry\n  have h2 : n = n := by sorry\n  exact h1"
    own = Candidate(proof="by simp); have escaped : n = n := rfl; (skip")
    filled, _ = fill_one(Candidate(proof=sketch), hole_at(sketch, 0), own, Subgoal(smoke(), ()))
    # with real Lean this is valid: `have h1 : ... := (by simp); have escaped ...; (skip)`
    assert "(by simp); have escaped : n = n := rfl; (skip)" in filled.proof
    verdict, _ = hole_verdict(tmp_path, own, sketch=sketch)
    assert verdict.kind is not VerdictKind.PROVED


def duplicate_sorry_reply(line: int, column: int, goals: list[str]) -> dict:
    """A REPL reply reporting one `sorry` token elaborated once per goal (`<;> sorry`)."""
    pos = {"line": line, "column": column}
    end = {"line": line, "column": column + 5}
    return {
        "sorries": [
            {"proofState": i, "pos": pos, "endPos": end, "goal": g} for i, g in enumerate(goals)
        ],
        "messages": [
            {
                "severity": "warning",
                "pos": {"line": 1, "column": 8},
                "endPos": None,
                "data": "declaration uses 'sorry'",
            }
        ],
    }


def test_a_sorry_elaborated_for_two_goals_is_not_two_holes_at_one_place(tmp_path):
    problem = smoke()
    proof = "by\n  constructor <;> sorry"
    # the command is `statement + " " + proof`: the sorry is on line 2, column 18
    reply = duplicate_sorry_reply(2, 18, ["n : Nat\n⊢ n + 0 ≤ n", "n : Nat\n⊢ n ≤ n + 0"])
    script = {"rules": [{"match": "<;> sorry", "reply": reply}]}

    async def work(pool, config):
        return await check_sketch(problem, Candidate(proof=proof), pool, config)

    verdict, _ = on_double(tmp_path, work, script)
    # one text for two goals cannot be one lemma: the sketch goes back to the decomposer
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "sketch_hole")
    assert "several goals" in verdict.where


@pytest.mark.parametrize(
    "proof",
    [
        "by\n  -- a sorry in a comment\n  have h : n + 0 = n := by sorry\n  exact h",
        'by\n  have s : String := "sorry"\n  have h : n + 0 = n := by sorry\n  exact h',
    ],
)
def test_a_sorry_in_a_comment_or_string_is_not_a_hole(tmp_path, proof):
    problem = smoke()

    async def work(pool, config):
        return await check_sketch(problem, Candidate(proof=proof), pool, config)

    verdict, _ = on_double(tmp_path, work)
    # the double reports a sorry there (real Lean never does): not a hole, and the sketch is
    # refused rather than guessed at
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "sketch_hole")


# ---------------------------------------------------------------------------------------------
# The record: tree ids, what decides, budgets


def test_the_record_is_a_tree_only_composed_proofs_decide_and_the_budget_adds_up(tmp_path):
    tree = scenario()
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url, **SCENARIO)
        data = yaml.safe_load(config.read_text())
        data["decomposer"] = {
            "model": "sketch-writer",
            "price_prompt_per_mtok": 10.0,
            "price_completion_per_mtok": 20.0,
        }
        data["prover"].update(price_prompt_per_mtok=1.0, price_completion_per_mtok=2.0)
        config.write_text(yaml.safe_dump(data))
        assert run(config, tmp_path / "run", 2) == 0
        models = Counter((node_of(r)[0], r["model"]) for r in server.requests)
    assert set(models) == {("sketch", "sketch-writer"), ("subgoal", "deepseek/deepseek-prover-v2")}
    lines = read_lines(tmp_path / "run")
    assert len({x["id"] for x in lines}) == len(lines)  # no line superseded here: ids unique
    accepted: dict[tuple, dict] = {}
    for x in lines:
        base = f"{x['problem']}/s{x['sample']}"
        if x["stage"] == "sketch":
            assert (x["id"], x["parent"]) == (f"{base}/k{x['round']}", base)
            assert x["model"] == "sketch-writer"
            if x["rule"] == "sketch":
                accepted[(x["problem"], x["sample"])] = x
        elif x["stage"] == "subgoal":
            node = f"{base}/k{x['sketch']}/g{x['subgoal']}"
            assert (x["id"], x["parent"]) == (f"{node}/j{x['subsample']}/r{x['round']}", node)
        else:
            assert (x["id"], x["parent"]) == (
                f"{base}/k{x['sketch']}/compose",
                f"{base}/k{x['sketch']}",
            )
    for x in lines:  # every hole line and composition hangs from the sample's accepted sketch
        if x["stage"] in ("subgoal", "compose"):
            sketch = accepted[(x["problem"], x["sample"])]
            assert x["sketch"] == sketch["round"]
            assert x["subgoal"] is None or x["subgoal"] < len(sketch["holes"])
            assert all(k in h for h in sketch["holes"] for k in ("start", "end", "goal", "lemma"))
    proved_holes = {
        x["problem"] for x in lines if x["stage"] == "subgoal" and x["verdict"] == "proved"
    }
    assert proved_holes == {"smoke_add_zero", "smoke_zero_add"}
    s = summary_of(tmp_path / "run")
    stages = Counter(x["stage"] for x in lines)
    assert s["proved"] == 1  # smoke_zero_add's proved hole decides nothing
    assert s["pass_at"] == {"1": 0.5, "2": 0.5}
    assert (s["decomposer_calls"], s["prover_calls"]) == (stages["sketch"], stages["subgoal"])
    assert s["attempts"] == len(lines)
    assert s["prompt_tokens"] + s["completion_tokens"] == sum(
        x["prompt_tokens"] + x["completion_tokens"] for x in lines
    )
    assert s["lean_checks"] == sum(x["lean_checks"] for x in lines)
    for x in lines:  # each model's calls at its own prices
        rates = (10.0, 20.0) if x["stage"] == "sketch" else (1.0, 2.0)
        cost = (x["prompt_tokens"] * rates[0] + x["completion_tokens"] * rates[1]) / 1e6
        assert x["cost"] == pytest.approx(cost), x["id"]
    assert s["cost"] == pytest.approx(sum(x["cost"] or 0.0 for x in lines))
    assert all(x["lean_checks"] >= 1 for x in lines)
    assert sum(tree.asked.values()) == stages["sketch"] + stages["subgoal"]
    assert s["by_stage"]["compose"] == {"proved": 2}
    calls = stages["sketch"] + stages["subgoal"]
    assert s["per_solved"]["calls"] == calls and s["per_problem"]["calls"] == calls / 2


def test_stop_on_success_decomposes_one_sample_and_a_rerun_asks_nothing(tmp_path):
    tree = one_problem()
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url, samples=3, stop_on_success=True)
        assert run(config, tmp_path / "run") == 0
        asked = len(server.requests)
        assert run(config, tmp_path / "run") == 0
        assert len(server.requests) == asked
    lines = read_lines(tmp_path / "run")
    assert {x["sample"] for x in lines} == {0}
    assert [x["verdict"] for x in lines if x["stage"] == "compose"] == ["proved"]


def test_a_sketch_without_holes_is_composed_as_it_is_and_decides(tmp_path):
    tree = Tree(STATEMENTS, {"smoke_add_zero": ["by\n  simp"]}, scenario_proofs)
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url)
        assert run(config, tmp_path / "run") == 0
    lines = by_stage(read_lines(tmp_path / "run"))
    (sketch,) = lines["sketch"]
    assert (sketch["verdict"], sketch["rule"], sketch["holes"]) == ("sorry", "sketch", [])
    assert "subgoal" not in lines
    assert [x["verdict"] for x in lines["compose"]] == ["proved"]
    assert summary_of(tmp_path / "run")["proved"] == 1


def test_the_prover_sees_the_sketchs_definitions_its_goal_mentions(tmp_path):
    sketch = "by\n  have h : twice n = n + n := by sorry\n  simp"
    tree = Tree(STATEMENTS, {"smoke_add_zero": [sketch]}, scenario_proofs)
    answer = tree.__call__

    def with_aux(request: dict[str, Any]) -> Any:
        reply = answer(request)
        if node_of(request)[0] == "sketch":
            aux = "def twice (k : Nat) : Nat := k + k\n\n"
            return Reply(reply.text.replace("```lean4\n", "```lean4\n" + aux, 1))
        return reply

    with ChatServer(with_aux) as server:
        config = configure(tmp_path, server.url)
        assert run(config, tmp_path / "run") == 0
        lemma = next(r for r in server.requests if node_of(r)[0] == "subgoal")
    assert "twice n = n + n" in lemma["messages"][0]["content"]
    assert "def twice" in lemma["messages"][0]["content"]


# ---------------------------------------------------------------------------------------------
# Resume after SIGKILL at three points: during a sketch round, between holes, before compose


def start_run(config: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "harness", "run", str(config), "--out", str(out)]
    cmd += ["--limit", "1", "--no-progress"]
    env = dict(os.environ, **{KEY_ENV: KEY})
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(proc: subprocess.Popen, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.01)


def count_lines(out: Path) -> int:
    path = out / "attempts.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


SKETCH_R1 = ("sketch", "smoke_add_zero", 1)
HOLE1_R0 = ("subgoal", "smoke_add_zero", 1, 0)


@pytest.mark.parametrize("held", [SKETCH_R1, HOLE1_R0], ids=["in-sketch-round", "between-holes"])
def test_sigkill_with_a_request_in_flight_then_resume_asks_only_that_again(tmp_path, held):
    import threading

    with ChatServer(one_problem()) as server:
        config = configure(tmp_path, server.url)
        assert run(config, tmp_path / "clean") == 0
    clean = read_lines(tmp_path / "clean")

    tree = one_problem()
    release = threading.Event()
    tree.hold = lambda node: release if node == held else None
    out = tmp_path / "killed"
    with ChatServer(tree) as server:
        (tmp_path / "k").mkdir()
        config = configure(tmp_path / "k", server.url)
        proc = start_run(config, out)
        # the held request is in flight, and (between holes) the other hole is finished
        need = 1 if held == SKETCH_R1 else 3
        wait_for(proc, lambda: tree.asked[held] == 1 and count_lines(out) >= need)
        time.sleep(0.3)  # whatever else was going to be recorded is
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        release.set()
        partial = read_lines(out)
        recorded = Counter(node_of_line(x) for x in partial)
        asked_before = Counter(tree.asked)
        tree.hold = None
        assert run(config, out) == 0
    resumed = tree.asked - asked_before
    assert shape(read_lines(out)) == shape(clean)
    assert not set(resumed) & set(recorded)  # nothing recorded is asked again
    assert resumed[held] == 1  # the request lost in flight is asked once more
    missing = Counter(n for x in clean if (n := node_of_line(x)) is not None) - recorded
    assert resumed == missing


def test_sigkill_while_the_composition_is_checked_then_resume_asks_nobody(tmp_path):
    with ChatServer(one_problem()) as server:
        config = configure(tmp_path, server.url)
        assert run(config, tmp_path / "clean") == 0
    clean = read_lines(tmp_path / "clean")
    tree = one_problem()
    out = tmp_path / "killed"
    with ChatServer(tree) as server:
        (tmp_path / "k").mkdir()
        config = configure(tmp_path / "k", server.url)
        edit_repl_script(config, latency_s=0.5)  # every Lean command takes half a second
        proc = start_run(config, out)
        holes_done = len([x for x in clean if x["stage"] != "compose"])
        wait_for(proc, lambda: count_lines(out) >= holes_done)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert "compose" not in by_stage(read_lines(out))
        asked = len(server.requests)
        assert run(config, out) == 0
        assert len(server.requests) == asked
    assert shape(read_lines(out)) == shape(clean)


def test_a_budget_reached_at_every_step_then_raised_resumes_without_asking_twice(tmp_path):
    with ChatServer(one_problem()) as server:
        config = configure(tmp_path, server.url)
        assert run(config, tmp_path / "clean") == 0
    clean = read_lines(tmp_path / "clean")
    tree = one_problem()
    out = tmp_path / "stepwise"
    with ChatServer(tree) as server:
        (tmp_path / "b").mkdir()
        config = configure(tmp_path / "b", server.url)
        runs = 0
        while runs < 20:
            spent = (
                sum(x["prompt_tokens"] + x["completion_tokens"] for x in read_lines(out))
                if (out / "attempts.jsonl").exists()
                else 0
            )
            budget = ["--set", f"search.max_tokens={spent + 1}", "--force"]
            run(config, out, 1, *budget)
            runs += 1
            if summary_of(out)["complete"]:
                break
    assert runs > 3  # it really stopped on the way
    assert set(tree.asked.values()) == {1}  # every node asked once over all the runs
    assert shape(read_lines(out)) == shape(clean)


# ---------------------------------------------------------------------------------------------
# Lean's sorries that are not holes, holes that vanish, a Lean process taken over


@pytest.mark.parametrize(
    "aux,rule,why",
    [
        # Lean reports a sorry where the sketch has `exact`, not `sorry`
        ("", {"match": "exact h1", "sorry": True, "at": "exact"}, "outside the proof"),
        # ... in an auxiliary declaration (the screen refuses a written one; this one is not)
        (
            "theorem helper_decl : True := trivial",
            {"match": "helper_decl", "sorry": True, "at": "trivial"},
            "outside the proof",
        ),
        # ... without a position
        (
            "",
            {
                "match": "exact h1",
                "reply": {"sorries": [{"proofState": 0, "goal": "⊢ False"}], "messages": []},
            },
            "without a position",
        ),
    ],
)
def test_lean_sorries_that_are_not_sorry_tokens_of_the_proof_refuse_the_sketch(
    tmp_path, aux, rule, why
):
    problem = smoke()

    async def work(pool, config):
        return await check_sketch(problem, Candidate(proof=SKETCH, aux=aux), pool, config)

    verdict, _ = on_double(tmp_path, work, {"rules": [rule]})
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "sketch_hole")
    assert why in verdict.where


def test_a_hole_proof_after_which_another_hole_vanishes_is_not_proved(tmp_path):
    # whatever the proof did (Lean says: no error, no sorry left), the other hole is gone
    rule = {"match": "vanishing_trick", "reply": {"messages": []}}
    own = Candidate(proof="by\n  exact vanishing_trick")
    verdict, _ = hole_verdict(tmp_path, own, {"rules": [rule]})
    assert (verdict.kind, verdict.rule) == (VerdictKind.SORRY, "lean_sorry")
    assert verdict.where == "0 holes left of 2"


@pytest.mark.parametrize("sketch", [BROKEN, TWO_HAVES_A], ids=["no-holes", "two-holes"])
def test_a_lean_process_taken_over_by_model_code_cannot_make_a_decomposition_proved(
    tmp_path, sketch
):
    # The double forges every reply once it has run model text ("compromised": no errors, no
    # sorries, clean axioms). A bogus sketch with no holes is composed as it is and checked by
    # the forged process; one with holes loses them (and is caught by the screen's `sorry`).
    tree = Tree(STATEMENTS, {"smoke_add_zero": [sketch]}, lambda *_: BAD)
    with ChatServer(tree) as server:
        config = configure(tmp_path, server.url)
        edit_repl_script(config, compromised=True)
        run(config, tmp_path / "run")
    lines = by_stage(read_lines(tmp_path / "run"))
    assert [x["verdict"] for x in lines["compose"]] != ["proved"]
    assert summary_of(tmp_path / "run")["proved"] == 0


def test_a_prover_restating_its_lemma_under_another_name_proves_no_hole(tmp_path):
    def other_name(request: dict[str, Any]) -> Any:
        if node_of(request)[0] == "sketch":
            return one_problem()(request)
        # two blocks: the lemma restated as `easier`, then a trivial theorem of another name
        return Reply(
            "```lean4\ntheorem easier : True := by\n  trivial\n```\n"
            "```lean4\ntheorem also_not_it (n : Nat) : n = n := rfl\n```"
        )

    with ChatServer(other_name) as server:
        config = configure(tmp_path, server.url)
        run(config, tmp_path / "run")
    lines = by_stage(read_lines(tmp_path / "run"))
    assert {x["verdict"] for x in lines["subgoal"]} == {"no_proof"}
    assert "compose" not in lines
