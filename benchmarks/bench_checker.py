#!/usr/bin/env python3
"""Checker throughput and the harness's own overhead.

    .venv/bin/python benchmarks/bench_checker.py [--checks 200] [--real-checks 20] [--mathlib]

1. Real Lean (skipped, saying so, where `lake` or the built REPL is missing): checks/second and
   latency p50/p90/p99 with header reuse (one REPL process serves every check) and without it
   (`lean.recycle_after=1`: a fresh process, hence a fresh import, per check).
2. The REPL double (tests/doubles/fake_repl.py, zero latency): the harness's own CPU time per
   check (time.process_time() of this process and the checker's own process / checks), i.e.
   framing, JSON, asyncio, pool.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.checker import open_checker, protocol  # noqa: E402
from harness.config import load_config  # noqa: E402
from harness.types import LeanJob  # noqa: E402

FAKE_REPL = ROOT / "tests" / "doubles" / "fake_repl.py"
PROJECT = ROOT / "lean_project"
REPL = PROJECT / ".lake" / "packages" / "REPL" / ".lake" / "build" / "bin" / "repl"
CORE_HEADER = ""
MATHLIB_HEADER = "import Mathlib\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def jobs_for(header: str, n: int) -> list[LeanJob]:
    proof = "by norm_num" if "Mathlib" in header else "by decide"
    return [
        LeanJob(header, (f"theorem bench_{i} : ({i} : Nat) + 1 = {i + 1} := {proof}",))
        for i in range(n)
    ]


async def run_batch(config, jobs, concurrent: bool):
    latencies: list[float] = []
    outcomes: dict[str, int] = {}

    async def one(checker, job):
        t0 = time.perf_counter()
        result = await checker.run(job)
        latencies.append(time.perf_counter() - t0)
        kind = result.outcome
        if kind == "ok":
            kind = protocol.classify(result.commands[0])
        outcomes[kind] = outcomes.get(kind, 0) + 1

    async with open_checker(config) as checker:
        await one(checker, jobs[0])  # warm-up: the import, not counted
        latencies.clear()
        outcomes.clear()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        # the REPL pool's own process (pool_process.py) reports its CPU with each result
        pool_cpu0 = checker.stats.get("process_cpu_s", 0.0)
        if concurrent:
            await asyncio.gather(*(one(checker, job) for job in jobs))
        else:
            for job in jobs:
                await one(checker, job)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        cpu += checker.stats.get("process_cpu_s", 0.0) - pool_cpu0
    return latencies, outcomes, cpu, wall


def report(label: str, latencies, outcomes, cpu, wall) -> None:
    n = len(latencies)
    print(
        f"{label}: {n} checks in {wall:.2f} s = {n / wall:.2f} checks/s; latency p50 "
        f"{percentile(latencies, 50) * 1000:.1f} ms, p90 {percentile(latencies, 90) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms; harness CPU {cpu / n * 1000:.2f} ms/check; "
        f"outcomes {outcomes}"
    )


def real_lean(args) -> None:
    print("== real Lean ==")
    if not shutil.which("lake"):
        print("skipped: `lake` is not on PATH (install elan, then `harness setup`)")
        return
    if not REPL.is_file():
        print(f"skipped: {REPL} is not built (run `harness setup`)")
        return
    header = MATHLIB_HEADER if args.mathlib else CORE_HEADER
    for label, extra in (("reuse", {}), ("fresh process per check", {"recycle_after": 1})):
        settings = {"project_dir": str(PROJECT), "workers": args.workers, **extra}
        config = load_config(None, {"lean": settings})
        report(
            f"real Lean, {'Mathlib' if args.mathlib else 'core'} header, {label}, "
            f"{args.workers} worker(s)",
            *asyncio.run(run_batch(config, jobs_for(header, args.real_checks), concurrent=True)),
        )


def double(args) -> None:
    print("== REPL double (no Lean): the harness's own overhead ==")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "script.json"
        script.write_text(json.dumps({}))
        command = [sys.executable, str(FAKE_REPL), "--script", str(script)]
        for label, workers, concurrent, extra in (
            ("sequential, 1 process", 1, False, {}),
            (f"concurrent, {args.workers} processes", args.workers, True, {}),
            ("fresh process per check", 1, False, {"recycle_after": 1}),
        ):
            settings = {
                "project_dir": tmp,
                "repl_command": command,
                "workers": workers,
                "memory_mb": 4096,
                # the double is this venv's Python, which the sandbox does not mount: what is
                # measured here is the harness's side
                "sandbox": "none",
                **extra,
            }
            config = load_config(None, {"lean": settings})
            n = args.checks if not extra else min(args.checks, 50)
            report(
                f"double, {label}",
                *asyncio.run(run_batch(config, jobs_for(MATHLIB_HEADER, n), concurrent)),
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=300, help="checks against the double")
    parser.add_argument("--real-checks", type=int, default=20, help="checks against real Lean")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--mathlib", action="store_true", help="real Lean: use an `import Mathlib` header"
    )
    args = parser.parse_args()
    real_lean(args)
    double(args)


if __name__ == "__main__":
    main()
