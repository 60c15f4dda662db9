"""harness/suites/fetch.py: --from a local folder, a loopback download server, tampered copies,
wrong counts, and a cache that never holds anything half-written."""

from __future__ import annotations

import dataclasses
import http.server
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import HarnessError, SuiteError
from harness.suites import catalogue_entry, fetch_suite, list_suites, load_suite
from harness.suites.fetch import CODELOAD_BASE_ENV, RAW_BASE_ENV, cached_artifact
from tests.conftest import shared_path
from tests.suites.helpers import config_for


def leftovers(cache: Path) -> list[str]:
    root = cache / "suites"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_fetch_from_local_folder_then_load_offline_from_cache(tmp_path: Path) -> None:
    folder = shared_path("benchmarks", "minif2f-lean4-yangky11")
    cache = tmp_path / "cache"
    config = config_for(cache)
    entry = catalogue_entry("minif2f-test")
    with pytest.raises(SuiteError, match="harness suites fetch minif2f-test"):
        load_suite("minif2f-test", config)
    path = fetch_suite(entry, cache, from_dir=folder)
    assert path == cache / "suites" / "minif2f-test" / "MiniF2F" / "Test"
    assert len(list(path.glob("*.lean"))) == 244
    manifest = json.loads((cache / "suites" / "minif2f-test" / "manifest.json").read_text())
    assert manifest["commit"] == entry.commit and len(manifest["files"]) == 244
    suite = load_suite("minif2f-test", config)
    assert len(suite) == 244 and suite.source.commit == entry.commit
    assert leftovers(cache) == ["minif2f-test"]
    rows = {row.name: row for row in list_suites(config)}
    assert rows["minif2f-test"].status == "cached" and rows["minif2f-valid"].status == "not cached"
    # fetching again replaces the copy atomically and leaves nothing else behind
    fetch_suite(entry, cache, from_dir=folder)
    assert leftovers(cache) == ["minif2f-test"]


def test_tampered_file_is_refused_naming_it(tmp_path: Path) -> None:
    original = shared_path("benchmarks", "minif2f-deepseek-prover-v1.5", "minif2f.jsonl")
    copy = tmp_path / "copy"
    copy.mkdir()
    data = bytearray(original.read_bytes())
    data[1000] = ord("X") if data[1000] != ord("X") else ord("Y")
    (copy / "minif2f.jsonl").write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(SuiteError) as info:
        fetch_suite(catalogue_entry("minif2f-deepseek"), cache, from_dir=copy)
    assert info.value.path == str(copy / "minif2f.jsonl")
    assert "checksum mismatch" in str(info.value)
    assert leftovers(cache) == []
    with pytest.raises(SuiteError, match="checksum mismatch"):
        load_suite("minif2f-deepseek", config_for(cache), from_dir=str(copy))


def test_tampered_directory_is_refused_and_earlier_cache_kept(tmp_path: Path) -> None:
    source = shared_path("benchmarks", "combibench")
    entry = catalogue_entry("combibench")
    cache = tmp_path / "cache"
    fetch_suite(entry, cache, from_dir=source)  # a good copy first
    copy = tmp_path / "copy" / "lean" / "CombiBench"
    shutil.copytree(source / "lean" / "CombiBench", copy)
    victim = copy / "hackmath_1.lean"
    victim.write_text(victim.read_text("utf-8").replace("13", "14", 1), "utf-8")
    with pytest.raises(SuiteError) as info:
        fetch_suite(entry, cache, from_dir=tmp_path / "copy")
    assert info.value.path == str(copy) and "checksum mismatch" in str(info.value)
    assert leftovers(cache) == ["combibench"]
    assert cached_artifact(entry, cache) is not None
    assert len(load_suite("combibench", config_for(cache))) == 101


def test_wrong_problem_count_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = shared_path("benchmarks", "proofnet-deepseek-prover-v1.5")
    entry = dataclasses.replace(catalogue_entry("proofnet"), counts={"valid": 185, "test": 187})
    cache = tmp_path / "cache"
    with pytest.raises(SuiteError) as info:
        fetch_suite(entry, cache, from_dir=folder)
    assert info.value.path.endswith("proofnet.jsonl")
    assert "expected valid=185 test=187 problems, found" in str(info.value)
    assert leftovers(cache) == []


