"""The shared dataclasses: the verdict vocabulary and the attempt line."""

from __future__ import annotations

import json

import pytest

from harness.types import Attempt, SuiteSource, VerdictKind


def test_an_attempt_holds_a_verdict_kind_and_writes_its_string():
    a = Attempt("p", 0, 1, "sorry")
    assert a.verdict is VerdictKind.SORRY
    data = a.to_json()
    assert data["verdict"] == "sorry" and type(data["verdict"]) is str
    assert json.loads(json.dumps(vars(a)))["verdict"] == "sorry"  # how the record writes it
    assert Attempt.from_json(data) == a
    with pytest.raises(ValueError):
        Attempt("p", 0, 0, "almost")


def test_infrastructure_failures_are_the_machinery_s():
    assert {k for k in VerdictKind if k.is_infrastructure} == {
        VerdictKind.PROVER_ERROR,
        VerdictKind.CHECKER_ERROR,
    }


def test_a_suite_source_reads_from_older_or_newer_files():
    assert SuiteSource.from_json({"suite": "s", "sha256": "x", "new_field": 1}) == SuiteSource(
        "s", sha256="x"
    )
    assert SuiteSource.from_json({}) == SuiteSource("")
