"""What the suite tests share: where each catalogued suite's copy sits, and a config for a cache."""

from __future__ import annotations

from pathlib import Path

from harness.config import Config, load_config

# catalogue name -> folder of ../shared/benchmarks holding its copy
FOLDERS = {
    "minif2f-test": "minif2f-lean4-yangky11",
    "minif2f-valid": "minif2f-lean4-yangky11",
    "minif2f-deepseek": "minif2f-deepseek-prover-v1.5",
    "minif2f-goedel": "minif2f-goedel-prover-v2",
    "proofnet": "proofnet-deepseek-prover-v1.5",
    "proofnet-lean4": "proofnet-lean4-rahul3613",
    "putnambench": "putnambench",
    "combibench": "combibench",
    "formalmath-lite": "formalmath-lite",
    "mobench": "matholympiadbench-goedel-v2",
}


def config_for(cache: Path, **suites) -> Config:
    return load_config(None, {"suites": {"cache_dir": str(cache), **suites}})
