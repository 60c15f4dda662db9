"""Shared test setup: where ../shared is, and markers for tests that need real Lean."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# CI has the read-only reference material beside the clone; HARNESS_SHARED_DIR points elsewhere.
SHARED = Path(os.environ.get("HARNESS_SHARED_DIR", ROOT.parent / "shared")).resolve()


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (set HARNESS_SHARED_DIR to the shared/ folder to run this)")
    return path


@pytest.fixture
def shared() -> Path:
    return shared_path()


def pytest_collection_modifyitems(config, items):
    if shutil.which("lake"):
        return
    skip = pytest.mark.skip(
        reason="real-Lean test: `lake` is not on PATH (install elan, then `harness setup`)"
    )
    for item in items:
        if "lean" in item.keywords:
            item.add_marker(skip)
