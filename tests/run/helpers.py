"""A scripted prover and Lean for end-to-end runs: what each problem's rounds must give.

The first four smoke problems (in suite order) get, in every sample:
  0  the reference proof                                   -> proved at round 0
  1  a proof using an unknown identifier (the REPL double  -> lean_error at round 0, then the
     reports an error at it), then the reference proof        reference proof: proved at round 1
  2  `sorry`, then prose without code                      -> sorry, then no_proof
  3  an answer cut off by max_tokens, twice                -> truncated, truncated
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.config import load_config
from harness.suites import load_suite, smoke_reference_proofs
from harness.types import Problem
from tests.conftest import ROOT
from tests.doubles.chat_server import Reply

FAKE_REPL = ROOT / "tests" / "doubles" / "fake_repl.py"
KEY_ENV = "AIMLAPI_KEY"
KEY = "sk-harness-test-DISTINCTIVE-5c0ffee9f8e7d"
MARKER = "harness_marker_identifier"
ERROR_TEXT = f"unknown identifier '{MARKER}'"
SAMPLES = 4
PROBLEMS = 4
# verdicts per (behaviour, round)
EXPECTED = {
    0: ["proved"],
    1: ["lean_error", "proved"],
    2: ["sorry", "no_proof"],
    3: ["truncated", "truncated"],
}


def smoke_problems() -> list[Problem]:
    return list(load_suite("smoke", load_config()).problems[:PROBLEMS])


class ScriptedProver:
    """The responder of the chat server double: behaviour by problem, answer by round."""

    def __init__(self, problems: list[Problem], delay: float = 0.0) -> None:
        self.problems = problems
        self.proofs = smoke_reference_proofs()
        self.delay = delay

    def problem_of(self, request: dict[str, Any]) -> int:
        text = "\n".join(m["content"] for m in request["messages"] if m["role"] != "assistant")
        for i, p in enumerate(self.problems):
            if re.search(rf"\btheorem\s+{re.escape(p.decl_name)}\b", text):
                return i
        raise AssertionError(f"no known problem in the prompt: {text[:200]!r}")

    def __call__(self, request: dict[str, Any]) -> Reply:
        i = self.problem_of(request)
        rnd = sum(1 for m in request["messages"] if m["role"] == "assistant")
        p = self.problems[i]

        def code(proof: str) -> str:
            return f"Here is the proof.\n```lean4\n{p.header}{p.context}{p.statement} {proof}\n```"

        if i == 0 or (i == 1 and rnd == 1):
            return Reply(code(self.proofs[p.name]), delay=self.delay)
        if i == 1:
            return Reply(code(f"by\n  intro\n  exact {MARKER}"), delay=self.delay)
        if i == 2:
            text = (
                code("by\n  sorry") if rnd == 0 else "I think the answer follows from arithmetic."
            )
            return Reply(text, delay=self.delay)
        return Reply(code("by\n  simp [Nat.add_"), finish_reason="length", delay=self.delay)


def expected_rounds(problems: list[Problem]) -> dict[tuple[str, int, int], str]:
    return {
        (p.name, sample, rnd): verdict
        for i, p in enumerate(problems)
        for sample in range(SAMPLES)
        for rnd, verdict in enumerate(EXPECTED[i])
    }


def write_setup(tmp: Path, url: str, sandboxed: bool = False, **search: Any) -> tuple[Path, Path]:
    """A config file for the doubles, and the REPL double's request log (none when
    `sandboxed`: the double then runs under bubblewrap, which lets it write nowhere outside)."""
    (tmp / "rules").mkdir(exist_ok=True)
    rules = tmp / "rules" / "repl-rules.json"
    rules.write_text(json.dumps({"rules": [{"match": MARKER, "error": ERROR_TEXT}]}))
    log = tmp / "repl-log.jsonl"
    (tmp / "lean").mkdir(exist_ok=True)
    lean: dict[str, Any] = {
        "repl_command": [sys.executable, str(FAKE_REPL), "--script", str(rules), "--log", str(log)],
        "sandbox": "none",  # the double's log is outside any sandbox
    }
    if sandboxed:
        lean = {
            "repl_command": [
                str(Path(sys.executable).resolve()),
                str(FAKE_REPL),
                "--script",
                str(rules),
            ],
            "sandbox": "bwrap",
            "sandbox_ro_binds": [sys.base_prefix, str(FAKE_REPL.parent), str(rules.parent)],
        }
    config = {
        "suite": "smoke",
        "prover": {
            "base_url": url,
            "max_retries": 0,  # a 500 becomes a prover_error the search must retry
            "concurrency": 4,
        },
        "search": {"samples": SAMPLES, "repair_rounds": 1, **search},
        "lean": {"project_dir": str(tmp / "lean"), "workers": 2, **lean},
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, log


def edit_repl_script(config: Path, first_rules: list[dict] | None = None, **keys: Any) -> None:
    """Edit the REPL double's script of a `write_setup` config: set `keys`, then put
    `first_rules` before its rules (the first rule that matches a command decides)."""
    path = config.parent / "rules" / "repl-rules.json"
    script = json.loads(path.read_text())
    script.update(keys)
    if first_rules:
        script["rules"] = [*first_rules, *script["rules"]]
    path.write_text(json.dumps(script))


def read_lines(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "attempts.jsonl").read_text().splitlines()]


def repl_requests(log: Path) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if json.loads(line)["event"] == "request")
