"""Extraction throughput over the real answers in ../shared/corpora; prints figures.

.venv/bin/python benchmarks/bench_extract.py [SHARED_DIR]
"""

from __future__ import annotations

import collections
import glob
import gzip
import json
import os
import sys
import time
from pathlib import Path

from harness.extract import extract_proof
from harness.types import NoProof


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    shared = Path(
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get("HARNESS_SHARED_DIR", root.parent / "shared")
    )
    corpora = shared / "corpora"
    if not corpora.is_dir():
        print(f"{corpora} is absent; pass the shared/ directory", file=sys.stderr)
        return 2
    answers: list[tuple[str, str, str]] = []  # (corpus, name, text)
    path = (
        corpora / "proofs-nonoverlapping-failures-minif2f-test" / "minif2f_test_attempts.jsonl.gz"
    )
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            answers.append(
                ("failures/" + row["model"].split("_")[1], row["name"], row["raw_proof"])
            )
    for file in glob.glob(str(corpora / "*" / "extracted" / "**" / "*.lean"), recursive=True):
        answers.append(("solution files", Path(file).stem, Path(file).read_text(encoding="utf-8")))
    cot = (
        corpora
        / "proofs-kimina-prover-minif2f"
        / "extracted"
        / "minif2f_test_solved"
        / "minif2f-test-solved.jsonl"
    )
    for line in cot.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        answers.append(("kimina reasoning", row["name"], row["cot"]))

    outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    chars = sum(len(t) for _, _, t in answers)
    started = time.perf_counter()
    slowest = (0.0, "")
    for corpus, name, text in answers:
        t0 = time.perf_counter()
        found = extract_proof(text, name)
        took = time.perf_counter() - t0
        if took > slowest[0]:
            slowest = (took, f"{corpus} {name} ({len(text):,} chars)")
        outcomes[corpus]["no_proof" if isinstance(found, NoProof) else "candidate"] += 1
    elapsed = time.perf_counter() - started
    print(f"answers: {len(answers):,} ({chars / 1e6:.1f} M chars)")
    print(
        f"total: {elapsed:.2f} s; {len(answers) / elapsed:,.0f} answers/s; {chars / elapsed / 1e6:.1f} M chars/s"
    )
    print(f"slowest: {slowest[0] * 1000:.1f} ms for {slowest[1]}")
    for corpus, counts in sorted(outcomes.items()):
        print(
            f"  {corpus:40s} candidate {counts['candidate']:6,}  no_proof {counts['no_proof']:5,}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
