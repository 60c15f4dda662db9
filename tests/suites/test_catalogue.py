"""harness/suites/catalogue.py: every entry is complete, and its checksum is the real one of the
copy in ../shared/benchmarks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.suites.catalogue import (
    CATALOGUE,
    catalogue_entry,
    directory_digest,
    directory_files,
    file_sha256,
)
from harness.suites.fetch import locate_local
from tests.conftest import shared_path
from tests.suites.helpers import FOLDERS


def test_every_entry_is_complete() -> None:
    assert set(FOLDERS) == {e.name for e in CATALOGUE}
    for e in CATALOGUE:
        assert len(e.commit) == 40 and len(e.sha256) == 64
        assert (
            e.kind in ("file", "dir")
            and e.licence
            and e.lean_toolchain.startswith("leanprover/lean4:v4.")
        )
        assert e.counts and all(n > 0 for n in e.counts.values())
        if e.kind == "dir":
            assert e.file_count and e.pattern.endswith(".lean")
    assert all(catalogue_entry(e.name) is e for e in CATALOGUE)
    assert catalogue_entry("no-such-suite") is None


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_checksum_is_that_of_the_shared_copy(name: str) -> None:
    entry = catalogue_entry(name)
    artifact = locate_local(entry, shared_path("benchmarks", FOLDERS[name]))
    if entry.kind == "dir":
        assert len(directory_files(artifact, entry.pattern)) == entry.file_count
        assert directory_digest(artifact, entry.pattern) == entry.sha256
    else:
        assert file_sha256(artifact) == entry.sha256


def test_directory_digest_covers_matching_files_by_name(tmp_path: Path) -> None:
    (tmp_path / "b.lean").write_text("B", encoding="utf-8")
    (tmp_path / "a.lean").write_text("A", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a problem", encoding="utf-8")
    (tmp_path / "sub.lean").mkdir()
    lines = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in (("a.lean", b"A"), ("b.lean", b"B"))
    )
    assert directory_digest(tmp_path, "*.lean") == hashlib.sha256(lines.encode()).hexdigest()
