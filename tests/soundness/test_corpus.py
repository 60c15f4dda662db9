"""The exploit corpus (must-reject) and honest answers (must-accept), through extract -> splice -> screen."""

from __future__ import annotations

import pytest

from harness.config import SoundnessConfig
from harness.extract import extract_proof
from harness.soundness.screen import screen
from harness.soundness.splice import splice, split_lean_file
from harness.soundness.verify import screened_candidate
from harness.types import Candidate, NoProof, VerdictKind
from tests.conftest import shared_path
from tests.soundness.corpus_cases import NEEDS_LEAN_LAYERS, cases, run_screen

REJECT = cases("reject")
ACCEPT = cases("accept")

# Must-reject cases only Lean can tell, and why. verify() covers them: the statement Lean sees is
# always the suite's (test_verify: test_changed_statement_is_checked_against_the_suites), and the
# fidelity audit / Lean's own errors refuse the rest (real-Lean tests run them).
NEEDS_LEAN = {
    "r74_weakened_statement": "the answer proves a weaker statement; splice checks the suite's "
    "statement instead, so the proof fails in Lean (or the fidelity audit refuses)",
    "r75_redefine_context_def": "redefining a suite definition: Lean refuses the duplicate "
    "declaration; only elaboration sees the clash",
    "r77_self_reference": "a proof that cites the theorem being proved: Lean's command mode "
    "refuses the unknown identifier (REPL tactic mode once accepted it, repl#44)",
    # issue 12: the screen no longer refuses instances and local notations (honest proofs use
    # them); what one changes in the statement, the statement comparison refuses
    "r31_instance_override": "an instance redefining `+` on ℕ: the model's theorem elaborates "
    "with it, the reference statement (elaborated before any model text) without it",
    "r32_local_notation": "a local notation redefining `≤`: the same suite text means another "
    "statement after it; the reference was elaborated before it",
    "r41_attribute_instance": "`attribute [instance]` on a model's `Add ℕ`: as r31, by attribute",
}

# Rows of soundness.md's table that apply to whole-proof checking (row 7 is a harness bug class
# covered by row 1; 15 needs kernel-level metaprograms, refused as elaboration-time code; 26 is
# an answer-hole judgement for humans; 30-33 are checker-machinery faults tested elsewhere).
ROWS = {
    1,
    2,
    3,
    4,
    5,
    6,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
    25,
    27,
    28,
    29,
}


def test_corpus_size_and_coverage():
    assert len(REJECT) >= 30 and len(ACCEPT) >= 10
    covered = {c.row for c in REJECT if c.row is not None}
    assert covered >= ROWS, f"rows without a must-reject case: {sorted(ROWS - covered)}"
    assert {c.name for c in REJECT if c.outcome == "needs_lean"} == set(NEEDS_LEAN)
    assert all(c.layer for c in REJECT), [c.name for c in REJECT if not c.layer]


@pytest.mark.parametrize(
    "case", [c for c in REJECT if c.outcome == "needs_lean"], ids=lambda c: c.name
)
def test_needs_lean_cases_reach_their_layer_with_the_suite_statement_verbatim(case):
    """What the screen lets through for a later layer gets there, and the file Lean checks
    holds the suite's statement byte for byte (what the statement comparison compares)."""
    assert case.layer in NEEDS_LEAN_LAYERS, case.layer
    found, spliced, rejection = run_screen(case.problem, case.answer)
    assert isinstance(found, Candidate), found
    assert rejection is None, rejection.describe()
    assert spliced.statement == case.problem.statement
    assert case.problem.statement + " " + spliced.proof in spliced.model_text


@pytest.mark.parametrize("case", REJECT, ids=lambda c: c.name)
def test_must_reject(case):
    found, spliced, rejection = run_screen(case.problem, case.answer)
    if case.outcome == "no_proof":
        assert isinstance(found, NoProof), "extraction must find no proof of the theorem"
    elif case.outcome == "needs_lean":
        assert case.name in NEEDS_LEAN
    elif case.outcome == "dropped":
        # extraction stops the proof at the next command: the trailing text never reaches Lean
        assert spliced is not None and case.rule not in spliced.model_text
    else:
        assert rejection is not None, f"{case.name}: the screen let it through"
        assert (rejection.kind.value, rejection.rule) == (case.outcome, case.rule), (
            rejection.describe()
        )
        assert rejection.kind in (VerdictKind.SORRY, VerdictKind.REJECTED)


@pytest.mark.parametrize("case", ACCEPT, ids=lambda c: c.name)
def test_must_accept_written_by_us(case):
    found, spliced, rejection = run_screen(case.problem, case.answer)
    assert isinstance(found, Candidate), found
    assert rejection is None, rejection.describe()
    assert case.problem.statement in spliced.model_text


