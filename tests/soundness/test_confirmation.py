"""`proved` is decided in a Lean process that never ran model text (soundness.confirm).

The checking process's answer is advisory: the environment it built is pickled, replayed
through the kernel in a fresh process, and audited there. The REPL double's "compromised" mode
forges every reply once it has run model text, as code running inside Lean could.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from harness.checker.pool import ReplPool
from harness.soundness.verify import verify
from harness.types import Candidate, Problem, VerdictKind
from tests.checker.helpers import double_config, read_log

FALSE = Problem(name="t", header="", statement="theorem t : (1 : ℕ) = 2 :=", theorem_name="t")
TRUE = Problem(name="t", header="", statement="theorem t : True :=", theorem_name="t")
# Lean's answer to the cheat, which the compromised process hides
DECIDE_FAILS = {"match": "by decide", "error": "decide failed: 1 = 2 is false"}


def _verify(config, problem: Problem, proof: str):
    async def go():
        async with ReplPool(config) as pool:
            return await verify(problem, Candidate(proof=proof), pool, config)

    return asyncio.run(go())


def _requests(log) -> list[dict]:
    return [e for e in read_log(log) if e["event"] == "request"]


def test_an_honest_proof_is_confirmed_in_another_process(tmp_path):
    config, log = double_config(tmp_path, {})
    verdict = _verify(config, TRUE, "by trivial")
    assert verdict.kind is VerdictKind.PROVED and not verdict.repl_disagreed
    requests = _requests(log)
    (pickled,) = [e for e in requests if "pickleTo" in e["request"]]
    (replayed,) = [e for e in requests if "unpickleEnvFrom" in e["request"]]
    assert pickled["pid"] != replayed["pid"]
    # the confirming process was never given model text to elaborate
    confirming = [e["request"].get("cmd", "") for e in requests if e["pid"] == replayed["pid"]]
    assert not any("by trivial" in cmd for cmd in confirming)
    assert any("__harness_cref" in cmd for cmd in confirming)


def test_a_compromised_process_cannot_make_a_false_statement_proved(tmp_path):
    config, log = double_config(tmp_path, {"compromised": True, "rules": [DECIDE_FAILS]})
    verdict = _verify(config, FALSE, "by decide")
    assert verdict.kind is VerdictKind.LEAN_ERROR and verdict.rule == "confirm_replay"
    assert verdict.repl_disagreed and "said proved" in (verdict.detail or "")


def test_without_confirmation_the_forged_answer_would_have_been_believed(tmp_path):
    config, log = double_config(tmp_path, {"compromised": True, "rules": [DECIDE_FAILS]})
    unconfirmed = dataclasses.replace(
        config, soundness=dataclasses.replace(config.soundness, confirm=False)
    )
    verdict = _verify(unconfirmed, FALSE, "by decide")
    assert verdict.kind is VerdictKind.PROVED  # what soundness.confirm: false risks
    assert not any("pickleTo" in e["request"] for e in _requests(log))


CHANGERS = {
    # what the model declares, and how `pp.all` prints `2 + 2 = 4` / `2 ≤ 4` beside it
    "instance redefining +": (
        "instance : Add ℕ := ⟨Nat.mul⟩",
        "theorem t : 2 + 2 = 4 :=",
        "@Eq ℕ (@HAdd.hAdd ℕ ℕ ℕ (@instHAdd ℕ instAddNat_1) 2 2) 4",
        "@Eq ℕ (@HAdd.hAdd ℕ ℕ ℕ (@instHAdd ℕ instAddNat) 2 2) 4",
    ),
    "local notation redefining ≤": (
        'local notation:50 a " ≤ " b => b < a',
        "theorem t : 2 ≤ 4 :=",
        "@LT.lt ℕ instLTNat 4 2",
        "@LE.le ℕ instLENat 2 4",
    ),
}


@pytest.mark.parametrize("changer", list(CHANGERS))
def test_a_declaration_that_changes_the_statement_is_rejected_by_the_comparison(tmp_path, changer):
    """The confirming process prints the statement's full type where no model text exists and
    where the model's declarations were replayed; a model instance or notation that changes
    the statement shows in the second print (`pp.all` names every instance and constant), so
    the two differ."""
    declared, statement, changed, clean = CHANGERS[changer]
    script = {
        "rules": [
            {
                "match": "set_option pp.all",
                "in_env": declared,
                "info": f"@__harness_cref : {changed}",
            },
            {"match": "set_option pp.all", "info": f"@__harness_cref : {clean}"},
        ]
    }
    config, _ = double_config(tmp_path, script)
    problem = Problem(name="t", header="", statement=statement, theorem_name="t")

    async def go():
        async with ReplPool(config) as pool:
            candidate = Candidate(proof="by decide", aux=declared + "\n")
            return await verify(problem, candidate, pool, config)

    verdict = asyncio.run(go())
    assert (verdict.kind, verdict.rule) == (VerdictKind.REJECTED, "statement_changed")
    assert verdict.repl_disagreed
    # the same proof without the declaration is proved: the comparison is what refused it
    assert _verify(config, problem, "by decide").kind is VerdictKind.PROVED
