"""What remains to run, from what the record already holds; pure.

A sample is a conversation of up to `rounds` rounds (1 + `search.repair_rounds`). Given the
effective line of each recorded round (`record.RecordIndex`), a sample is finished when a round
proved, when a round ended it early (`Attempt.ends_sample`), or when every round is recorded;
otherwise it continues at its first round that is missing or whose line is an infrastructure
failure (retried), with the rounds before it as its conversation. With `stop_on_success`, a
problem with a proved round has nothing left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from harness.config import SearchConfig
from harness.record import IndexEntry
from harness.types import VerdictKind

__all__ = ["SampleWork", "sample_work", "problem_work", "Plan"]

# sample -> round -> the round's effective line
Recorded = Mapping[int, Mapping[int, IndexEntry]]


@dataclass(frozen=True)
class SampleWork:
    """A sample with rounds left: the round to run next, and where its finished rounds are."""

    sample: int
    round: int
    offsets: tuple[int, ...] = ()  # record offsets of rounds 0 .. round-1, in order


def sample_work(sample: int, recorded: Mapping[int, IndexEntry], rounds: int) -> SampleWork | None:
    """The work left in one sample (round -> its effective line), or None when it is finished."""
    offsets: list[int] = []
    for rnd in range(rounds):
        entry = recorded.get(rnd)
        if entry is None or entry.verdict.is_infrastructure:
            return SampleWork(sample, rnd, tuple(offsets))  # not done, or to retry
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
        last: Mapping[tuple[str, int, int], IndexEntry],
        *,
        samples: int,
        rounds: int,
        stop_on_success: bool = False,
    ) -> None:
        self.samples = samples
        self.rounds = rounds
        self.stop_on_success = stop_on_success
        self._recorded: dict[str, dict[int, dict[int, IndexEntry]]] = {}
        for (problem, sample, rnd), entry in last.items():
            self._recorded.setdefault(problem, {}).setdefault(sample, {})[rnd] = entry

    @classmethod
    def of(cls, last: Mapping[tuple[str, int, int], IndexEntry], search: SearchConfig) -> Plan:
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
