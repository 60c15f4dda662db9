"""Run the screen over real prover solutions, through extraction and splicing as a run does.

    .venv/bin/python benchmarks/bench_screen.py [--shared DIR]

Reads the 438 DeepSeek-Prover-V2 and 225 Kimina-Prover miniF2F solutions from ../shared/corpora
(or HARNESS_SHARED_DIR), extracts each answer's proof for its theorem, splices it against a
problem made from the answer's own header and statement, screens it with the default policy
(native_decide off), and prints the refusals by rule. Target: none for DeepSeek-Prover-V2; for
Kimina only native_decide, listed by name. When present, the 17,568 labelled attempts of
three smaller provers (proofs-nonoverlapping-failures-minif2f-test) are screened too, with
refusals split by whether the attempt passed in its authors' checker, and the same 17,568
answers are also read the way benchmarks/bench_pipeline.py serves them (fences stripped, wrapped
in a chat reply with the suite's statement, against the suite's problem). For each corpus the
CPU of splice and of the screen is printed per answer (target: both together < 0.4 ms).
For each corpus it also counts the answers with any finding (not only the first refusal) of
the meta-level rules of issue 12 (target: none in these honest or merely failing answers).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import sys
import time
from pathlib import Path

from harness.config import SoundnessConfig
from harness.extract import extract_proof
from harness.soundness.screen import screen_all
from harness.soundness.splice import STANDARD_HEADER, splice, split_lean_file
from harness.soundness.verify import screened_candidate
from harness.types import Candidate, Problem

ROOT = Path(__file__).resolve().parent.parent
# rules that refuse meta-level code (issue 12): no honest answer should meet them anywhere
META_RULES = (
    "meta_code", "io", "include_str", "tactic_config_code", "aesop_tactic_rule", "widget",
)  # fmt: skip


def corpus_files(shared: Path) -> dict[str, list[Path]]:
    ds = shared / "corpora" / "proofs-deepseek-prover-v2-minif2f" / "extracted"
    ki = shared / "corpora" / "proofs-kimina-prover-minif2f" / "extracted"
    return {
        "DeepSeek-Prover-V2": sorted(ds.rglob("*.lean")),
        "Kimina-Prover": sorted(ki.rglob("*.lean")),
    }


class StageTimes:
    """CPU seconds spent in splice and in the screen, and how many answers got that far."""

    def __init__(self) -> None:
        self.splice = 0.0
        self.screen = 0.0
        self.answers = 0
        self.meta: collections.Counter[str] = collections.Counter()  # answers per META_RULES

    def run(self, problem: Problem, found: Candidate, config: SoundnessConfig):
        """splice + screen of one extracted answer, timed; the screen's refusal or None."""
        t0 = time.process_time()
        spliced = splice(problem, found)
        t1 = time.process_time()
        found_all = screen_all(screened_candidate(spliced, found), config, header=problem.header)
        # the screen's choice: the first `rejected` finding, else the first (a `sorry`)
        bad = next((r for r in found_all if r.kind.value == "rejected"), None)
        bad = bad or (found_all[0] if found_all else None)
        t2 = time.process_time()
        self.splice += t1 - t0
        self.screen += t2 - t1
        self.answers += 1
        self.meta.update({r.rule for r in found_all} & set(META_RULES))
        return bad

    def describe_meta(self) -> str:
        counts = ", ".join(f"{rule} {self.meta[rule]}" for rule in META_RULES)
        return f"answers with a meta-level finding anywhere: {counts}"

    def describe(self) -> str:
        n = max(self.answers, 1)
        return (
            f"per answer: splice {1000 * self.splice / n:.3f} ms, "
            f"screen {1000 * self.screen / n:.3f} ms"
        )


