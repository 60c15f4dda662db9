"""The data that crosses module boundaries: frozen dataclasses and the verdict vocabulary.

Data flows one way: suite -> prompt -> answer -> candidate -> verdict -> attempt -> report.
Every noun of that flow is defined here, once, with plain `to_json`/`from_json` where it is
written to disk. Behaviour lives in the modules that use these types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

__all__ = [
    "VerdictKind",
    "SuiteSource",
    "Problem",
    "Suite",
    "ChatMessage",
    "Answer",
    "Candidate",
    "NoProof",
    "LeanMessage",
    "Sorry",
    "Hole",
    "CommandResult",
    "LeanJob",
    "LeanJobResult",
    "Verdict",
    "Attempt",
    "Summary",
]


class VerdictKind(StrEnum):
    """The record's vocabulary: what became of one round. Written once, here."""

    PROVED = "proved"
    LEAN_ERROR = "lean_error"
    SORRY = "sorry"
    TIMEOUT = "timeout"
    REJECTED = "rejected"
    NO_PROOF = "no_proof"
    TRUNCATED = "truncated"
    PROVER_ERROR = "prover_error"
    CHECKER_ERROR = "checker_error"

    @property
    def is_infrastructure(self) -> bool:
        """Failures of our machinery, not of the model: retried, never fed back as repair material."""
        return self in (VerdictKind.PROVER_ERROR, VerdictKind.CHECKER_ERROR)


# ---------------------------------------------------------------------------------------------
# Suites


@dataclass(frozen=True)
class SuiteSource:
    """Where a suite came from, pinned well enough that results are comparable."""

    suite: str  # catalogue name ("minif2f-test") or the path the user gave
    variant: str | None = None  # e.g. "yangky11/miniF2F-lean4"
    commit: str | None = None
    sha256: str | None = None  # of the file (or of the sorted per-file digests of a directory)
    lean_toolchain: str | None = None  # the Lean version the suite was written for
    licence: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteSource:
        """Tolerant: unknown keys are ignored, a missing name reads as ""."""
        known = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        return cls(**{"suite": "", **known})


