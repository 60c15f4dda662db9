"""A decomposed problem's lines as the report shows them: per sample, each sketch round with
its verdict, the accepted sketch's holes with their outcome, and the composed proof.

search.strategy decompose records a sample as a tree (harness.types.Attempt): sketch rounds
(stage "sketch", `round` = the sketch round), the subgoal lines of an accepted sketch (stage
"subgoal", `sketch` = its round, `subgoal` = the hole), and one compose line per accepted sketch
(stage "compose", `sketch`). The tree is rebuilt here from those fields; pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.types import Attempt, VerdictKind

__all__ = [
    "HoleView",
    "SketchView",
    "SampleTree",
    "accepted_sketch",
    "decomposed",
    "sample_trees",
    "tree_order",
]

_STAGE_RANK = {"whole": 0, "sketch": 0, "subgoal": 1, "compose": 2}


def tree_order(a: Attempt) -> tuple[int, ...]:
    """A sort key that lists a sample's lines as its tree reads: each sketch round, then its
    holes' lines (hole, sample, round), then its composed proof. Whole rounds: (sample, round)."""
    k = a.round if a.stage in ("whole", "sketch") else (a.sketch or 0)
    rank = _STAGE_RANK.get(a.stage, 3)
    return (a.sample, k, rank, a.subgoal or 0, a.subsample or 0, a.round)


def accepted_sketch(a: Attempt) -> bool:
    """Lean accepted the sketch with only `sorry` holes: its holes go to the prover."""
    return a.stage == "sketch" and a.verdict is VerdictKind.SORRY and a.rule == "sketch"


def decomposed(lines: Iterable[Attempt]) -> bool:
    """Whether a problem's lines hold a decomposition (any line not a whole-proof round)."""
    return any(a.stage != "whole" for a in lines)


@dataclass
class HoleView:
    """One hole of an accepted sketch and what became of it."""

    index: int
    goal: str
    lemma: str
    lines: list[Attempt] = field(default_factory=list)  # its subgoal lines, in tree order

    @property
    def outcome(self) -> str:
        """proved (a line of it proved), failed (lines, none proved) or not tried (no line)."""
        if not self.lines:
            return "not tried"
        if any(a.verdict is VerdictKind.PROVED for a in self.lines):
            return "proved"
        return "failed"

    @property
    def verdicts(self) -> str:
        """`lean_error 1, proved 1`: its lines by verdict (`-`: none)."""
        kinds: dict[str, int] = {}
        for a in self.lines:
            kinds[a.verdict.value] = kinds.get(a.verdict.value, 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "-"


@dataclass
class SketchView:
    """One sketch round of a sample; for an accepted sketch, its holes and composed proof."""

    line: Attempt
    holes: list[HoleView] = field(default_factory=list)
    compose: Attempt | None = None

    @property
    def accepted(self) -> bool:
        return accepted_sketch(self.line)


@dataclass
class SampleTree:
    sample: int
    sketches: list[SketchView] = field(default_factory=list)
    # lines whose sketch round has no line of its own (a record cut short); the report shows
    # their composed proofs, and counts them all in the problem's verdicts
    orphans: list[Attempt] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def sample_trees(lines: Iterable[Attempt]) -> list[SampleTree]:
    """A problem's decomposition lines (whole rounds are left out), one tree per sample."""
    samples: dict[int, SampleTree] = {}
    sketches: dict[tuple[int, int], SketchView] = {}
    rest: list[Attempt] = []
    for a in sorted((a for a in lines if a.stage != "whole"), key=tree_order):
        tree = samples.setdefault(a.sample, SampleTree(a.sample))
        if a.stage == "sketch":
            view = SketchView(a)
            for i, hole in enumerate(a.holes):
                hole = hole if isinstance(hole, dict) else {}
                view.holes.append(HoleView(i, _text(hole.get("goal")), _text(hole.get("lemma"))))
            sketches[(a.sample, a.round)] = view
            tree.sketches.append(view)
        else:
            rest.append(a)
    for a in rest:  # in tree order, so each hole's lines stay in order
        view = sketches.get((a.sample, a.sketch or 0))
        if view is None:
            samples[a.sample].orphans.append(a)
        elif a.stage == "compose":
            view.compose = a
        else:
            index = a.subgoal or 0
            while len(view.holes) <= index:  # a hole the sketch line does not list
                view.holes.append(HoleView(len(view.holes), "", ""))
            view.holes[index].lines.append(a)
    return [samples[s] for s in sorted(samples)]