def screen_solution(
    path: Path, config: SoundnessConfig, times: StageTimes | None = None
) -> tuple[str, str | None, str]:
    """(theorem name, refusing rule or None, detail) for one solution file, as a run sees it."""
    text = path.read_text(encoding="utf-8")
    name = path.stem
    _, theorems = split_lean_file(text)
    named = [t.problem for t in theorems if t.problem.decl_name == name]
    if not named:
        return name, "no_statement", "no theorem named after the file"
    problem = named[-1]
    found = extract_proof(text, problem.decl_name)
    if not isinstance(found, Candidate):
        return name, "no_proof", found.reason
    bad = (times or StageTimes()).run(problem, found, config)
    if bad is None:
        return name, None, ""
    return name, bad.rule, bad.describe()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.environ.get("HARNESS_SHARED_DIR", str(ROOT.parent / "shared"))
    parser.add_argument("--shared", default=default, help="the shared/ folder")
    parser.add_argument("--json", action="store_true", help="one JSON object per corpus")
    args = parser.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "corpora").is_dir():
        print(f"bench_screen: {shared}/corpora not found (use --shared)", file=sys.stderr)
        return 2
    config = SoundnessConfig()
    for corpus, files in corpus_files(shared).items():
        t0 = time.perf_counter()
        by_rule: dict[str, list[str]] = collections.defaultdict(list)
        details: dict[str, str] = {}
        times = StageTimes()
        for path in files:
            name, rule, detail = screen_solution(path, config, times)
            if rule is not None:
                by_rule[rule].append(name)
                details[name] = detail
        seconds = time.perf_counter() - t0
        refused = sum(len(v) for v in by_rule.values())
        if args.json:
            print(
                json.dumps(
                    {
                        "corpus": corpus,
                        "files": len(files),
                        "refused": refused,
                        "by_rule": {k: sorted(v) for k, v in by_rule.items()},
                        "meta_findings": {rule: times.meta[rule] for rule in META_RULES},
                        "seconds": round(seconds, 3),
                    }
                )
            )
            continue
        print(
            f"{corpus}: {len(files)} solutions, {refused} refused "
            f"({seconds:.2f} s, {1000 * seconds / max(len(files), 1):.1f} ms each; "
            f"{times.describe()})"
        )
        print(f"  {times.describe_meta()}")
        for rule in sorted(by_rule):
            names = sorted(by_rule[rule])
            print(f"  {rule}: {len(names)}")
            for n in names:
                print(f"    {n}: {details[n]}")
    attempts = shared / "corpora" / "proofs-nonoverlapping-failures-minif2f-test"
    attempts = attempts / "minif2f_test_attempts.jsonl.gz"
    if attempts.is_file() and not args.json:
        screen_attempts(attempts, config)
        suite = shared / "benchmarks" / "minif2f-deepseek-prover-v1.5" / "minif2f.jsonl"
        if suite.is_file():
            time_pipeline_answers(attempts, suite, config)
    return 0


def screen_attempts(path: Path, config: SoundnessConfig) -> None:
    """Proof bodies (continuations) of labelled attempts: refusals by rule and label."""
    t0 = time.perf_counter()
    counts: collections.Counter[tuple[str, bool]] = collections.Counter()
    passed_native: set[str] = set()
    times = StageTimes()
    rows = 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            rows += 1
            name = row["name"]
            problem = Problem(
                name=name,
                header=STANDARD_HEADER,
                statement=f"theorem {name} : True :=",
                theorem_name=name,
            )
            found = extract_proof(row["raw_proof"], name)
            if not isinstance(found, Candidate):
                counts[("(no proof extracted)", bool(row["passed"]))] += 1
                continue
            bad = times.run(problem, found, config)
            if bad is not None:
                counts[(bad.rule, bool(row["passed"]))] += 1
                if row["passed"] and bad.rule == "native_decide":
                    passed_native.add(name)
    seconds = time.perf_counter() - t0
    print(f"Labelled attempts (3 provers): {rows} ({seconds:.1f} s; {times.describe()})")
    print(f"  {times.describe_meta()}")
    for (rule, passed), n in sorted(counts.items(), key=lambda kv: (not kv[0][1], -kv[1])):
        print(f"  {rule} ({'passed' if passed else 'failed'} attempts): {n}")
    if passed_native:
        print(
            f"  passed attempts refused for native_decide, problems: {', '.join(sorted(passed_native))}"
        )


def time_pipeline_answers(path: Path, suite_path: Path, config: SoundnessConfig) -> None:
    """The same attempts as bench_pipeline.py's prover double serves them, against the suite."""
    from harness.config import Config
    from harness.suites import load_suite

    suite = load_suite(str(suite_path), Config())
    problems = {p.name: p for p in suite.problems if p.split == "test"}
    statement = re.compile(r"^theorem\s+([^\s:(]+)[\s\S]*?:=", re.M)
    times = StageTimes()
    refused: collections.Counter[str] = collections.Counter()
    rows = 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            problem = problems.get(row["name"])
            if problem is None:
                continue
            rows += 1
            body = re.sub(r"^\s*```\w*\s*$", "", row["raw_proof"], flags=re.M).strip()
            if not row["passed"]:
                body += "\n  -- bench: the corpus marks this answer as failing"
            found = statement.search(problem.statement)
            code = f"{found.group(0) if found else ''} by\n  {body}"
            answer = f"Here is the proof.\n```lean4\n{code}\n```"
            candidate = extract_proof(answer, problem.decl_name)
            if not isinstance(candidate, Candidate):
                continue
            bad = times.run(problem, candidate, config)
            if bad is not None:
                refused[bad.rule] += 1
    print(f"Attempts as bench_pipeline serves them: {rows} ({times.describe()})")
    print(f"  {times.describe_meta()}")
    for rule, n in refused.most_common():
        print(f"  {rule}: {n}")


if __name__ == "__main__":
    sys.exit(main())
