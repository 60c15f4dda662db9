"""Known suites as data: where each comes from (repository @ commit : path), how to check it
(sha256 of the file, or one digest over a directory's files), what it should contain (problems
per split) and the Lean/Mathlib it was written for.

A directory's digest is sha256 over the lines `"<sha256>  <file name>\\n"` of its files that
match `pattern`, sorted by name (`directory_digest`), so one line pins hundreds of files.
Checksums and counts were computed from the copies in shared/benchmarks (see
shared/reference/benchmarks.md); counts are problems as the loaders read them.
"""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CatalogueEntry",
    "CATALOGUE",
    "catalogue_entry",
    "file_sha256",
    "directory_files",
    "directory_digest",
]

DEEPSEEK_HEADER = (
    "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\n"
    "open BigOperators Real Nat Topology Rat\n\n"
)
YANGKY11_HEADER = (
    "import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"
)
MATHLIB_V4_9_DEEPSEEK = "xinhjBrant/mathlib4@2f65ba7f1a9144b20c8e7358513548e317d26de1"


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    description: str
    repo: str  # GitHub owner/name
    commit: str  # full 40-hex commit the files are pinned to
    path: str  # file or directory inside the repository
    kind: str  # "file" or "dir"
    sha256: str  # of the file, or `directory_digest` of the directory
    counts: dict[str | None, int]  # expected problems per split (None: no split field)
    licence: str
    lean_toolchain: str  # the Lean version the statements were written for
    mathlib: str  # the Mathlib revision they were written for
    header: str  # the usual header, as a human reads it
    pattern: str = "*"  # for directories: which files are problems
    file_count: int | None = None  # for directories: how many files match `pattern`
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def variant(self) -> str:
        return self.repo

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def counts_text(self) -> str:
        return " ".join(
            f"{split}={n}" if split is not None else f"all={n}" for split, n in self.counts.items()
        )


CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        name="minif2f-test",
        description="miniF2F test, yangky11 Lean 4 port (default variant)",
        repo="yangky11/miniF2F-lean4",
        commit="5746b7d6c47855ce1294bed87329618ff7f1bc31",
        path="MiniF2F/Test",
        kind="dir",
        pattern="*.lean",
        file_count=244,
        sha256="8b1e43fecc2d3563c59b3d7d4684ebfe5b3a06ee2c6a03442ca7b5dda4151f27",
        counts={"test": 244},
        licence="MIT",
        lean_toolchain="leanprover/lean4:v4.24.0",
        mathlib="f897ebcf72cd16f89ab4577d0c826cd14afaafc7",
        header=YANGKY11_HEADER,
        notes=("statements end `:= by sorry`; still has the ℕ-typed mathd_algebra_314",),
    ),
    CatalogueEntry(
        name="minif2f-valid",
        description="miniF2F valid, yangky11 Lean 4 port (default variant)",
        repo="yangky11/miniF2F-lean4",
        commit="5746b7d6c47855ce1294bed87329618ff7f1bc31",
        path="MiniF2F/Valid",
        kind="dir",
        pattern="*.lean",
        file_count=244,
        sha256="c6b5c3c3dc2d2191649b7714287e1c97d4d9de77b17c52d59c8c3207fddeab01",
        counts={"valid": 244},
        licence="MIT",
        lean_toolchain="leanprover/lean4:v4.24.0",
        mathlib="f897ebcf72cd16f89ab4577d0c826cd14afaafc7",
        header=YANGKY11_HEADER,
    ),
    CatalogueEntry(
        name="minif2f-deepseek",
        description="miniF2F test+valid as DeepSeek-Prover-V1.5 ships it",
        repo="deepseek-ai/DeepSeek-Prover-V1.5",
        commit="2c4ba9119eef74d0d611f494261b2c5bae98c69a",
        path="datasets/minif2f.jsonl",
        kind="file",
        sha256="d6654c88476ff14db19d57dea25bd955a240525fb52171e460f89d98f83d7dd5",
        counts={"valid": 244, "test": 244},
        licence="MIT (code licence; no separate data licence)",
        lean_toolchain="leanprover/lean4:v4.9.0",
        mathlib=MATHLIB_V4_9_DEEPSEEK,
        header=DEEPSEEK_HEADER,
        notes=("15 known statement defects, repaired in minif2f-goedel",),
    ),
    CatalogueEntry(
        name="minif2f-goedel",
        description="miniF2F test with Goedel-Prover-V2's 15 repaired statements",
        repo="Goedel-LM/Goedel-Prover-V2",
        commit="2e9036e118464aa96a8bebaf9f5b9d091aa3585c",
        path="dataset/minif2f.jsonl",
        kind="file",
        sha256="47ca505cd60a503a77165e84bbf34c662f9a8c650d09fc33fb4c000179eee8f3",
        counts={"test": 244},
        licence="none stated (no LICENSE file; derived from DeepSeek's MIT data)",
        lean_toolchain="leanprover/lean4:v4.9.0",
        mathlib=MATHLIB_V4_9_DEEPSEEK,
        header=DEEPSEEK_HEADER + " (embedded in formal_statement)",
    ),
    CatalogueEntry(
        name="proofnet",
        description="ProofNet, DeepSeek-Prover-V1.5's Lean 4 port (repeated names get #2, #3)",
        repo="deepseek-ai/DeepSeek-Prover-V1.5",
        commit="2c4ba9119eef74d0d611f494261b2c5bae98c69a",
        path="datasets/proofnet.jsonl",
        kind="file",
        sha256="4a4d4fd69f45d6180830f12a73adb8a7e04915f651f3fa44a2877082fe252132",
        counts={"valid": 185, "test": 186},
        licence="MIT",
        lean_toolchain="leanprover/lean4:v4.9.0",
        mathlib=MATHLIB_V4_9_DEEPSEEK,
        header="import Mathlib + per-textbook opens",
        notes=("statements end `:=` (term position, no `by`)",),
    ),
    CatalogueEntry(
        name="proofnet-lean4",
        description="ProofNet, rahul3613's Lean 4 port (book-prefixed names, no split)",
        repo="rahul3613/ProofNet-lean4",
        commit="6deae98b38954dadf732746d023e8be65c56f246",
        path="proofnet_lean4.jsonl",
        kind="file",
        sha256="cffeb0fcc279a578a803ce7fd3e2583d688d0a3f1e0cdc38c96ff53a46270139",
        counts={None: 374},
        licence="MIT",
        lean_toolchain="leanprover/lean4:v4.20.0",
        mathlib="c211948581bde9846a99e32d97a03f0d5307c31e",
        header="import Mathlib + per-book opens + noncomputable section",
    ),
    CatalogueEntry(
        name="putnambench",
        description="PutnamBench 1962-2025 (346 answer holes)",
        repo="trishullab/PutnamBench",
        commit="3c9b9268ebd132d482938b8e9d242dd71fc1ebc0",
        path="lean4/src",
        kind="dir",
        pattern="putnam_*.lean",
        file_count=672,
        sha256="d170ea6766b9cce6bde53e1d7cfe6a48586c2aabba4298d9bf22f785415e890d",
        counts={None: 672},
        licence="Apache-2.0 (Lean statements); informal text with MAA permission",
        lean_toolchain="leanprover/lean4:v4.27.0",
        mathlib="a3a10db0e9d66acbebf76c5e6a135066525ac900",
        header="import Mathlib + per-problem opens (autoImplicit false)",
        notes=("README asks not to publish proofs",),
    ),
    CatalogueEntry(
        name="combibench",
        description="CombiBench, 100 files / 101 theorems (imo_2019_p5 has two)",
        repo="MoonshotAI/CombiBench",
        commit="84063de0347b3c3abfd4bf724b040dfb2f06dcdb",
        path="lean/CombiBench",
        kind="dir",
        pattern="*.lean",
        file_count=100,
        sha256="c4c2b09a4732c8d33880ee76df81d92ef9434f0401de599947cfac67b715929d",
        counts={None: 101},
        licence="MIT",
        lean_toolchain="leanprover/lean4:v4.24.0",
        mathlib="f897ebcf72cd16f89ab4577d0c826cd14afaafc7",
        header="import Mathlib (+ opens; autoImplicit false)",
    ),
    CatalogueEntry(
        name="formalmath-lite",
        description="FormalMATH-Lite, 425 records / 428 theorems (one record has four)",
        repo="jiayiw005/FormalMATH-Bench",
        commit="16d0311d1ff0d50d7bed9e1c9bd9ad12932bd044",
        path="FormalMATH_lite.json",
        kind="file",
        sha256="3105931c2d3ae8d1b7e6a53784e97fc99e241c0ec5b04d326f373d3ec49b4dac",
        counts={None: 428},
        licence="MIT (data, per the SphereLab/FormalMATH-Lite card)",
        lean_toolchain="leanprover/lean4:v4.11.0",
        mathlib="unpinned (REPL adbbfcb9, v4.11.0 era)",
        header="import Mathlib + optional opens (inside `autoformalization`)",
        notes=("mirror of the Hugging Face dataset in a fork",),
    ),
    CatalogueEntry(
        name="mobench",
        description="MathOlympiadBench (Goedel-Prover-V2)",
        repo="Goedel-LM/Goedel-Prover-V2",
        commit="2e9036e118464aa96a8bebaf9f5b9d091aa3585c",
        path="dataset/MOBench.jsonl",
        kind="file",
        sha256="f286b8942a7b9517be103139d2240adaeabbc1e5f195eb2817aacf9109b1bb95",
        counts={"test": 360},
        licence="none stated (upstream Compfiles / IMOSLLean4 licences not checked)",
        lean_toolchain="leanprover/lean4:v4.9.0",
        mathlib=MATHLIB_V4_9_DEEPSEEK,
        header=DEEPSEEK_HEADER,
    ),
)

_BY_NAME = {e.name: e for e in CATALOGUE}


def catalogue_entry(name: str) -> CatalogueEntry | None:
    return _BY_NAME.get(name)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def directory_files(path: str | Path, pattern: str) -> list[Path]:
    root = Path(path)
    return sorted(
        (p for p in root.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern)),
        key=lambda p: p.name,
    )


def directory_digest(path: str | Path, pattern: str) -> str:
    """sha256 over `"<sha256>  <name>\\n"` for each matching file, sorted by name."""
    lines = "".join(f"{file_sha256(p)}  {p.name}\n" for p in directory_files(path, pattern))
    return hashlib.sha256(lines.encode()).hexdigest()
