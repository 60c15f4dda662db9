"""Subgoal decomposition, `search.strategy: decompose` (DeepSeek-Prover-V2 §2.1, Figure 3).

For each problem and sample, a tree, every node of which is a line of attempts.jsonl:

    sketch    the decomposer (`decomposer.*`) writes a proof of the original statement whose
              nontrivial steps are `have name : stmt := by sorry`. Lean must accept it with only
              `sorry`s (`verify.check_sketch`: the same screen as any model text, `sorry` aside);
              its errors go back to the decomposer (`search.sketch_repair_rounds`).
    holes     each `sorry` Lean reported is a subgoal: Lean's goal there, with its whole local
              context (hypotheses, the earlier `have`s), shown to the prover as a lemma (the
              paper's form (b)) under the prover's own template.
    subgoals  each hole gets `search.subgoal_samples` samples of 1 + `subgoal_repair_rounds`
              rounds, one sample after another until one proves it; the holes run
              concurrently. A hole's proof is checked in place (`verify.verify_hole`): the
              sketch with that `sorry` replaced, so Lean elaborates the proof in the context
              it built itself and no pretty-printed goal is ever read back as Lean. Names Lean
              printed as inaccessible (`x✝`) get names in the lemma; the proof in place starts
              with `rename_i` to give them the same names.
    compose   every hole filled with its proof; the composed proof is verified like any whole
              proof (`verify.verify`: screen, splice, audits, fresh-process confirmation). Only
              this line can make the problem proved.

A sketch stops as soon as one hole has failed all its samples; with `search.stop_on_success`, a
problem stops at its first composed proof (its samples run one after another).

Resume: the record is the truth. Each conversation (the sketch's; each hole sample's) continues
at its first round that is missing or whose line is an infrastructure failure, with its
finished rounds as its history; holes already proved are not asked again; a composed proof is
checked once. Nothing already recorded is requested again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.attempt import (
    SampleRun,
    answer_of,
    check,
    conversation,
    make_attempt,
    read_answer,
)
from harness.config import Config, ProverConfig
from harness.engine import one_line
from harness.errors import ProverError
from harness.extract import extract_proof
from harness.lean_text import declarations, is_inaccessible, parse_goal
from harness.plan import Budget, price, sample_work
from harness.record import IndexEntry, RunRecord
from harness.soundness.splice import fill_hole, proof_lines
from harness.soundness.verify import check_sketch, verify, verify_hole
from harness.types import Attempt, Candidate, Hole, NoProof, Problem, Verdict, VerdictKind

__all__ = [
    "Decomposition",
    "decomposer_config",
    "subgoal_problem",
    "compose",
    "fill_one",
    "Subgoal",
]

SKETCH = "sketch"
SUBGOAL = "subgoal"
COMPOSE = "compose"


def decomposer_config(config: Config) -> ProverConfig:
    """The decomposer's endpoint and sampling: each `decomposer.*` key left null is the prover's."""
    d, p = config.decomposer, config.prover
    return dataclasses.replace(
        p,
        model=d.model or p.model,
        base_url=d.base_url or p.base_url,
        api_key_env=d.api_key_env or p.api_key_env,
        max_tokens=d.max_tokens or p.max_tokens,
        temperature=p.temperature if d.temperature is None else d.temperature,
        price_prompt_per_mtok=(
            p.price_prompt_per_mtok if d.price_prompt_per_mtok is None else d.price_prompt_per_mtok
        ),
        price_completion_per_mtok=(
            p.price_completion_per_mtok
            if d.price_completion_per_mtok is None
            else d.price_completion_per_mtok
        ),
    )


# ---------------------------------------------------------------------------------------------
# From Lean's goal to the prover's lemma, and back into the sketch


@dataclass(frozen=True)
class Subgoal:
    """A hole as the prover sees it, and what its proof needs in place."""

    problem: Problem  # the lemma as a problem: the suite's header and context, its statement
    renames: tuple[str, ...]  # names for the goal's inaccessible hypotheses, in order


def _fresh(base: str, used: set[str]) -> str:
    n = 1
    while f"{base}_{n}" in used:
        n += 1
    used.add(f"{base}_{n}")
    return f"{base}_{n}"


def _renamer(fresh: dict[str, str]) -> Callable[[str], str]:
    """Lean text with the inaccessible names of `fresh` written as their new names (`x✝`
    is not `x✝¹`), and later lines indented under the lemma's binders."""
    if not fresh:
        return lambda text: text.replace("\n", "\n    ")
    names = "|".join(re.escape(n) for n in sorted(fresh, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.'✝])(?:{names})(?![\w'✝⁰¹²³⁴⁵⁶⁷⁸⁹])")
    return lambda text: pattern.sub(lambda m: fresh[m.group()], text).replace("\n", "\n    ")


