"""`proved` is decided in a Lean process that never ran model text (soundness.confirm).

The checking process's answer is advisory: the environment it built is pickled, replayed
through the kernel in a fresh process, and audited there. The REPL double's "compromised" mode
forges every reply once it has run model text, as code running inside Lean could.
"""

from __future__ import annotations

import asyncio
import dataclasses

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
