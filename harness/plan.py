"""What remains to run, from what the record already holds, and how far the run may go; pure.

A sample is a conversation of up to `rounds` rounds (1 + `search.repair_rounds`). Given the
effective line of each recorded round (`record.RecordIndex`), a sample is finished when a round
proved, when a round ended it early (`Attempt.ends_sample`), or when every round is recorded;
otherwise it continues at its first round that is missing or whose line is an infrastructure
failure (retried: a `prover_error` round is asked again; a `checker_error` round keeps its
recorded answer and is only checked again), with the rounds before it as its conversation.
With `stop_on_success`, a problem with a proved round has nothing left.

The budget (`Budget`: `search.max_tokens`, `search.max_cost`, `stop_on_success`) counts what the
record already holds plus every answer received since. It is checked before each request: once
reached, no new request is sent, the answers in flight are still checked and recorded, and the
run stops (resumable with a larger budget).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.config import ProverConfig, SearchConfig
from harness.record import IndexEntry
from harness.types import Answer, Attempt, VerdictKind

__all__ = ["SampleWork", "sample_work", "problem_work", "Plan", "Budget", "price"]

# sample -> round -> the round's effective line
Recorded = Mapping[int, Mapping[int, IndexEntry]]


@dataclass(frozen=True)
class SampleWork:
    """A sample with rounds left: the round to run next, and where its finished rounds are."""

    sample: int
    round: int
    offsets: tuple[int, ...] = ()  # record offsets of rounds 0 .. round-1, in order
    # the round's own line when its check failed (checker_error): its answer is checked again,
    # not asked for again
    recheck: int | None = None


def sample_work(sample: int, recorded: Mapping[int, IndexEntry], rounds: int) -> SampleWork | None:
    """The work left in one sample (round -> its effective line), or None when it is finished."""
    offsets: list[int] = []
    for rnd in range(rounds):
        entry = recorded.get(rnd)
        if entry is None or entry.verdict.is_infrastructure:  # not done, or to retry
            again = entry.offset if entry and entry.verdict is VerdictKind.CHECKER_ERROR else None
            return SampleWork(sample, rnd, tuple(offsets), again)
        offsets.append(entry.offset)
        if entry.verdict is VerdictKind.PROVED or entry.ends_sample:
            return None
    return None  # every round recorded


def proved(recorded: Recorded) -> bool:
    return any(
        entry.verdict is VerdictKind.PROVED
        for by_round in recorded.values()
        for entry in by_round.values()
    )


def problem_work(
    recorded: Recorded, *, samples: int, rounds: int, stop_on_success: bool = False
) -> list[SampleWork]:
    """The work left in one problem (sample -> round -> effective line), by sample."""
    if stop_on_success and proved(recorded):
        return []
    work = []
    for sample in range(samples):
        left = sample_work(sample, recorded.get(sample, {}), rounds)
        if left is not None:
            work.append(left)
    return work


class Plan:
    """The record's rounds grouped by problem, and what remains of each problem."""

    def __init__(
        self,
        last: Mapping[tuple[Any, ...], IndexEntry],
        *,
        samples: int,
        rounds: int,
        stop_on_success: bool = False,
    ) -> None:
        self.samples = samples
        self.rounds = rounds
        self.stop_on_success = stop_on_success
        self._recorded: dict[str, dict[int, dict[int, IndexEntry]]] = {}
        for key, entry in last.items():
            if len(key) != 3:  # a decomposition's line (harness/decompose.py plans those)
                continue
            problem, sample, rnd = key
            self._recorded.setdefault(problem, {}).setdefault(sample, {})[rnd] = entry

    @classmethod
    def of(cls, last: Mapping[tuple[Any, ...], IndexEntry], search: SearchConfig) -> Plan:
        """The plan of a search configured as `search`, from the record's index."""
        return cls(
            last,
            samples=search.samples,
            rounds=1 + search.repair_rounds,
            stop_on_success=search.stop_on_success,
        )

    def work(self, problem: str) -> list[SampleWork]:
        return problem_work(
            self._recorded.get(problem, {}),
            samples=self.samples,
            rounds=self.rounds,
            stop_on_success=self.stop_on_success,
        )

    def proved(self, problem: str) -> bool:
        """Whether the record holds a proved round of `problem`."""
        return proved(self._recorded.get(problem, {}))


def price(answer: Answer, prover: ProverConfig) -> float | None:
    """What an answer cost: as the endpoint reported it, else from the configured prices per
    million tokens, else unknown (None)."""
    if answer.cost is not None:
        return answer.cost
    if prover.price_prompt_per_mtok is None or prover.price_completion_per_mtok is None:
        return None
    return (
        answer.prompt_tokens * prover.price_prompt_per_mtok
        + answer.completion_tokens * prover.price_completion_per_mtok
    ) / 1e6


@dataclass
class Budget:
    max_tokens: int | None = None
    max_cost: float | None = None
    stop_on_success: bool = False  # a problem's first proof spares its remaining samples
    tokens: int = 0  # spent so far, the record's attempts included
    cost: float = 0.0

    @classmethod
    def of(cls, search: SearchConfig, spent: Iterable[Attempt] = ()) -> Budget:
        """The configured budget, with what the recorded attempts `spent` already counted."""
        budget = cls(search.max_tokens, search.max_cost, search.stop_on_success)
        for a in spent:
            budget.spend(a.prompt_tokens + a.completion_tokens, a.cost)
        return budget

    def spend(self, tokens: int, cost: float | None) -> None:
        self.tokens += tokens
        self.cost += cost or 0.0

    def exhausted(self) -> str | None:
        """Why no further request may be sent, or None while the budget lasts."""
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return (
                f"token budget reached ({self.tokens:,} >= search.max_tokens {self.max_tokens:,})"
            )
        if self.max_cost is not None and self.cost >= self.max_cost:
            return f"cost budget reached (${self.cost:.4f} >= search.max_cost ${self.max_cost})"
        return None

    def wants(self, problem_proved: bool) -> bool:
        """Whether a problem's samples still deserve requests."""
        return not (self.stop_on_success and problem_proved)