def subgoal_problem(
    problem: Problem, index: int, goal: str, sketch: Candidate | None = None
) -> Subgoal:
    """The lemma for hole `index` of `sketch` (a sketch of `problem`): its goal's hypotheses as
    binders and its target as the conclusion, after the suite's context and the sketch's own
    declarations (which the goal may mention). The statement is only shown to the prover (its proof is
    checked in place), so a goal Lean prints in a form that would not re-elaborate (`↑n`, an
    instance) costs at most that proof, never soundness."""
    name = f"{problem.decl_name.rsplit('.', 1)[-1]}_subgoal_{index + 1}"
    try:
        parsed = parse_goal(goal)
    except ValueError:
        target = goal.rsplit("⊢", 1)[-1].strip() or "False"
        statement = f"theorem {name} : {target} :="
        return Subgoal(_lemma(problem, name, statement, sketch), ())
    used = {n for h in parsed.hypotheses for n in h.names}
    fresh: dict[str, str] = {}
    for hyp in parsed.hypotheses:
        for n in hyp.names:
            if is_inaccessible(n):
                fresh[n] = _fresh(n.split("✝", 1)[0].rsplit(".", 1)[-1] or "x", used)
    renamed = _renamer(fresh)
    binders: list[str] = []
    for hyp in parsed.hypotheses:
        names = [fresh.get(n, n) for n in hyp.names]
        kind = renamed(hyp.type)
        if hyp.value is not None and hyp.value != "⋯":  # `⋯`: Lean hid the value
            binders += [f"({n} : {kind} := {renamed(hyp.value)})" for n in names]
        elif all(n.startswith("inst") and is_inaccessible(n) for n in hyp.names):
            binders += [f"[{n} : {kind}]" for n in names]
        else:
            binders.append(f"({' '.join(names)} : {kind})")
    head = f"theorem {name}" + "".join(f"\n    {b}" for b in binders)
    statement = f"{head} :\n    {renamed(parsed.target)} :="
    return Subgoal(_lemma(problem, name, statement, sketch), tuple(fresh.values()))


def _lemma(problem: Problem, name: str, statement: str, sketch: Candidate | None) -> Problem:
    context = _join(problem.context, sketch.aux) if sketch is not None else problem.context
    return Problem(
        name=f"{problem.name}/{name}",
        header=problem.header,
        statement=statement,
        split=problem.split,
        context=context,
        theorem_name=name,
    )


def _fill_lines(own: Candidate, subgoal: Subgoal) -> list[str]:
    lines = proof_lines(own.proof)
    if subgoal.renames:
        lines = [f"rename_i {' '.join(subgoal.renames)}", *lines]
    return lines


def _join(*parts: str) -> str:
    kept = [p if p.endswith("\n") else p + "\n" for p in parts if p.strip()]
    return "".join(kept)


def _declared(text: str) -> set[str]:
    return {d.name for d in declarations(text) if d.name}


def _new_declarations(aux: str, taken: set[str]) -> str:
    """`aux` without the declarations of a name already `taken` (the suite's context, the
    sketch's, an earlier hole's): a hole's proof cannot redefine what the sketch stands on
    (the answer of an answer-hole problem included), and helpers two holes share are kept
    once. Commands that declare nothing stay."""
    kept = [aux[d.start : d.end] for d in declarations(aux) if not (d.name and d.name in taken)]
    taken |= _declared(aux)
    return "".join(kept)