def test_from_dir_without_the_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="no file datasets/proofnet.jsonl"):
        load_suite("proofnet", config_for(tmp_path), from_dir=str(tmp_path))


def test_from_dir_may_be_the_directory_itself(tmp_path: Path) -> None:
    src = shared_path("benchmarks", "putnambench", "lean4", "src")
    assert len(load_suite("putnambench", config_for(tmp_path), from_dir=str(src))) == 672


def test_a_cached_directory_changed_later_names_the_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = fetch_suite(
        catalogue_entry("combibench"), cache, from_dir=shared_path("benchmarks", "combibench")
    )
    victim = path / "imo_2024_p5.lean"
    victim.write_text(victim.read_text("utf-8") + "\n-- edited\n", "utf-8")
    with pytest.raises(SuiteError) as info:
        load_suite("combibench", config_for(cache))
    assert info.value.path == str(victim) and "checksum mismatch" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Downloads from a loopback server standing in for raw.githubusercontent.com and codeload


class _Files(http.server.BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.routes.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    routes: dict[str, bytes] = {}
    handler = type("Handler", (_Files,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv(RAW_BASE_ENV, base + "/raw")
    monkeypatch.setenv(CODELOAD_BASE_ENV, base + "/codeload")
    try:
        yield routes
    finally:
        httpd.shutdown()
        httpd.server_close()


def _tarball(top: str, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.timeout(60)
def test_download_single_file_by_commit(server: dict[str, bytes], tmp_path: Path) -> None:
    entry = catalogue_entry("minif2f-goedel")
    data = shared_path("benchmarks", "minif2f-goedel-prover-v2", "minif2f.jsonl").read_bytes()
    server[f"/raw/{entry.repo}/{entry.commit}/{entry.path}"] = data
    cache = tmp_path / "cache"
    path = fetch_suite(entry, cache)
    assert path.read_bytes() == data
    assert len(load_suite("minif2f-goedel", config_for(cache))) == 244


@pytest.mark.timeout(60)
def test_download_directory_from_tarball(server: dict[str, bytes], tmp_path: Path) -> None:
    entry = catalogue_entry("putnambench")
    src = shared_path("benchmarks", "putnambench", "lean4", "src")
    files = {f"lean4/src/{p.name}": p.read_bytes() for p in src.glob("*.lean")}
    files["lean4/README.md"] = b"not a problem"
    files["coq/src/putnam_1962_a1.v"] = b"(* not Lean *)"
    top = f"PutnamBench-{entry.commit}"
    server[f"/codeload/{entry.repo}/tar.gz/{entry.commit}"] = _tarball(top, files)
    cache = tmp_path / "cache"
    path = fetch_suite(entry, cache)
    assert len(list(path.iterdir())) == 672
    assert len(load_suite("putnambench", config_for(cache))) == 672


@pytest.mark.timeout(60)
def test_download_with_a_changed_file_leaves_nothing(
    server: dict[str, bytes], tmp_path: Path
) -> None:
    entry = catalogue_entry("mobench")
    data = shared_path("benchmarks", "matholympiadbench-goedel-v2", "MOBench.jsonl").read_bytes()
    server[f"/raw/{entry.repo}/{entry.commit}/{entry.path}"] = data.replace(
        b"usa2005_p2", b"usa2005_p3", 1
    )
    cache = tmp_path / "cache"
    with pytest.raises(SuiteError) as info:
        fetch_suite(entry, cache)
    assert info.value.path.endswith("dataset/MOBench.jsonl") and "checksum mismatch" in str(
        info.value
    )
    assert leftovers(cache) == []


@pytest.mark.timeout(60)
def test_download_failure_is_one_error_and_leaves_nothing(
    server: dict[str, bytes], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(HarnessError, match="HTTP 404"):
        fetch_suite(catalogue_entry("proofnet"), cache)
    assert leftovers(cache) == []
