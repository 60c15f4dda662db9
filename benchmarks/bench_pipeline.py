#!/usr/bin/env python3
"""Replay 17,568 real prover answers through the whole `harness run` pipeline.

    .venv/bin/python benchmarks/bench_pipeline.py [--limit PROBLEMS] [--scale 0.004]

The answers are the 244 miniF2F-test problems x 3 models x 24 attempts of
../shared/corpora/proofs-nonoverlapping-failures-minif2f-test (one sample per answer, no repair
rounds). The prover is the loopback chat-completions double (tests/doubles/chat_server.py) in
its own process, answering at once; Lean is the REPL double (tests/doubles/fake_repl.py),
whose per-command latency follows the warm-REPL distribution recorded in verification.md
(p50 1.18 s, mean 3.91 s, p90 8.15 s: lognormal, median 1.18 s, sigma 1.55) multiplied by
--scale. Answers the corpus marks as failing get a Lean error from the double.

Printed: CPU of the harness process per attempt (a figure, not a target: the prover double
runs in another process, the REPL doubles are not counted) and of the Lean checker's own
process (where the REPL pool runs: harness/checker/pool_process.py), the harness's peak RSS, how long
a check waited for a free REPL process (each process runs one job at a time; p50, p99, max),
and pipeline efficiency = ideal wall / actual wall, ideal = max(total prover latency /
prover.concurrency, total REPL busy time over all requests, audits included, / lean.workers).
REPL busy time is measured inside each REPL double, from a request's arrival to its reply.
Targets: efficiency >= 0.95, peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HARNESS_SHARED_DIR", ROOT.parent / "shared")).resolve()
CORPUS = (
    SHARED
    / "corpora"
    / "proofs-nonoverlapping-failures-minif2f-test"
    / "minif2f_test_attempts.jsonl.gz"
)
SUITE = SHARED / "benchmarks" / "minif2f-deepseek-prover-v1.5" / "minif2f.jsonl"
FAIL_MARK = "-- bench: the corpus marks this answer as failing"
# verification.md §2.4: warm-REPL latency per proof, p50 1.18 s, mean 3.91 s -> sigma 1.55
LATENCY = {"median": 1.18, "sigma": 1.55}


# ---------------------------------------------------------------------------------------------
# Child modes: the prover double and the timed REPL double


def serve_prover(corpus: Path, port_file: Path, limit: int | None) -> None:
    """The chat server double answering each problem's corpus answers in turn."""
    sys.path.insert(0, str(ROOT))
    from tests.doubles.chat_server import ChatServer, Reply

    answers: dict[str, collections.deque[str]] = collections.defaultdict(collections.deque)
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if limit is not None and row["problem_index"] >= limit:
                continue
            # The corpus keeps what followed `:= by` in each answer, fences included: drop them.
            body = re.sub(r"^\s*```\w*\s*$", "", row["raw_proof"], flags=re.M).strip()
            if not row["passed"]:
                body += f"\n  {FAIL_MARK}"
            answers[row["name"]].append(body)
    statement = re.compile(r"^theorem\s+([^\s:(]+)[\s\S]*?:=", re.M)
    lock = __import__("threading").Lock()

    def responder(request: dict) -> Reply:
        prompt = request["messages"][-1]["content"]
        found = statement.search(prompt)
        name = found.group(1) if found else ""
        with lock:
            queue = answers.get(name)
            body = queue.popleft() if queue else "no answer left"
        code = f"{found.group(0) if found else ''} by\n  {body}"
        return Reply(f"Here is the proof.\n```lean4\n{code}\n```", completion_tokens=len(body) // 4)

    server = ChatServer(responder)
    server.requests = _Discard()  # type: ignore[assignment]  # keep the double's memory flat
    server.headers = _Discard()  # type: ignore[assignment]
    server.request_times = _Discard()  # type: ignore[assignment]
    with server:
        port_file.write_text(server.url)
        while True:
            time.sleep(3600)


class _Discard(list):
    def append(self, item: object) -> None:
        pass


def timed_repl(busy_log: str, argv: list[str]) -> int:
    """fake_repl, logging each request's busy time (arrival to reply) to `busy_log`."""
    sys.path.insert(0, str(ROOT / "tests" / "doubles"))
    import fake_repl

    fd = os.open(busy_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    handle = fake_repl.FakeRepl.handle

    pid = os.getpid()

    def timed(self, raw: str) -> None:
        started = time.time()
        handle(self, raw)
        os.write(fd, f"{pid} {started:.6f} {time.time():.6f}\n".encode())

    fake_repl.FakeRepl.handle = timed
    return fake_repl.main(argv)


# ---------------------------------------------------------------------------------------------
# The benchmark


def time_waits_for_a_process() -> tuple[list[float], dict[str, Any]]:
    """Make the checker `harness run` opens record, per check, the seconds it waited for a
    free REPL process (one job per process: a check waits while every process is busy), and
    keep its latest stats (the checker process's CPU among them)."""
    import harness.checker
    from harness.checker.pool_process import PoolProcess

    waits: list[float] = []
    stats: dict[str, Any] = {}

    class TimedPool(PoolProcess):
        async def run(self, job):  # type: ignore[no-untyped-def]
            result = await super().run(job)
            waits.append(result.waited_s)
            stats.update(self.stats)
            return result

    harness.checker.PoolProcess = TimedPool  # type: ignore[misc]  # open_checker looks it up
    return waits, stats


def load_suite(limit: int | None):
    from harness.config import Config
    from harness.suites import load_suite as load
    from harness.types import Suite

    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        first = {}
        for line in f:
            row = json.loads(line)
            first.setdefault(row["name"], row["problem_index"])
    suite = load(str(SUITE), Config())
    chosen = {n for n, i in first.items() if limit is None or i < limit}
    problems = tuple(p for p in suite.problems if p.split == "test" and p.name in chosen)
    problems = tuple(sorted(problems, key=lambda p: first[p.name]))
    return Suite(source=suite.source, problems=problems)


def stage_costs(out: Path, suite, limit: int = 2000) -> dict[str, float]:
    """CPU of the pure stages per attempt (ms), re-run on the recorded answers: where it goes."""
    from harness.config import Config
    from harness.extract import extract_proof
    from harness.record import RunRecord
    from harness.soundness.screen import screen
    from harness.soundness.splice import splice
    from harness.soundness.verify import build_job, screened_candidate
    from harness.types import NoProof

    config = Config()
    problems = {p.name: p for p in suite.problems}
    totals = dict.fromkeys(("extract", "splice", "screen", "build_job"), 0.0)
    n = 0
    for a in RunRecord(out).iter_effective():
        if n >= limit:
            break
        p = problems[a.problem]
        t0 = time.process_time()
        found = extract_proof(a.answer, p.decl_name)
        t1 = time.process_time()
        totals["extract"] += t1 - t0
        n += 1
        if isinstance(found, NoProof):
            continue
        spliced = splice(p, found, answer_holes=config.suites.answer_holes)
        t2 = time.process_time()
        screen(screened_candidate(spliced, found), config.soundness, header=p.header)
        t3 = time.process_time()
        try:
            build_job(p, spliced)
        except ValueError:
            pass
        t4 = time.process_time()
        totals["splice"] += t2 - t1
        totals["screen"] += t3 - t2
        totals["build_job"] += t4 - t3
    return {k: 1000 * v / max(1, n) for k, v in totals.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N problems (72 answers each)")
    parser.add_argument("--scale", type=float, default=0.004, help="REPL latency multiplier")
    parser.add_argument("--workers", type=int, default=2, help="lean.workers")
    parser.add_argument("--concurrency", type=int, default=8, help="prover.concurrency")
    parser.add_argument("--out", help="run directory (default: a temporary one)")
    parser.add_argument(
        "--no-confirm",
        action="store_true",
        help="soundness.confirm false: no fresh-process confirmation of proved candidates (its "
        "Lean work is counted in REPL busy time, done by one more process than lean.workers)",
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the run to FILE")
    parser.add_argument(
        "--serve-prover", nargs=2, metavar=("CORPUS", "PORT_FILE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--as-repl", metavar="BUSY_LOG", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.serve_prover:
        serve_prover(Path(args.serve_prover[0]), Path(args.serve_prover[1]), args.limit)
        return 0
    if args.as_repl:
        return timed_repl(args.as_repl, rest)
    for path in (CORPUS, SUITE):
        if not path.exists():
            print(f"bench_pipeline: {path} is absent (set HARNESS_SHARED_DIR)", file=sys.stderr)
            return 2

    sys.path.insert(0, str(ROOT))
    import asyncio  # here, not at the top: each REPL double runs this file and needs no asyncio

    from harness.config import load_config
    from harness.record import RunRecord
    from harness.search import run_search

    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    out = Path(args.out) if args.out else work / "run"
    busy_log = work / "busy.log"
    script = work / "repl.json"
    script.write_text(
        json.dumps(
            {
                "latency_s": {"lognormal": LATENCY, "scale": args.scale},
                "import_latency_s": 8.0 * args.scale,
                "rules": [{"match": FAIL_MARK, "error": "linarith failed to find a contradiction"}],
            }
        )
    )
    (work / "lean").mkdir()
    port_file = work / "url"
    limit_args = ["--limit", str(args.limit)] if args.limit else []
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-prover", str(CORPUS), str(port_file), *limit_args]
    )
    try:
        while not port_file.exists() or not port_file.read_text():
            if server.poll() is not None:
                raise SystemExit("bench_pipeline: the prover double did not start")
            time.sleep(0.05)
        suite = load_suite(args.limit)
        samples = 72  # 3 models x 24 attempts per problem
        config = load_config(
            None,
            {
                "prover": {
                    "base_url": port_file.read_text(),
                    "concurrency": args.concurrency,
                    "max_retries": 0,
                },
                "search": {"samples": samples, "repair_rounds": 0},
                "soundness": {"confirm": not args.no_confirm},
                "lean": {
                    "project_dir": str(work / "lean"),
                    "repl_command": [
                        sys.executable,
                        __file__,
                        "--as-repl",
                        str(busy_log),
                        "--script",
                        str(script),
                    ],
                    "workers": args.workers,
                    "timeout_s": 600.0,
                    "sandbox": "none",  # the double writes its busy log outside any sandbox
                },
            },
        )
        waits, checker_stats = time_waits_for_a_process()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        search = run_search(
            config, suite, out, progress=False, write_report=False, log=lambda s: None
        )
        if args.profile:
            import cProfile

            # CPU time, not wall: the question is where the harness's CPU goes
            profiler = cProfile.Profile(time.process_time)
            summary = profiler.runcall(asyncio.run, search)
            profiler.dump_stats(args.profile)
        else:
            summary = asyncio.run(search)  # as `harness run`
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        user = after.ru_utime - before.ru_utime
        system = after.ru_stime - before.ru_stime
        cpu = user + system
        peak_mb = after.ru_maxrss / 1024
    finally:
        server.kill()
        server.wait()

    spans = [tuple(map(float, line.split())) for line in busy_log.read_text().splitlines()]
    busy = sum(end - start for _, start, end in spans)
    requests = len(spans)
    prover_total = sum(a.prover_s for a in RunRecord(out).iter_effective(light=True))
    ideal = max(prover_total / args.concurrency, busy / args.workers)
    attempts = summary.attempts
    print(f"problems {summary.problems}, attempts {attempts}, REPL requests {requests}")
    print("verdicts " + ", ".join(f"{k} {v}" for k, v in summary.by_verdict.items() if v))
    print(
        f"wall {wall:.1f} s; REPL busy {busy:.1f} s over {args.workers} workers; ideal {ideal:.1f} s"
        + ("" if args.no_confirm else " (confirmations included: one more process does them)")
    )
    per = 1000 / max(1, attempts)
    print(f"CPU per attempt: {per * cpu:.2f} ms (user {per * user:.2f}, system {per * system:.2f})")
    if "process_cpu_s" in checker_stats:
        checker_cpu = 1000 * checker_stats["process_cpu_s"] / max(1, attempts)
        print(f"  and in the Lean checker's own process: {checker_cpu:.2f} ms")
    waits.sort()
    if waits:
        p50, p99 = (waits[min(len(waits) - 1, int(q * len(waits)))] for q in (0.50, 0.99))
        print(
            f"wait of a check for a free REPL process over {len(waits)} checks: "
            f"p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, max {1000 * waits[-1]:.1f} ms"
        )
    print(f"pipeline efficiency: {ideal / wall:.3f} (target >= 0.95)")
    print(f"peak RSS during the run: {peak_mb:.0f} MB (target < 300)")
    try:  # after the run's figures: a report that cannot be written takes none of them away
        from harness.report import write_reports

        report_started = time.monotonic()
        write_reports(out)
        report_s = time.monotonic() - report_started
        report_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"reports: {report_s:.1f} s, peak RSS after them {report_peak_mb:.0f} MB")
    except Exception as exc:
        print(f"reports not written ({exc.__class__.__name__}: {exc})")
    try:
        costs = stage_costs(out, suite)
        print(
            "of which pure stages (ms/attempt): "
            + ", ".join(f"{k} {v:.2f}" for k, v in costs.items())
        )
    except Exception as exc:  # the internals it times may move; the figures above stand
        print(f"stage costs not measured ({exc.__class__.__name__}: {exc})")
    print(f"run directory: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
