"""Pinned suite files: find them (cache, or a local folder), download them, verify them.

The cache holds one directory per suite, `<suites.cache_dir>/suites/<name>/`, with the files at
their repository paths and a `manifest.json` (entry, commit, digest, per-file sha256). A fetch
writes everything into a temporary directory beside it, verifies checksums and problem counts
there, and only then renames it into place, so a failed fetch leaves nothing behind.

Downloads come from GitHub by commit: single files from raw.githubusercontent.com, directories
from the codeload tarball of the commit. Both base URLs can be changed (tests point them at a
loopback server) with the environment variables `HARNESS_GITHUB_RAW_BASE` and
`HARNESS_GITHUB_CODELOAD_BASE`.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path, PurePosixPath

import httpx

from harness.errors import HarnessError, SuiteError
from harness.suites.catalogue import (
    CatalogueEntry,
    directory_digest,
    directory_files,
    file_sha256,
)
from harness.suites.loaders import load_lean_dir, load_path, unique_names
from harness.types import Problem

__all__ = [
    "RAW_BASE_ENV",
    "CODELOAD_BASE_ENV",
    "DEFAULT_RAW_BASE",
    "DEFAULT_CODELOAD_BASE",
    "suite_cache_dir",
    "cached_artifact",
    "locate_local",
    "verify_artifact",
    "fetch_suite",
    "load_artifact",
    "check_counts",
]

RAW_BASE_ENV = "HARNESS_GITHUB_RAW_BASE"
CODELOAD_BASE_ENV = "HARNESS_GITHUB_CODELOAD_BASE"
DEFAULT_RAW_BASE = "https://raw.githubusercontent.com"
DEFAULT_CODELOAD_BASE = "https://codeload.github.com"
_TIMEOUT = httpx.Timeout(30.0, read=300.0)
_MAX_BYTES = 512 * 1024 * 1024  # no suite comes near this; a runaway download stops here


def suite_cache_dir(cache_dir: str | Path, name: str) -> Path:
    return Path(cache_dir).expanduser() / "suites" / name


def cached_artifact(entry: CatalogueEntry, cache_dir: str | Path) -> Path | None:
    """The cached file or directory of a suite, if a completed fetch put it there."""
    root = suite_cache_dir(cache_dir, entry.name)
    manifest = root / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("commit") != entry.commit or data.get("sha256") != entry.sha256:
        return None  # fetched for an older catalogue: fetch again
    artifact = root / entry.path
    return artifact if artifact.exists() else None


def locate_local(entry: CatalogueEntry, folder: str | Path) -> Path:
    """Find a suite's file or directory under `folder` by the catalogue's names.

    Tried in order: the repository path under the folder, the folder itself (for a directory
    suite), the base name under the folder, then any path below the folder ending in the
    repository path's last components.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise SuiteError(str(root), None, "--from: not a directory")
    want_dir = entry.kind == "dir"
    parts = PurePosixPath(entry.path).parts

    def ok(p: Path) -> bool:
        return p.is_dir() if want_dir else p.is_file()

    candidates = [root / entry.path]
    if want_dir:
        candidates.append(root)
    candidates.append(root / parts[-1])
    for c in candidates:
        if ok(c) and (not want_dir or directory_files(c, entry.pattern)):
            return c
    for k in range(len(parts), 0, -1):
        tail = "/".join(parts[-k:])
        for c in sorted(root.rglob(parts[-1])):
            if ok(c) and c.as_posix().endswith(tail):
                if not want_dir or directory_files(c, entry.pattern):
                    return c
    raise SuiteError(
        str(root),
        None,
        f"--from: no {'directory' if want_dir else 'file'} {entry.path} for {entry.name}",
    )


def _manifest_files(entry: CatalogueEntry, artifact: Path) -> dict[str, str]:
    """Per-file digests a fetch recorded for a cached directory (empty for other copies)."""
    depth = len(PurePosixPath(entry.path).parts)
    parents = artifact.resolve().parents
    if len(parents) < depth:
        return {}
    manifest = parents[depth - 1] / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError):
        return {}
    return files if isinstance(files, dict) else {}


def _changed_file(artifact: Path, pattern: str, known: dict[str, str]) -> Path | None:
    """With per-file digests from a manifest: the first file that differs, is new or is gone."""
    if not known:
        return None
    present = {p.name: p for p in directory_files(artifact, pattern)}
    for name in sorted(set(known) | set(present)):
        path = present.get(name)
        if path is None or name not in known or file_sha256(path) != known[name]:
            return artifact / name
    return None


def verify_artifact(entry: CatalogueEntry, artifact: Path) -> dict[str, str]:
    """Check the checksum (and file count) of a suite's file or directory.

    Returns the per-file sha256 map (file name -> digest). A mismatch is a SuiteError naming
    the file. For a directory the one digest cannot say which file changed, so the error names
    the directory, or the changed file itself when the cache's manifest has per-file digests.
    """
    if entry.kind == "file":
        digest = file_sha256(artifact)
        if digest != entry.sha256:
            raise SuiteError(
                str(artifact),
                None,
                f"{entry.name}: checksum mismatch (sha256 {digest[:16]}..., expected {entry.sha256[:16]}...)",
            )
        return {artifact.name: digest}
    files = directory_files(artifact, entry.pattern)
    where = artifact
    if entry.file_count is not None and len(files) != entry.file_count:
        where = _changed_file(artifact, entry.pattern, _manifest_files(entry, artifact)) or artifact
        raise SuiteError(
            str(where),
            None,
            f"{entry.name}: expected {entry.file_count} files matching {entry.pattern}, found {len(files)}",
        )
    digest = directory_digest(artifact, entry.pattern)
    if digest != entry.sha256:
        where = _changed_file(artifact, entry.pattern, _manifest_files(entry, artifact)) or artifact
        raise SuiteError(
            str(where),
            None,
            f"{entry.name}: checksum mismatch over {len(files)} files of {artifact.name}/ "
            f"(sha256 {digest[:16]}..., expected {entry.sha256[:16]}...)",
        )
    return {p.name: file_sha256(p) for p in files}


