"""How far a run may go: its token and cost budgets and `search.stop_on_success`; pure.

The budget counts what the record already holds (a resumed run continues the count) plus every
answer received since. It is checked before each request: once reached, no new request is
sent, the answers in flight are still checked and recorded, and the run stops (resumable with
a larger budget).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.config import ProverConfig, SearchConfig
from harness.types import Answer, Attempt

__all__ = ["Budget", "price"]


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