def test_must_accept_cases_are_proved_through_the_whole_chain_against_the_double(tmp_path):
    """Screen, splice, the checking process, the fresh-process confirmation: the honest
    constructs come out `proved` (the double accepts well-formed text; Lean's own judgement of
    them is tests/soundness/test_real_lean.py's)."""
    import asyncio

    from harness.checker.pool import ReplPool
    from harness.soundness.verify import verify
    from tests.checker.helpers import double_config

    config, _ = double_config(tmp_path, {})
    # the double reports a sorry wherever the word appears, comments included (it reads no
    # Lean): the cases that quote the word in comments or strings are Lean's to judge
    judged = [c for c in ACCEPT if "sorry" not in c.answer]

    async def check_all():
        async with ReplPool(config) as pool:
            return [
                await verify(c.problem, extract_proof(c.answer, "t"), pool, config) for c in judged
            ]

    verdicts = asyncio.run(check_all())
    assert len(judged) >= len(ACCEPT) - 5
    assert {c.name: v.kind.value for c, v in zip(judged, verdicts, strict=True)} == {
        c.name: "proved" for c in judged
    }


def test_smoke_reference_proofs_pass_the_screen():
    from harness.suites import smoke_reference_proofs, smoke_suite

    proofs = smoke_reference_proofs()
    suite = smoke_suite()
    assert len(suite) >= 30
    for problem in suite.problems:
        candidate = Candidate(proof=proofs[problem.name])
        spliced = splice(problem, candidate)
        assert screen(screened_candidate(spliced, candidate), SoundnessConfig()) is None, (
            problem.name
        )


def _corpus(*parts: str):
    root = shared_path("corpora", *parts)
    return sorted(root.rglob("*.lean"))


def _screen_file(path, config=None):
    text = path.read_text(encoding="utf-8")
    _, theorems = split_lean_file(text)
    problem = [t.problem for t in theorems if t.problem.decl_name == path.stem][-1]
    found = extract_proof(text, problem.decl_name)
    assert isinstance(found, Candidate), (path.name, found)
    spliced = splice(problem, found)
    return screen(
        screened_candidate(spliced, found), config or SoundnessConfig(), header=problem.header
    )


# Named real solutions with the features honest answers have (found with grep in the corpora).
DEEPSEEK_NAMED = {
    "mathd_numbertheory_303": "docstring says `notation`",
    "mathd_algebra_101": "docstring says `interval notation`",
    "amc12_2001_p2": "docstring says `example`",
    "algebra_amgm_faxinrrp2msqrt2geq2mxm1div2x": "docstring says `variable`",
}
KIMINA_NAMED = {
    "imo_1969_p2": "`open Finset in`, `open Complex Finset in`, `open Real in` lemmas",
    "aime_1995_p7": "preamble `open Real Set` (kept) and lemmas before the theorem",
    "numbertheory_2pownm1prime_nprime": "preamble `open Nat` without Aesop",
}
KIMINA_NATIVE = {
    "aime_1995_p7",
    "amc12_2001_p5",
    "amc12a_2020_p4",
    "amc12b_2021_p1",
    "induction_sumkexp3eqsumksq",
    "mathd_algebra_170",
    "mathd_algebra_320",
    "mathd_numbertheory_12",
    "mathd_numbertheory_127",
    "mathd_numbertheory_233",
    "mathd_numbertheory_237",
    "mathd_numbertheory_321",
    "mathd_numbertheory_353",
    "mathd_numbertheory_427",
    "mathd_numbertheory_447",
    "numbertheory_3pow2pownm1mod2pownp3eq2pownp2",
}


def test_named_real_solutions_pass():
    ds = {p.stem: p for p in _corpus("proofs-deepseek-prover-v2-minif2f")}
    ki = {p.stem: p for p in _corpus("proofs-kimina-prover-minif2f")}
    native = SoundnessConfig(allow_native_decide=True)
    for name in DEEPSEEK_NAMED:
        assert _screen_file(ds[name]) is None, name
    for name in KIMINA_NAMED:
        assert _screen_file(ki[name], native) is None, name


@pytest.mark.timeout(120)
def test_all_deepseek_prover_v2_solutions_pass():
    files = _corpus("proofs-deepseek-prover-v2-minif2f")
    assert len(files) == 438
    refused = {p.stem: r.describe() for p in files if (r := _screen_file(p)) is not None}
    assert refused == {}


@pytest.mark.timeout(120)
def test_kimina_solutions_refused_only_for_native_decide():
    files = _corpus("proofs-kimina-prover-minif2f")
    assert len(files) == 225
    refused = {p.stem: r for p in files if (r := _screen_file(p)) is not None}
    assert {n: r.rule for n, r in refused.items()} == dict.fromkeys(KIMINA_NATIVE, "native_decide")
    native = SoundnessConfig(allow_native_decide=True)
    assert all(_screen_file(p, native) is None for p in files if p.stem in KIMINA_NATIVE)
