#!/usr/bin/env python3
"""Remote checking: how close the "kimina" backend comes to what the servers can give.

    .venv/bin/python benchmarks/bench_remote.py [--servers 1 2 4] [--workers 4]
        [--latency 0.1] [--waves 25] [--repeat 1]

For each fleet size S, S loopback Kimina Lean Server doubles (tests/doubles/kimina_server.py,
each its own process) answer every check after a fixed sleep of `latency` seconds (no Lean, no
CPU: `--lean none`), with `workers` REPLs each. The harness's `KiminaChecker` (lean.workers =
`workers` per URL) runs `waves * S * workers` jobs of the suites' shape (header, reference,
proof, two audits), all submitted at once, after one warm-up wave that opens the connections.

    ideal      = S * workers / latency     (checks/s if every slot were always busy)
    efficiency = measured checks/s / ideal (target >= 0.9)

Also printed: the harness's own CPU per check (time.process_time() of this process / checks:
snippet building, HTTP, JSON, mapping back), and how the checks spread over the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.checker import open_checker  # noqa: E402
from harness.config import load_config  # noqa: E402
from harness.soundness.splice import STANDARD_HEADER  # noqa: E402
from harness.types import LeanJob  # noqa: E402
from tests.doubles.kimina_server import KiminaProcess  # noqa: E402


def jobs(n: int) -> list[LeanJob]:
    return [
        LeanJob(
            STANDARD_HEADER,
            (
                f"theorem __harness_ref : ({i} : ℕ) + 1 = {i + 1} := sorry\n",
                f"theorem bench_{i} : ({i} : ℕ) + 1 = {i + 1} := by\n  norm_num",
            ),
            (
                f"#print axioms bench_{i}",
                f"theorem __harness_fidelity : type_of% @bench_{i} = type_of% @__harness_ref := rfl",
            ),
        )
        for i in range(n)
    ]


async def measure(urls: list[str], workers: int, n: int, project: Path) -> dict:
    config = load_config(
        None,
        {
            "lean": {
                "backend": "kimina",
                "kimina_urls": urls,
                "workers": workers,
                "timeout_s": 60,
                "project_dir": str(project),
            }
        },
    )
    async with open_checker(config) as checker:
        warm = await asyncio.gather(*(checker.run(j) for j in jobs(len(urls) * workers)))
        assert all(r.outcome == "ok" for r in warm), [r.error for r in warm if r.error]
        before = dict(checker.stats["per_server"])
        cpu0, t0 = time.process_time(), time.perf_counter()
        results = await asyncio.gather(*(checker.run(j) for j in jobs(n)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        spread = [checker.stats["per_server"][u] - before[u] for u in urls]
    bad = [r for r in results if r.outcome != "ok"]
    assert not bad, bad[0].error
    return {"wall": wall, "cpu": cpu, "spread": spread}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, default=4, help="REPLs per server = lean.workers")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per check (sleep)")
    parser.add_argument("--waves", type=int, default=25, help="checks per slot")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    print(
        f"kimina backend against loopback server doubles: latency {args.latency * 1000:.0f} ms "
        f"per check (sleep), {args.workers} workers per server, {args.waves} checks per slot"
    )
    print(
        f"{'servers':>7} {'checks':>6} {'wall s':>7} {'checks/s':>9} {'ideal':>7} "
        f"{'efficiency':>10} {'CPU ms/check':>12}  spread"
    )
    worst = 1.0
    for count in args.servers:
        with ExitStack() as stack:
            project = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
            servers = [
                stack.enter_context(
                    KiminaProcess(latency_s=args.latency, lean="none", max_repls=args.workers)
                )
                for _ in range(count)
            ]
            urls = [s.url for s in servers]
            for _ in range(args.repeat):
                n = args.waves * count * args.workers
                got = asyncio.run(measure(urls, args.workers, n, project))
                rate = n / got["wall"]
                ideal = count * args.workers / args.latency
                efficiency = rate / ideal
                worst = min(worst, efficiency)
                print(
                    f"{count:>7} {n:>6} {got['wall']:>7.2f} {rate:>9.1f} {ideal:>7.1f} "
                    f"{efficiency:>10.3f} {got['cpu'] / n * 1000:>12.2f}  {got['spread']}"
                )
    print(f"lowest efficiency {worst:.3f} (target 0.9): {'OK' if worst >= 0.9 else 'BELOW TARGET'}")
    return 0 if worst >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