def load_artifact(entry: CatalogueEntry, artifact: Path) -> list[Problem]:
    """A catalogued suite's problems from its file or directory, names made unique."""
    if entry.kind == "dir":
        problems = load_lean_dir(artifact, entry.pattern)
    else:
        problems = load_path(artifact)
    return unique_names(problems, str(artifact))


def check_counts(entry: CatalogueEntry, artifact: Path, problems: list[Problem]) -> None:
    """Problems per split must be what the catalogue says; otherwise an error naming the file."""
    counts: dict[str | None, int] = {}
    for p in problems:
        counts[p.split] = counts.get(p.split, 0) + 1
    if counts != entry.counts:
        got = " ".join(f"{k or 'all'}={v}" for k, v in counts.items())
        raise SuiteError(
            str(artifact),
            None,
            f"{entry.name}: expected {entry.counts_text()} problems, found {got}",
        )


def _download(client: httpx.Client, url: str) -> bytes:
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise HarnessError(f"download failed: {url}: HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > _MAX_BYTES:
                    raise HarnessError(f"download failed: {url}: larger than {_MAX_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise HarnessError(
            f"download failed: {url}: {exc.__class__.__name__} ({exc}); "
            f"use `--from DIR` with a local copy"
        ) from exc


def _download_into(entry: CatalogueEntry, stage: Path) -> None:
    raw = os.environ.get(RAW_BASE_ENV, DEFAULT_RAW_BASE).rstrip("/")
    codeload = os.environ.get(CODELOAD_BASE_ENV, DEFAULT_CODELOAD_BASE).rstrip("/")
    with httpx.Client(timeout=_TIMEOUT, follow_redirects=True) as client:
        if entry.kind == "file":
            data = _download(client, f"{raw}/{entry.repo}/{entry.commit}/{entry.path}")
            target = stage / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            return
        data = _download(client, f"{codeload}/{entry.repo}/tar.gz/{entry.commit}")
    target_dir = stage / entry.path
    target_dir.mkdir(parents=True, exist_ok=True)
    wanted = PurePosixPath(entry.path)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if len(parts) < 2 or not member.isfile():
                    continue
                inner = PurePosixPath(*parts[1:])  # drop the `<repo>-<commit>/` top directory
                if inner.parent != wanted or not fnmatch.fnmatch(inner.name, entry.pattern):
                    continue
                fh = tar.extractfile(member)
                if fh is not None:
                    # Only the base name is used, so archive paths cannot escape the stage.
                    (target_dir / inner.name).write_bytes(fh.read())
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise HarnessError(
            f"download of {entry.repo}@{entry.commit[:7]}: bad tarball ({exc})"
        ) from exc


def _copy_into(entry: CatalogueEntry, source: Path, stage: Path) -> None:
    target = stage / entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if entry.kind == "dir":
        target.mkdir(parents=True, exist_ok=True)
        for p in directory_files(source, entry.pattern):
            shutil.copy2(p, target / p.name)
    else:
        shutil.copy2(source, target)


def fetch_suite(
    entry: CatalogueEntry, cache_dir: str | Path, from_dir: str | Path | None = None
) -> Path:
    """Download (or copy from `from_dir`) a suite's pinned files into the cache, verified.

    Returns the cached file or directory. On any failure nothing is left in the cache: the
    staging directory is removed and an earlier good copy stays as it was.
    """
    final = suite_cache_dir(cache_dir, entry.name)
    try:
        return _fetch_into(entry, final, from_dir)
    except OSError as exc:  # a full disk, an unwritable cache_dir, an unreadable copy
        where = exc.filename or final
        raise SuiteError(
            str(where), None, f"{entry.name}: fetch failed ({exc.strerror or exc})"
        ) from None


def _fetch_into(entry: CatalogueEntry, final: Path, from_dir: str | Path | None) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".partial", dir=final.parent))
    os.chmod(stage, 0o755)  # mkdtemp makes it private; the cache is ordinary user data
    try:
        if from_dir is not None:
            source = locate_local(entry, from_dir)
            verify_artifact(entry, source)  # name the user's file, not our copy, on a mismatch
            _copy_into(entry, source, stage)
        else:
            _download_into(entry, stage)
        artifact = stage / entry.path
        if not artifact.exists():
            raise SuiteError(
                str(artifact), None, f"{entry.name}: {entry.path} missing from the download"
            )
        files = verify_artifact(entry, artifact)
        check_counts(entry, artifact, load_artifact(entry, artifact))
        manifest = {
            "name": entry.name,
            "repo": entry.repo,
            "commit": entry.commit,
            "path": entry.path,
            "sha256": entry.sha256,
            "files": files,
            "source": str(from_dir) if from_dir is not None else "github",
        }
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        old = None
        if final.exists():
            old = final.with_name(f".{entry.name}.{uuid.uuid4().hex[:8]}.old")
            os.rename(final, old)
        try:
            os.rename(stage, final)
        except OSError:
            if old is not None:
                os.rename(old, final)  # put the earlier good copy back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return final / entry.path
