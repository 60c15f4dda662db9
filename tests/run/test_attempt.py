"""One round, top to bottom: the conversation, the answer read, the record's line."""

from __future__ import annotations

from harness.attempt import SampleRun, conversation, make_attempt, read_answer, verdict_of
from harness.config import load_config
from harness.types import Answer, Attempt, Candidate, LeanMessage, Problem, Verdict, VerdictKind

PROBLEM = Problem(
    name="p", header="import Mathlib\n", statement="theorem p : 1 + 1 = 2 :=", split="test"
)
CODE = "```lean4\ntheorem p : 1 + 1 = 2 := by\n  norm_num\n```"


def lean_error_round() -> Attempt:
    return Attempt(
        "p",
        0,
        0,
        "lean_error",
        answer="first try",
        proof="import Mathlib\ntheorem p : 1 + 1 = 2 := by\n  bad",
        messages=[{"severity": "error", "line": 3, "column": 2, "text": "unknown tactic"}],
        goals=["⊢ 1 + 1 = 2"],
    )


def test_a_recorded_round_gives_back_the_verdict_a_repair_turn_needs():
    a = lean_error_round()
    v = verdict_of(a)
    assert v.kind is VerdictKind.LEAN_ERROR
    assert v.messages == (LeanMessage("error", 3, 2, "unknown tactic"),)
    assert v.checked_file == a.proof and v.goals == ("⊢ 1 + 1 = 2",)


def test_the_conversation_carries_each_finished_round_and_its_repair_turn():
    config = load_config()
    s = SampleRun(PROBLEM, 0, 0)
    first = conversation(s, config)
    assert first[-1]["role"] == "user" and "theorem p : 1 + 1 = 2" in first[-1]["content"]
    s.next_round(lean_error_round())
    again = conversation(s, config)
    assert again[: len(first)] == first
    assert again[len(first)] == {"role": "assistant", "content": "first try"}
    assert again[-1]["role"] == "user" and "unknown tactic" in again[-1]["content"]
    assert len(again) == len(first) + 2


def test_an_answer_is_a_candidate_or_the_round_s_verdict():
    found = read_answer(Answer(text=CODE), PROBLEM)
    assert isinstance(found, Candidate) and "norm_num" in found.proof
    failed = read_answer(Answer(text="", error="HTTP 500"), PROBLEM)
    assert failed == Verdict(VerdictKind.PROVER_ERROR, detail="HTTP 500")
    cut = read_answer(Answer(text=CODE, finish_reason="length"), PROBLEM)
    assert cut.kind is VerdictKind.TRUNCATED and "prover.max_tokens" in cut.detail
    outgrown = Answer(text="", finish_reason="length", note="the conversation outgrew it")
    assert read_answer(outgrown, PROBLEM).detail == "the conversation outgrew it"
    assert (
        read_answer(Answer(text="I think it follows from arithmetic."), PROBLEM).kind
        is VerdictKind.NO_PROOF
    )


def test_the_record_s_line_holds_the_round_and_its_sampling():
    config = load_config(
        None, ["prover.price_prompt_per_mtok=1", "prover.price_completion_per_mtok=1"]
    )
    s = SampleRun(PROBLEM, 2, 0, retries=1, prover_s=1.23456)
    s.answer = Answer(text=CODE, prompt_tokens=500_000, completion_tokens=500_000)
    s.candidate = Candidate(proof="by\n  norm_num")
    messages = (LeanMessage("warning", 2, 0, "unused"),)
    verdict = Verdict(VerdictKind.PROVED, messages=messages, seconds=0.5, checked_file="FILE")
    a = make_attempt(s, verdict, config, check_s=9.0)
    assert (a.key, a.verdict, a.split, a.infra_retries) == (("p", 2, 0), "proved", "test", 1)
    assert (a.answer, a.proof, a.cost, a.prover_s, a.check_s) == (CODE, "FILE", 1.0, 1.235, 0.5)
    assert a.messages == [m.to_json() for m in messages] and a.time
    assert (a.model, a.max_tokens) == (config.prover.model, config.prover.max_tokens)
    # no checked file (nothing reached Lean): the candidate's proof, the caller's time
    a = make_attempt(s, Verdict(VerdictKind.CHECKER_ERROR, detail="crashed"), config, 2.0)
    assert (a.proof, a.check_s, a.error) == ("by\n  norm_num", 2.0, "crashed")


def test_only_an_outgrown_conversation_ends_its_sample_with_rounds_to_spare():
    config = load_config(None, ["search.repair_rounds=1"])
    outgrown = Verdict(VerdictKind.TRUNCATED, detail="outgrew")
    s = SampleRun(PROBLEM, 0, 0, answer=Answer(text="", finish_reason="length", note="outgrew"))
    assert make_attempt(s, outgrown, config).ends_sample
    s.round = 1  # the last round: nothing to end early
    assert not make_attempt(s, outgrown, config).ends_sample
    s = SampleRun(PROBLEM, 0, 0, answer=Answer(text="", finish_reason="length"))
    assert not make_attempt(s, Verdict(VerdictKind.TRUNCATED), config).ends_sample


def test_the_next_round_starts_clean():
    s = SampleRun(PROBLEM, 0, 0, retries=2, answer=Answer(text="x"), prover_s=3.0)
    s.candidate = Candidate(proof="by\n  simp")
    a = lean_error_round()
    s.next_round(a)
    assert (s.round, s.history, s.retries, s.answer, s.candidate, s.prover_s) == (
        1,
        [a],
        0,
        None,
        None,
        0.0,
    )


def test_check_s_is_lean_s_time_and_the_wait_for_a_free_process_is_queue_s():
    """Two checks, one Lean process: the second waits for the first. Its `check_s` is Lean's
    time on it, not the wait, which is recorded as `queue_s`."""
    import asyncio

    from harness.attempt import check
    from harness.types import LeanJobResult

    lean_s = 0.3

    class OneProcess:
        def __init__(self) -> None:
            self.lock = asyncio.Lock()

        async def run(self, job):
            async with self.lock:  # a free process, first in, first out
                await asyncio.sleep(lean_s)
                return LeanJobResult(outcome="timeout", seconds=lean_s, error="timed out")

    config = load_config()

    async def go():
        checker = OneProcess()
        runs = [SampleRun(PROBLEM, i, 0) for i in range(2)]
        for s in runs:
            s.candidate = read_answer(Answer(text=CODE), PROBLEM)
        results = await asyncio.gather(*(check(s, checker, config) for s in runs))
        return [
            make_attempt(s, verdict, config, elapsed)
            for s, (verdict, elapsed) in zip(runs, results, strict=True)
        ]

    first, second = asyncio.run(go())
    assert first.verdict is VerdictKind.TIMEOUT and second.verdict is VerdictKind.TIMEOUT
    for a in (first, second):
        assert lean_s - 0.05 <= a.check_s < lean_s + 0.12
    assert first.to_json()["queue_s"] < 0.1
    assert second.to_json()["queue_s"] >= lean_s - 0.05