@dataclass(frozen=True)
class Problem:
    """One theorem to prove.

    The file Lean checks is `header + context + statement + proof`, where `statement` is the
    suite's theorem verbatim up to and including `:=` (normalised: no trailing `by`/`sorry`).
    """

    name: str  # unique within its suite (repeats become name#2, name#3, ...)
    header: str  # imports, options, opens; ends with a newline
    statement: str  # "theorem foo ... :=" verbatim from the suite, trailing proof removed
    split: str | None = None
    informal: str | None = None
    context: str = ""  # suite declarations between header and theorem (answer-hole abbrevs, defs)
    answer_hole: bool = (
        False  # context holds `abbrev ..._solution ... := sorry` for the model to fill
    )
    origin: str = ""  # "path:line" where the statement was read
    theorem_name: str = ""  # the declaration name in `statement` (name without the #k suffix)
    # the ground-truth `-- answer` comment after an answer hole (kept out of `context` so the
    # model never sees it; a report checks a model's answer against it)
    answer_reference: str | None = None

    @property
    def decl_name(self) -> str:
        return self.theorem_name or self.name.split("#", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Problem:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Suite:
    source: SuiteSource
    problems: tuple[Problem, ...]

    def __len__(self) -> int:
        return len(self.problems)


# ---------------------------------------------------------------------------------------------
# Prover side

ChatMessage = dict[str, str]  # {"role": ..., "content": ...}: the wire format itself


@dataclass(frozen=True)
class Answer:
    """One completion from the prover, or the reason there is none."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cost: float | None = None
    error: str | None = None  # set for a prover_error: what went wrong, in one line
    retries: int = 0
    # why an answer without error is what it is, in one line; set when the conversation
    # outgrew the model's context (HTTP 400): finish_reason "length", empty text
    note: str | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass(frozen=True)
class Candidate:
    """What extraction found in an answer: the proof to splice after the original statement."""

    proof: str  # text that follows the suite's `:=` (e.g. "by\n  norm_num")
    aux: str = ""  # auxiliary declarations the model put before its main theorem
    preamble: str = ""  # the answer's own imports/options/opens before its first declaration
    answer_fill: str | None = None  # for answer-hole problems: the model's value for the `abbrev`
    note: str | None = None  # how it was found, for humans
    statement: str = ""  # the model's own statement through `:=`, for display only (never checked)


@dataclass(frozen=True)
class NoProof:
    reason: str


# ---------------------------------------------------------------------------------------------
# Lean side


@dataclass(frozen=True)
class LeanMessage:
    severity: str  # "error" | "warning" | "info" | "trace"
    line: int  # 1-based
    column: int  # 0-based codepoints
    text: str
    end_line: int | None = None
    end_column: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LeanMessage:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Sorry:
    line: int | None
    column: int | None
    goal: str
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True)
class Hole:
    """A `sorry` of an accepted proof sketch, as Lean reported it: where it is in the sketch's
    extracted proof (string offsets) and the goal Lean had there (hypotheses, then `⊢ target`)."""

    start: int
    end: int
    goal: str


@dataclass(frozen=True)
class CommandResult:
    """Lean's reply to one command of a job. Positions are relative to the command's own text."""

    messages: tuple[LeanMessage, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    env: int | None = None
    repl_error: str | None = None  # a REPL-level {"message": ...} reply

    @property
    def errors(self) -> tuple[LeanMessage, ...]:
        return tuple(m for m in self.messages if m.severity == "error")


@dataclass(frozen=True)
class LeanJob:
    """Work for the checker: commands run one after another, each in the environment the
    previous one left, the first in the environment of `header`.

    `audits` are the harness's own commands (axiom audit, statement fidelity). They run after
    `commands` in the environment they leave; the one-shot backend runs them from a second,
    trusted file that imports the compiled commands, so model text can never suppress them.
    """

    header: str
    commands: tuple[str, ...]
    audits: tuple[str, ...] = ()
    timeout_s: float | None = None  # None: the config's lean.timeout_s
    confirm: ConfirmJob | None = None  # where the backend can: confirm in a fresh process


@dataclass(frozen=True)
class ConfirmJob:
    """Confirmation of a job's last environment in a Lean process that never ran model text:
    the model's environment is pickled where it was built and replayed (kernel-checked) there."""

    context: str  # the suite's context, as the suite wrote it
    statement: str  # the suite's statement under a reserved name, `:= sorry`
    audits: tuple[str, ...]  # run in the replayed environment after `statement`
    compare: str  # run after `statement` in both environments: the outputs must be equal


@dataclass(frozen=True)
class Confirmation:
    outcome: str  # "ok" | "timeout" | "checker_error"
    clean: tuple[CommandResult, ...] = ()  # context + statement, compare: no model text there
    replay: CommandResult | None = None  # the model's environment, unpickled (kernel replay)
    model: tuple[CommandResult, ...] = ()  # statement, audits, compare: in the replayed env
    error: str | None = None


@dataclass(frozen=True)
class LeanJobResult:
    outcome: str  # "ok" (Lean answered every command) | "timeout" | "checker_error"
    commands: tuple[CommandResult, ...] = ()
    audits: tuple[CommandResult, ...] = ()
    seconds: float = 0.0
    error: str | None = None  # for checker_error/timeout: what happened, in one line
    header_messages: tuple[LeanMessage, ...] = ()
    checked_by: str | None = None  # a remote checker's URL ("kimina <url>"); None: local Lean
    waited_s: float = 0.0  # in line for a free Lean process (REPL pool), before `seconds`
    # the environment the commands left, pickled, when the job asked for confirmation and Lean
    # accepted: `checker.confirm(job, pickle)` replays it in a process that never ran model text
    pickle: bytes | None = field(default=None, repr=False)


# ---------------------------------------------------------------------------------------------
# Verdicts and the record


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    messages: tuple[LeanMessage, ...] = ()  # in the coordinates of `checked_file`
    rule: str | None = None  # the screen/audit rule that fired (rejected, sorry by the screen)
    where: str | None = None  # the offending text, or "line:col"
    seconds: float = 0.0
    native: bool = False  # proved with native_decide allowed (compiler-trust axioms)
    checked_file: str = (
        ""  # the whole file as the user would see it: header + aux + statement + proof
    )
    goals: tuple[str, ...] = ()  # unsolved goals / sorry goals, when Lean gave them
    detail: str | None = None  # one line for infrastructure errors
    checked_by: str | None = None  # a remote checker's URL ("kimina <url>"); None: local Lean
    # the checking process said proved, the fresh confirming process did not (the verdict is
    # the confirmation's; `detail` gives both)
    repl_disagreed: bool = False
    holes: tuple[Hole, ...] = ()  # a sketch Lean accepted with only `sorry`s: its holes
    lean_checks: int = 0  # Lean jobs run to reach this verdict


@dataclass
class Attempt:
    """One finished round: one line of attempts.jsonl. (problem, sample, round) is the key."""

    problem: str
    sample: int
    round: int
    verdict: VerdictKind  # its string value in the file; a string given here is converted
    rule: str | None = None
    where: str | None = None
    answer: str = ""
    finish_reason: str | None = None
    proof: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    prover_s: float = 0.0
    check_s: float = 0.0
    model: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    split: str | None = None
    native: bool = False
    error: str | None = None
    time: str = ""  # ISO timestamp when the round finished
    goals: list[str] = field(default_factory=list)  # unsolved goals: repair material on resume
    infra_retries: int = 0  # prover_error/checker_error retries this round took before its verdict
    # the sample ended here though repair rounds remained (its conversation outgrew the context)
    ends_sample: bool = False
    queue_s: float = 0.0  # the check's wait for a free Lean process (not in check_s)
    checked_by: str | None = None  # a remote checker's URL: not confirmed in a fresh process
    repl_disagreed: bool = False  # the checking process said proved; the confirmation did not
    # Decomposition (search.strategy: decompose; harness/decompose.py). A sample is a tree:
    #   sketch rounds (the decomposer's conversation; `round` is the sketch round)
    #   -> subgoals of the accepted sketch (`sketch`, `subgoal`), each with its own samples
    #      (`subsample`) of rounds (`round`)
    #   -> one compose line (`sketch`): the composed proof, verified as a whole proof.
    # Only "whole" and "compose" lines decide a problem (`decides`); a proved subgoal never does.
    stage: str = "whole"  # "whole" | "sketch" | "subgoal" | "compose"
    sketch: int | None = None  # subgoal/compose lines: the round of the sketch they belong to
    subgoal: int | None = None  # subgoal lines: which hole of the sketch (0-based, text order)
    subsample: int | None = None  # subgoal lines: the subgoal's sample
    # an accepted sketch: its holes, as Lean reported them ({"start", "end"}: offsets in the
    # extracted proof; "goal": Lean's goal; "lemma": the statement the prover is shown)
    holes: list[dict[str, Any]] = field(default_factory=list)
    lean_checks: int = 0  # Lean jobs this line ran (0: refused before Lean, or no answer)

    def __post_init__(self) -> None:
        if self.verdict.__class__ is not VerdictKind:
            self.verdict = VerdictKind(self.verdict)  # ValueError: not a verdict

    @property
    def key(self) -> tuple[Any, ...]:
        """Unique per line of a run; a repeated key supersedes (a retried round)."""
        if self.stage == "whole":
            return (self.problem, self.sample, self.round)
        return (
            self.problem,
            self.sample,
            self.round,
            self.stage,
            self.sketch,
            self.subgoal,
            self.subsample,
        )

    @property
    def decides(self) -> bool:
        """Whether this line's `proved` proves its problem (a subgoal's or a sketch's never does)."""
        return self.stage in ("whole", "compose")

    @property
    def node(self) -> str:
        """This line's id in the problem's tree: problem/s0, then k1 (sketch round), g2
        (subgoal), j0 (its sample), r1 (round) or `compose`."""
        parts = [self.problem, f"s{self.sample}"]
        if self.stage == "whole":
            parts.append(f"r{self.round}")
        elif self.stage == "sketch":
            parts.append(f"k{self.round}")
        elif self.stage == "compose":
            parts += [f"k{self.sketch}", "compose"]
        else:
            parts += [f"k{self.sketch}", f"g{self.subgoal}", f"j{self.subsample}", f"r{self.round}"]
        return "/".join(parts)

    @property
    def parent(self) -> str:
        """The node this line hangs from: the sample, the sketch, or the subgoal."""
        base = f"{self.problem}/s{self.sample}"
        if self.stage == "subgoal":
            return f"{base}/k{self.sketch}/g{self.subgoal}"
        if self.stage == "compose":
            return f"{base}/k{self.sketch}"
        return base

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        if self.stage != "whole":  # ids for readers of the file; rebuilt, never read back
            data["id"] = self.node
            data["parent"] = self.parent
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attempt:
        """Unknown keys are ignored (lines of other versions); a missing key is a TypeError
        and an unknown verdict a ValueError."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Summary:
    suite: str
    problems: int
    proved: int
    attempts: int
    pass_at: dict[str, float]
    by_verdict: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    prover_s: float = 0.0  # summed over rounds
    check_s: float = 0.0
    by_split: dict[str, dict[str, Any]] = field(default_factory=dict)  # {proved, problems, pass_at}
    by_category: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = True  # False: the run stopped early (budget, error); running again resumes
    # What the run spent, to compare strategies at equal budget (harness.metrics). Every field
    # has a default, so summary.json files written before them still read.
    strategy: str = "whole"  # the run's search.strategy
    prover_calls: int = 0  # answered prover requests: whole and subgoal lines
    decomposer_calls: int = 0  # answered decomposer requests: sketch lines
    lean_checks: int = 0  # Lean jobs run (records older than the field count 0)
    by_stage: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> verdict -> lines
    # calls (prover + decomposer), tokens (prompt + completion), cost, lean_checks: the run's
    # totals over its problems, and over the problems it proved (None: none proved)
    per_problem: dict[str, float | None] = field(default_factory=dict)
    per_solved: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        """Tolerant: unknown keys are ignored, a key an older summary.json lacks takes its
        default."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
