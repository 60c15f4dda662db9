"""The engine's scheduling, with an in-process prover and checker: retries, stop_on_success,
the cap on samples in flight. (End to end over HTTP and the REPL double: test_run_e2e.py.)"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

import harness.engine as engine_module
from harness.attempt import SampleRun
from harness.config import load_config
from harness.engine import Engine
from harness.plan import Budget, Plan
from harness.record import RunRecord
from harness.types import Answer, Problem, Verdict, VerdictKind

pytestmark = pytest.mark.timeout(30)

CODE = "```lean4\ntheorem {name} : True := by\n  trivial\n```"


def problems(n: int) -> list[Problem]:
    return [Problem(name=f"p{i}", header="", statement=f"theorem p{i} : True :=") for i in range(n)]


class Prover:
    """Answers with code for the problem named in the prompt, or what `answer` says."""

    def __init__(self, answer: Callable[[str, int], Answer] | None = None) -> None:
        self.answer = answer
        self.asked: list[tuple[str, int]] = []  # (problem, round)

    async def complete(self, messages: list[dict[str, str]]) -> Answer:
        prompt = "\n".join(m["content"] for m in messages if m["role"] != "assistant")
        name = re.search(r"theorem (p\d+)", prompt).group(1)
        rnd = sum(m["role"] == "assistant" for m in messages)
        self.asked.append((name, rnd))
        await asyncio.sleep(0.001)
        if self.answer is not None:
            return self.answer(name, rnd)
        return Answer(text=CODE.format(name=name))


class Progress:
    def __init__(self) -> None:
        self.rounds = 0
        self.done: list[bool] = []

    def attempt(self, proved: bool, tokens: int) -> None:
        self.rounds += 1

    def problem_done(self, proved: bool) -> None:
        self.done.append(proved)


def run_engine(tmp_path, monkeypatch, settings, prover, verdicts, n=1):
    """Run the engine over n problems; `verdicts(sample_run)` is Lean's verdict for a round."""

    async def check(s: SampleRun, checker, config):
        await asyncio.sleep(0.001)
        return verdicts(s), 0.0

    monkeypatch.setattr(engine_module, "check", check)
    config = load_config(None, ["lean.workers=1", *settings])
    record = RunRecord(tmp_path)
    plan = Plan.of({}, config.search)
    progress = Progress()

    async def go() -> Engine:
        engine = Engine(
            config, record, plan, Budget.of(config.search), problems(n), progress, print
        )
        with record:
            await engine.run(prover, None)
        return engine

    engine = asyncio.run(go())
    return engine, list(record.iter_effective()), progress


def test_a_checker_error_is_retried_then_recorded_and_ends_its_sample(tmp_path, monkeypatch):
    checks = []

    def crashing(s: SampleRun) -> Verdict:
        checks.append(s.retries)
        return Verdict(VerdictKind.CHECKER_ERROR, detail="REPL crashed")

    prover = Prover()
    settings = ["search.samples=1", "search.repair_rounds=2", "search.infra_retries=2"]
    _, lines, progress = run_engine(tmp_path, monkeypatch, settings, prover, crashing)
    assert checks == [0, 1, 2]  # the same answer, checked three times
    assert prover.asked == [("p0", 0)]  # no repair round, no new request
    ((line),) = lines
    assert (line.verdict, line.infra_retries, line.error) == ("checker_error", 2, "REPL crashed")
    assert progress.done == [False]


def test_a_prover_error_is_asked_again_then_recorded_never_repaired(tmp_path, monkeypatch):
    prover = Prover(lambda name, rnd: Answer(text="", error="HTTP 503"))
    settings = ["search.samples=2", "search.repair_rounds=1", "search.infra_retries=1"]
    _, lines, _ = run_engine(tmp_path, monkeypatch, settings, prover, lambda s: None)
    assert sorted(prover.asked) == [("p0", 0)] * 4  # two samples, each asked twice
    assert [(a.sample, a.verdict, a.infra_retries) for a in sorted(lines, key=lambda a: a.key)] == [
        (0, "prover_error", 1),
        (1, "prover_error", 1),
    ]


def test_a_sample_stops_at_its_first_proof_with_rounds_to_spare(tmp_path, monkeypatch):
    prover = Prover()

    def proved_at_round_1(s: SampleRun) -> Verdict:
        kind = VerdictKind.PROVED if s.round == 1 else VerdictKind.LEAN_ERROR
        return Verdict(kind, checked_file=f"round {s.round}")

    settings = ["search.samples=1", "search.repair_rounds=3"]
    _, lines, progress = run_engine(tmp_path, monkeypatch, settings, prover, proved_at_round_1)
    assert prover.asked == [("p0", 0), ("p0", 1)]
    assert [(a.round, a.verdict) for a in lines] == [(0, "lean_error"), (1, "proved")]
    assert progress.done == [True] and progress.rounds == 2


def test_stop_on_success_runs_a_problem_s_samples_one_after_another(tmp_path, monkeypatch):
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}

    def answer(name: str, rnd: int) -> Answer:
        in_flight[name] = in_flight.get(name, 0) + 1
        most[name] = max(most.get(name, 0), in_flight[name])
        return Answer(text=CODE.format(name=name))

    def verdict(s: SampleRun) -> Verdict:
        in_flight[s.problem.name] -= 1
        # p0 is proved by its third sample; the others never
        if s.problem.name == "p0" and s.sample == 2:
            return Verdict(VerdictKind.PROVED)
        return Verdict(VerdictKind.SORRY)

    settings = [
        "search.samples=4",
        "search.repair_rounds=0",
        "search.stop_on_success=true",
        "prover.concurrency=4",
    ]
    _, lines, progress = run_engine(tmp_path, monkeypatch, settings, Prover(answer), verdict, n=3)
    assert most == {"p0": 1, "p1": 1, "p2": 1}  # never two samples of a problem at once
    assert sorted((a.problem, a.sample) for a in lines if a.problem == "p0") == [
        ("p0", 0),
        ("p0", 1),
        ("p0", 2),
    ]
    assert sum(a.problem == "p1" for a in lines) == 4
    assert sorted(progress.done) == [False, False, True]


def test_samples_in_flight_never_exceed_the_cap(tmp_path, monkeypatch):
    engines: list[Engine] = []
    most = 0

    def answer(name: str, rnd: int) -> Answer:
        nonlocal most
        most = max(most, engines[0].active) if engines else most
        return Answer(text=CODE.format(name=name))

    original = Engine.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        engines.append(self)

    monkeypatch.setattr(Engine, "__init__", remember)
    settings = ["search.samples=8", "search.repair_rounds=0", "prover.concurrency=1"]
    engine, lines, _ = run_engine(
        tmp_path, monkeypatch, settings, Prover(answer), lambda s: Verdict(VerdictKind.SORRY), n=10
    )
    assert len(lines) == 80
    assert most == engine.cap == 2 * (1 + 4 * 1) + 2
