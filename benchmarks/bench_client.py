#!/usr/bin/env python3
"""CPU of the prover client per request against the loopback chat double.

    .venv/bin/python benchmarks/bench_client.py [--requests 3000] [--stream]

The chat-completions double (tests/doubles/chat_server.py) runs in its own process, so only
the client's CPU is counted. With httpx's own transport (what `harness run` uses) and with
`httpx.MockTransport` (no network: httpx's client layer and ours alone), 8 requests are kept in
flight under `asyncio.run` and the client process's CPU (user + system) per request is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSWER = "Here is the proof.\n```lean4\ntheorem t : 1 + 1 = 2 := by\n  norm_num\n```\n" + "x " * 800
PROMPT = "Complete the following Lean 4 code:\n```lean4\ntheorem t : 1 + 1 = 2 := by\n" + "y " * 300


def serve() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.doubles.chat_server import ChatServer, Reply

    class Discard(list):
        def append(self, item: object) -> None:
            pass

    server = ChatServer(lambda request: Reply(ANSWER))
    server.requests = Discard()  # type: ignore[assignment]  # keep the double's memory flat
    server.headers = Discard()  # type: ignore[assignment]
    server.request_times = Discard()  # type: ignore[assignment]
    with server:
        print(server.url, flush=True)
        time.sleep(3600)


async def measure(url: str, kind: str, requests: int, stream: bool) -> float:
    import httpx

    from harness.client import ProverClient
    from harness.config import ProverConfig

    canned = json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}}]}
    ).encode()
    transport = None
    if kind == "mock":
        transport = httpx.MockTransport(lambda request: httpx.Response(200, content=canned))
    config = ProverConfig(base_url=url, concurrency=8, stream=stream)
    messages = [{"role": "user", "content": PROMPT}]
    async with ProverClient(config, None, transport=transport) as client:
        await asyncio.gather(*(client.complete(messages) for _ in range(50)))  # warm up
        before = resource.getrusage(resource.RUSAGE_SELF)
        answers = await asyncio.gather(*(client.complete(messages) for _ in range(requests)))
        after = resource.getrusage(resource.RUSAGE_SELF)
    failed = [a.error for a in answers if a.error]
    if failed:
        raise SystemExit(f"bench_client: {len(failed)} requests failed: {failed[0]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 1000 * cpu / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--stream", action="store_true", help="server-sent events")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    sys.path.insert(0, str(ROOT))
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        for kind in ("httpx", "mock"):
            if kind == "mock" and args.stream:
                continue
            ms = asyncio.run(measure(url, kind, args.requests, args.stream))
            label = "httpx's transport" if kind == "httpx" else "MockTransport (no network)"
            print(f"{label}: {ms:.2f} ms CPU per request{' (SSE)' if args.stream else ''}")
    finally:
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
