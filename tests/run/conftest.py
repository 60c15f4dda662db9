"""Fixtures the end-to-end run tests share."""

from __future__ import annotations

import pytest

from tests.run.helpers import KEY, KEY_ENV, smoke_problems


@pytest.fixture
def problems():
    return smoke_problems()


@pytest.fixture
def api_key(monkeypatch):
    """The prover key in the environment (modules that run the CLI use it for every test)."""
    monkeypatch.setenv(KEY_ENV, KEY)
