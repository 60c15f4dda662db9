"""The exploit corpus: answers as files, each with its expected outcome on its first line.

    -- expect: <outcome> <rule> [| soundness.md row N] [| layer: LAYER] [| suite: STATEMENT]
               [| context: DECLS] [| any note]

outcome: `sorry` / `rejected` (the screen must refuse with that rule), `no_proof` (extraction
finds no proof of the theorem, so nothing reaches Lean), `dropped` (extraction ends the proof
before the text), `needs_lean` (only Lean can tell: the screen lets it through, the suite's
statement reaches Lean verbatim, and LAYER, one of NEEDS_LEAN_LAYERS, must refuse it),
`proved` (must-accept: the screen must let it through).

layer: the layer that must stop the case. Screen outcomes default to `screen`, `no_proof` and
`dropped` to `extraction`; a `needs_lean` case must name its layer.

Every case goes through the path a run takes: extract_proof -> splice -> screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.config import SoundnessConfig
from harness.extract import extract_proof
from harness.soundness.screen import Rejection, screen
from harness.soundness.splice import STANDARD_HEADER, Spliced, splice, split_lean_file
from harness.soundness.verify import screened_candidate
from harness.types import Candidate, NoProof, Problem

CORPUS = Path(__file__).resolve().parent / "corpus"
# the layers after the screen that a `needs_lean` case may name
NEEDS_LEAN_LAYERS = ("statement comparison", "axiom audit", "lean")
_DEFAULT_LAYER = {"sorry": "screen", "rejected": "screen", "no_proof": "extraction"}
_DEFAULT_LAYER |= {"dropped": "extraction", "proved": ""}


@dataclass(frozen=True)
class Case:
    path: Path
    outcome: str
    rule: str
    row: int | None
    layer: str  # the layer that must stop it ("" for must-accept cases)
    problem: Problem
    answer: str  # the answer text (without the expectation line)

    @property
    def name(self) -> str:
        return self.path.stem


def _problem(answer: str, suite_statement: str | None, context: str) -> Problem:
    _, theorems = split_lean_file(answer)
    named = [t.problem for t in theorems if t.problem.decl_name == "t"]
    if suite_statement is None:
        # the suite's statement is the answer's own (as written), else the usual false one
        suite_statement = named[-1].statement if named else "theorem t : (2 : ℕ) + 2 = 5 :="

    return Problem(
        name="t",
        header=STANDARD_HEADER,
        statement=suite_statement,
        context=context + "\n" if context else "",
        theorem_name="t",
    )


def load_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    first, _, answer = text.partition("\n")
    assert first.startswith("-- expect: "), f"{path.name}: first line must be `-- expect: ...`"
    fields = [f.strip() for f in first.removeprefix("-- expect: ").split("|")]
    outcome, _, rule = fields[0].partition(" ")
    row = None
    layer = _DEFAULT_LAYER.get(outcome)
    suite_statement = None
    context = ""
    for f in fields[1:]:
        if f.startswith("soundness.md row "):
            row = int(f.removeprefix("soundness.md row "))
        elif f.startswith("layer: "):
            layer = f.removeprefix("layer: ")
        elif f.startswith("suite: "):
            suite_statement = f.removeprefix("suite: ")
        elif f.startswith("context: "):
            context = f.removeprefix("context: ")
    assert layer is not None, f"{path.name}: a `{outcome}` case must name its `layer:`"
    return Case(
        path, outcome, rule.strip(), row, layer, _problem(answer, suite_statement, context), answer
    )


def cases(kind: str) -> list[Case]:
    return [load_case(p) for p in sorted((CORPUS / kind).glob("*.lean"))]


def run_screen(
    problem: Problem, answer: str, config: SoundnessConfig | None = None
) -> tuple[Candidate | NoProof, Spliced | None, Rejection | None]:
    """What a run does before Lean: extract, splice, screen."""
    config = config or SoundnessConfig()
    found = extract_proof(answer, problem.decl_name)
    if isinstance(found, NoProof):
        return found, None, None
    spliced = splice(problem, found)
    return found, spliced, screen(screened_candidate(spliced, found), config, header=problem.header)