def compose(
    sketch: Candidate,
    holes: Iterable[Hole],
    fills: dict[int, tuple[Candidate, Subgoal]],
    context: str = "",
) -> Candidate:
    """The sketch with every hole replaced by its proof, and the holes' own auxiliary
    declarations and preambles added before the sketch's proof (see `_new_declarations`;
    `context` is the suite's)."""
    proof, shift = sketch.proof, 0
    # from the first hole on: a multi-line proof moves what follows it on its line, and the
    # next hole's column is counted on the text as it then is
    for i, hole in sorted(enumerate(holes), key=lambda ih: ih[1].start):
        own, subgoal = fills[i]
        proof, start, end = fill_hole(
            proof, hole.start + shift, hole.end + shift, _fill_lines(own, subgoal)
        )
        shift += (end - start) - (hole.end - hole.start)
    taken = _declared(context) | _declared(sketch.aux)
    owns = [fills[i][0] for i in sorted(fills)]
    return dataclasses.replace(
        sketch,
        proof=proof,
        aux=_join(sketch.aux, *(_new_declarations(o.aux, taken) for o in owns)),
        preamble=_join(sketch.preamble, *(o.preamble for o in owns)),
    )


def fill_one(
    sketch: Candidate, hole: Hole, own: Candidate, subgoal: Subgoal, context: str = ""
) -> tuple[Candidate, tuple[int, int]]:
    """The sketch with one hole filled (as `compose` would fill it), and where the fill lies
    in its proof."""
    proof, start, end = fill_hole(sketch.proof, hole.start, hole.end, _fill_lines(own, subgoal))
    taken = _declared(context) | _declared(sketch.aux)
    candidate = dataclasses.replace(
        sketch,
        proof=proof,
        aux=_join(sketch.aux, _new_declarations(own.aux, taken)),
        preamble=_join(sketch.preamble, own.preamble),
    )
    return candidate, (start, end)


def holes_of(line: Attempt) -> tuple[Hole, ...]:
    return tuple(Hole(h["start"], h["end"], h["goal"]) for h in line.holes)


def accepted(line: Attempt) -> bool:
    """A sketch line Lean accepted (with holes, or none: a whole proof to compose as it is)."""
    return line.stage == SKETCH and line.verdict is VerdictKind.SORRY and line.rule == "sketch"


# ---------------------------------------------------------------------------------------------
# The run


class _Stopped(Exception):
    """The run sends nothing more (budget, a fatal prover error): leave this node unfinished."""


