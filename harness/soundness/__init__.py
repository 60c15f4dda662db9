"""Soundness: what the harness lets Lean see, and what it accepts as a proof.

    screen(candidate_or_text, config.soundness) -> Rejection | None     (screen.py, pure)
    splice(problem, candidate) -> Spliced                              (splice.py, pure)
    axioms_command / fidelity_command / judge_axioms / judge_fidelity  (audit.py, pure)
    await verify(problem, candidate, checker, config) -> Verdict       (verify.py)

`verify` is the only code in the harness that produces the verdict `proved`.
"""

from __future__ import annotations

from harness.soundness.audit import (
    AuditFinding,
    axioms_command,
    fidelity_command,
    judge_axioms,
    judge_fidelity,
    parse_axioms,
)
from harness.soundness.screen import RULES, Rejection, screen, screen_all, uses_native
from harness.soundness.splice import Spliced, filter_preamble, splice, split_lean_file
from harness.soundness.verify import build_job, verify

__all__ = [
    "AuditFinding",
    "RULES",
    "Rejection",
    "Spliced",
    "axioms_command",
    "build_job",
    "fidelity_command",
    "filter_preamble",
    "judge_axioms",
    "judge_fidelity",
    "parse_axioms",
    "screen",
    "screen_all",
    "splice",
    "split_lean_file",
    "uses_native",
    "verify",
]