class Decomposition:
    """Runs the decomposition of `problems`, resuming from `record`."""

    def __init__(
        self,
        config: Config,
        record: RunRecord,
        problems: list[Problem],
        log: Callable[[str], None],
    ) -> None:
        self.config = config
        self.search = config.search
        self.record = record
        self.problems = problems
        self.log = log
        self.budget = Budget()
        self.progress: Any = None
        self.dry = False  # finding out what is left: nothing is asked or checked
        self.left: list[Problem] | None = None  # the problems with work left (pending())
        self.sketcher_config = dataclasses.replace(config, prover=decomposer_config(config))
        self.stopped: str | None = None
        self.fatal: BaseException | None = None
        self.prover: Any = None
        self.decomposer: Any = None
        self.checker: Any = None
        # problems in flight at once; each runs its samples and their holes concurrently
        self.cap = max(1, config.prover.concurrency + 4 * config.lean.workers)
        self._recorded: dict[str, list[int]] = {}  # problem -> offsets of its effective lines
        for key, entry in record.index().last.items():
            self._recorded.setdefault(key[0], []).append(entry.offset)

    # -- stopping ----------------------------------------------------------------------------

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
            self.log(f"harness: stopping: {reason}; run the same command again to continue")

    def _may_ask(self) -> None:
        if self.stopped or self.fatal or self.dry:
            raise _Stopped
        reason = self.budget.exhausted()
        if reason:
            self.stop(reason)
            raise _Stopped

    # -- one round of a conversation ---------------------------------------------------------

    async def _round(
        self,
        s: SampleRun,
        config: Config,
        template: str,
        client: Any,
        judge: Callable[[Candidate | NoProof, Any], Awaitable[Verdict]],
        rounds: int,
        tree: dict[str, Any],
    ) -> Attempt:
        """Ask, check and record one round (infrastructure failures retried here). A round
        that comes with its answer (`s.answer`, recorded before its check failed) is only
        checked again: the answer was paid for once."""
        while True:
            if s.answer is None:
                self._may_ask()
                messages = conversation(s, config, template)
                started = time.monotonic()
                try:
                    answer = await client.complete(messages)
                except ProverError as exc:  # e.g. 401: no retry fixes it; run() raises it
                    if self.fatal is None:
                        self.fatal = exc
                        self.stopped = self.stopped or one_line(exc)
                    raise _Stopped from exc
                s.prover_s += time.monotonic() - started
                self.budget.spend(
                    answer.prompt_tokens + answer.completion_tokens, price(answer, config.prover)
                )
                s.answer = answer
            elif self.dry:
                raise _Stopped
            answer = s.answer
            found = read_answer(answer, s.problem)
            if isinstance(found, Verdict):
                if found.kind.is_infrastructure and s.retries < self.search.infra_retries:
                    s.retries += 1
                    s.answer = None
                    continue
                return self._record(s, found, config, rounds, tree)
            s.candidate = found
            while True:
                verdict, check_s = await check(
                    s, self.checker, config, lambda c: judge(s.candidate, c)
                )
                if (
                    verdict.kind is VerdictKind.CHECKER_ERROR
                    and s.retries < self.search.infra_retries
                ):
                    s.retries += 1
                    continue
                return self._record(s, verdict, config, rounds, tree, check_s)

    def _record(
        self,
        s: SampleRun,
        verdict: Verdict,
        config: Config,
        rounds: int,
        tree: dict[str, Any],
        check_s: float = 0.0,
    ) -> Attempt:
        attempt = make_attempt(s, verdict, config, check_s)
        outgrown = verdict.kind is VerdictKind.TRUNCATED and s.answer is not None and s.answer.note
        holes = [
            {
                "start": h.start,
                "end": h.end,
                "goal": h.goal,
                "lemma": subgoal_problem(s.problem, i, h.goal, s.candidate).problem.statement,
            }
            for i, h in enumerate(verdict.holes)
        ]
        attempt = dataclasses.replace(
            attempt, ends_sample=bool(outgrown) and s.round + 1 < rounds, holes=holes, **tree
        )
        self.record.append(attempt)
        self.progress.attempt(
            attempt.decides and attempt.verdict is VerdictKind.PROVED,
            attempt.prompt_tokens + attempt.completion_tokens,
        )
        return attempt

    async def _conversation(
        self,
        recorded: dict[int, Attempt],
        rounds: int,
        done: Callable[[Attempt], bool],
        start: Callable[[int, list[Attempt]], SampleRun],
        ask: Callable[[SampleRun], Awaitable[Attempt]],
    ) -> Attempt | None:
        """Rounds of one conversation, resumed from `recorded` (round -> effective line): the
        line that ended it (`done`, or the last round), or None if it is not finished (a
        failure of our machinery, left for the next run)."""
        history: list[Attempt] = []
        for rnd in range(rounds):
            line = recorded.get(rnd)
            if line is None or line.verdict.is_infrastructure:
                run = start(rnd, history)
                if line is not None and line.verdict is VerdictKind.CHECKER_ERROR and line.answer:
                    run.answer = answer_of(line)  # Lean failed, not the model: check again
                    run.prover_s = line.prover_s
                line = await ask(run)
            if line.verdict.is_infrastructure:
                return None
            if done(line) or line.ends_sample or rnd + 1 == rounds:
                return line
            history.append(line)
        return None

    # -- a problem ---------------------------------------------------------------------------

    async def pending(self) -> tuple[list[Problem], int]:
        """The problems with work left, and how many are proved already, from the record
        alone (nothing is asked or checked to find out)."""
        self.dry = True
        try:
            self.left = [p for p in self.problems if not await self._problem(p)]
        finally:
            self.dry = False
        proved = sum(1 for p in self.problems if self.problem_finished(self._lines(p)))
        return self.left, proved

    async def run(
        self, prover: Any, decomposer: Any, checker: Any, budget: Budget, progress: Any
    ) -> None:
        """Run every problem's trees (or until stopped) with these clients and checker."""
        self.prover, self.decomposer, self.checker = prover, decomposer, checker
        self.budget, self.progress = budget, progress
        if self.left is None:
            await self.pending()
        gate = asyncio.Semaphore(self.cap)
        tasks: set[asyncio.Task[Any]] = set()
        try:
            for problem in self.left or ():
                await gate.acquire()
                if self.stopped or self.fatal:
                    gate.release()
                    break
                task: asyncio.Task[Any] = asyncio.create_task(self._problem(problem))
                task.add_done_callback(lambda _t: gate.release())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while tasks:
                await asyncio.gather(*list(tasks))
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
        if self.fatal is not None:
            raise self.fatal

    def _lines(self, problem: Problem) -> list[Attempt]:
        offsets = self._recorded.get(problem.name)
        return self.record.read_at(offsets) if offsets else []

    def problem_finished(self, lines: list[Attempt]) -> bool:
        """Whether the record already holds a composed proof (for stop_on_success)."""
        return any(a.decides and a.verdict is VerdictKind.PROVED for a in lines)

    async def _problem(self, problem: Problem) -> bool:
        """Run what is left of one problem; True when nothing is left."""
        lines = self._lines(problem)
        proved_before = self.problem_finished(lines)
        if proved_before and self.search.stop_on_success:
            return True
        by_sample: dict[int, list[Attempt]] = {}
        for a in lines:
            by_sample.setdefault(a.sample, []).append(a)
        samples = range(self.search.samples)
        proved = proved_before
        try:
            if self.search.stop_on_success:
                for sample in samples:
                    if await self._sample(problem, sample, by_sample.get(sample, [])):
                        proved = True
                        break
            else:
                results = await _all(
                    self._sample(problem, k, by_sample.get(k, [])) for k in samples
                )
                proved = proved or any(results)
        except _Stopped:
            return False
        if not self.dry:
            self.progress.problem_done(proved and not proved_before)
        return True

    async def _sample(self, problem: Problem, sample: int, lines: list[Attempt]) -> bool:
        """One sample's tree; True when its composed proof is proved. Raises _Stopped."""
        sketches = {a.round: a for a in lines if a.stage == SKETCH}
        rounds = 1 + self.search.sketch_repair_rounds

        def start(rnd: int, history: list[Attempt]) -> SampleRun:
            return SampleRun(problem, sample, rnd, history)

        async def ask(s: SampleRun) -> Attempt:
            return await self._round(
                s,
                self.sketcher_config,
                self.config.decomposer.prompt,
                self.decomposer,
                lambda cand, checker: check_sketch(problem, cand, checker, self.config),
                rounds,
                {"stage": SKETCH},
            )

        sketch = await self._conversation(sketches, rounds, accepted, start, ask)
        if sketch is None or not accepted(sketch):
            return False
        candidate = extract_proof(sketch.answer, problem.decl_name)
        if isinstance(candidate, NoProof):  # it was extracted once; a changed extractor
            return False
        holes = holes_of(sketch)
        subgoals = [subgoal_problem(problem, i, h.goal, candidate) for i, h in enumerate(holes)]
        mine = [a for a in lines if a.sketch == sketch.round]
        composed = next((a for a in mine if a.stage == COMPOSE), None)
        if composed is not None and not composed.verdict.is_infrastructure:
            return composed.verdict is VerdictKind.PROVED

        if any(self._exhausted(mine, i) for i in range(len(holes))):
            return False  # the record says a hole failed: nothing of this sketch is asked
        failed = asyncio.Event()  # a hole failed all its samples: the sketch stops
        results = await _all(
            self._hole(
                problem, sample, sketch.round, i, holes, subgoals[i], candidate, mine, failed
            )
            for i in range(len(holes))
        )
        if failed.is_set() or any(r is None for r in results):
            return False
        fills = {i: (own, subgoals[i]) for i, own in enumerate(results) if own is not None}
        composed_candidate = compose(candidate, holes, fills, problem.context)
        return await self._compose(problem, sample, sketch.round, composed_candidate)

    def _exhausted(self, lines: list[Attempt], index: int) -> bool:
        """Whether the record shows every sample of hole `index` finished without a proof."""
        mine = [a for a in lines if a.stage == SUBGOAL and a.subgoal == index]
        if any(a.verdict is VerdictKind.PROVED for a in mine):
            return False
        rounds = 1 + self.search.subgoal_repair_rounds
        return all(
            sample_work(j, {a.round: _entry(a) for a in mine if a.subsample == j}, rounds) is None
            for j in range(self.search.subgoal_samples)
        )

    async def _hole(
        self,
        problem: Problem,
        sample: int,
        sketch_round: int,
        index: int,
        holes: tuple[Hole, ...],
        subgoal: Subgoal,
        sketch: Candidate,
        lines: list[Attempt],
        failed: asyncio.Event,
    ) -> Candidate | None:
        """The first proof of one hole (its samples one after another), or None."""
        mine = [a for a in lines if a.stage == SUBGOAL and a.subgoal == index]
        lemma = subgoal.problem

        def extract(text: str) -> Candidate | NoProof:
            return extract_proof(text, lemma.decl_name)

        for a in sorted(mine, key=lambda a: (a.subsample or 0, a.round)):
            if a.verdict is VerdictKind.PROVED:
                own = extract(a.answer)
                return own if isinstance(own, Candidate) else None
        rounds = 1 + self.search.subgoal_repair_rounds
        hole = holes[index]

        async def judge(own: Candidate | NoProof, checker: Any) -> Verdict:
            if isinstance(own, NoProof):
                return Verdict(VerdictKind.NO_PROOF, detail=own.reason)
            filled, span = fill_one(sketch, hole, own, subgoal, problem.context)
            return await verify_hole(problem, filled, span, len(holes), own, checker, self.config)

        for subsample in range(self.search.subgoal_samples):
            if failed.is_set():
                return None
            recorded = {a.round: a for a in mine if a.subsample == subsample}
            tree = {
                "stage": SUBGOAL,
                "sketch": sketch_round,
                "subgoal": index,
                "subsample": subsample,
            }

            def start(rnd: int, history: list[Attempt]) -> SampleRun:
                return SampleRun(lemma, sample, rnd, history)

            async def ask(s: SampleRun, tree: dict[str, Any] = tree) -> Attempt:
                if failed.is_set():
                    raise _HoleStopped
                return await self._round(
                    s,
                    self.config,
                    self.config.prompt,
                    self.prover,
                    judge,
                    rounds,
                    {**tree, "problem": problem.name},
                )

            try:
                last = await self._conversation(
                    recorded, rounds, lambda a: a.verdict is VerdictKind.PROVED, start, ask
                )
            except _HoleStopped:
                return None
            if last is None:
                return None  # left unfinished (infrastructure): the sketch waits for a rerun
            if last.verdict is VerdictKind.PROVED:
                own = extract(last.answer)
                return own if isinstance(own, Candidate) else None
        failed.set()
        return None

    async def _compose(
        self, problem: Problem, sample: int, sketch_round: int, candidate: Candidate
    ) -> bool:
        if self.dry:
            raise _Stopped
        s = SampleRun(problem, sample, 0)
        s.candidate = candidate
        tree = {"stage": COMPOSE, "sketch": sketch_round}
        while True:
            verdict, check_s = await check(
                s, self.checker, self.config, lambda c: verify(problem, candidate, c, self.config)
            )
            if verdict.kind is VerdictKind.CHECKER_ERROR and s.retries < self.search.infra_retries:
                s.retries += 1
                continue
            line = self._record(s, verdict, self.config, 1, tree, check_s)
            return line.verdict is VerdictKind.PROVED


def _entry(line: Attempt) -> IndexEntry:
    """What the plan reads of a line (its offset does not matter here)."""
    return IndexEntry(0, line.verdict, line.ends_sample)


class _HoleStopped(Exception):
    """Another hole of the sketch failed all its samples: this one asks nothing more."""


async def _all(coros: Iterable[Awaitable[Any]]) -> list[Any]:
    """Every result, after every one has finished (what is in flight is still recorded when
    one stops the run); then the first exception, if any, is raised."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results
