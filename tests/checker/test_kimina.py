"""The "kimina" backend against the loopback Kimina Lean Server double (tests/doubles/kimina_server.py),
whose Lean is the REPL double: verdicts equal the REPL backend's, and the faults of a fleet."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import yaml

from harness.checker import open_checker, protocol
from harness.checker.kimina import (
    CHECK_PATH,
    VERIFY_PATH,
    KiminaChecker,
    build_snippet,
    kimina_header_lines,
    map_response,
)
from harness.checker.toolchain import KIMINA_DOCTOR_HEADER, doctor_checks
from harness.config import Config, config_to_dict, load_config
from harness.errors import CheckerUnavailable, ConfigError
from harness.extract import extract_proof
from harness.soundness.splice import STANDARD_HEADER
from harness.soundness.verify import verify
from harness.suites import smoke_reference_proofs, smoke_suite
from harness.types import Candidate, LeanJob, VerdictKind
from tests.checker.helpers import double_config
from tests.conftest import shared_path
from tests.doubles.chat_server import Raw, Reset, Status
from tests.doubles.kimina_server import KiminaProcess, KiminaServer, split_commands
from tests.soundness.corpus_cases import cases

pytestmark = pytest.mark.timeout(120)

KEY_ENV = "LEAN_SERVER_API_KEY"
KEY = "kimina-test-key-DISTINCTIVE-7a11ce5e"
MARKER = "harness_kimina_marker"
MARKER_RULES = {"rules": [{"match": MARKER, "error": f"unknown identifier '{MARKER}'"}]}


def kimina_config(tmp_path: Path, urls: list[str], **lean) -> Config:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    settings = {
        "backend": "kimina",
        "kimina_urls": urls,
        "project_dir": str(project),
        "workers": 2,
        "timeout_s": 10,
    }
    settings.update(lean)
    return load_config(None, {"lean": settings})


def run_jobs(config: Config, jobs: list[LeanJob], checker: KiminaChecker | None = None):
    async def go():
        async with checker or open_checker(config) as c:
            return list(await asyncio.gather(*(c.run(job) for job in jobs))), dict(c.stats)

    return asyncio.run(go())


def run_verify(config: Config, items):
    async def go():
        async with open_checker(config) as checker:
            return list(await asyncio.gather(*(verify(p, c, checker, config) for p, c in items)))

    return asyncio.run(go())


def job_requests(server: KiminaServer) -> list[dict]:
    """The POSTs that carried a job (not the one-off probe of the server's line numbering)."""

    def ids(body):
        items = (body or {}).get("snippets") or (body or {}).get("codes") or []
        return [str(i.get("id", i.get("custom_id"))) for i in items if isinstance(i, dict)]

    return [
        r for r in server.requests if not any(i.startswith("harness-probe") for i in ids(r["body"]))
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SMOKE = smoke_suite().problems
PROOFS = smoke_reference_proofs()
HONEST_JOB = LeanJob(
    STANDARD_HEADER,
    ("theorem __harness_ref : 1 + 1 = 2 := sorry\n", "theorem t : 1 + 1 = 2 := by\n  norm_num"),
    ("#print axioms t",),
)


def smoke_items():
    return [(p, Candidate(proof=PROOFS[p.name])) for p in SMOKE]


# ---------------------------------------------------------------------------------------------
# The snippet and the way back


def test_snippet_is_the_oneshot_layout_with_a_clean_import_block():
    job = LeanJob(
        "-- the suite's header\nimport Mathlib  -- all of it\nimport Aesop\n\nopen Real\n",
        ("theorem __harness_ref : 1 = 1 := sorry", "theorem t : 1 = 1 := by\n  rfl"),
        ("#print axioms t",),
    )
    snippet = build_snippet(job)
    lines = snippet.code.split("\n")
    # the server's header is the leading import/blank lines: no comment may sit there
    assert lines[:4] == ["import Mathlib", "import Aesop", "", ""]
    assert lines[4] == "open Real"  # every later line keeps its number
    assert snippet.header_lines == 4 == kimina_header_lines(snippet.code)
    assert snippet.layout.starts == [6, 7, 9] and snippet.commands == 2
    assert lines[6] == "theorem t : 1 = 1 := by" and lines[8] == "#print axioms t"
    # a header without imports is left as it is
    assert build_snippet(LeanJob("", ("theorem t : True := trivial",))).code == (
        "theorem t : True := trivial\n"
    )


def test_map_response_splits_messages_and_sorries_by_line():
    snippet = build_snippet(HONEST_JOB)
    ref, body, audit = snippet.layout.starts
    response = {
        "messages": [
            {"severity": "warning", "pos": {"line": ref, "column": 8}, "data": "declaration uses 'sorry'"},
            {"severity": "error", "pos": {"line": body + 1, "column": 2},
             "endPos": {"line": body + 1, "column": 10}, "data": "norm_num failed"},
            {"severity": "info", "pos": {"line": audit, "column": 0}, "data": "'t' depends on axioms: []"},
        ],
        "sorries": [{"pos": {"line": ref, "column": 36}, "goal": "⊢ 1 + 1 = 2"}],
    }  # fmt: skip
    header, commands, audits = map_response(snippet, response)
    assert header == ()
    assert protocol.classify(commands[0]) == "sorry" and commands[0].sorries[0].line == 1
    (error,) = commands[1].errors
    assert (error.line, error.column, error.end_line) == (2, 2, 2)
    # the model's command has errors: the audits count as not run, as in the local backends
    assert audits[0].repl_error.startswith("not run")
    # a REPL-level error lands on the model's command: never a pass
    _, commands, audits = map_response(snippet, {"message": "Unknown environment."})
    assert commands[1].repl_error == "Unknown environment." and commands[0].repl_error is None
    assert protocol.classify(commands[1]) == "lean_error"


def test_recorded_verify_responses_through_an_old_server(tmp_path):
    """The recorded /verify answers of a real server (../shared/fixtures/kimina-verify/): the
    checker falls back from /api/check, and positions (counted from the body) come back right."""
    fixtures = shared_path("fixtures", "kimina-verify")
    source = (fixtures / "goedel-lean_workbook_1001.lean").read_text(encoding="utf-8")
    split = source.index("/- $ (a^{2}")
    job = LeanJob(source[:split], (source[split:].rstrip("\n"),))
    assert build_snippet(job).code == source.rstrip("\n") + "\n"  # the snippet is the file
    recorded = {
        "lean_workbook_1001": json.loads((fixtures / "goedel-lean_workbook_1001.json").read_text()),
        "lean_workbook_10090": json.loads(
            (fixtures / "goedel-lean_workbook_10090.json").read_text()
        ),
        "proof1": json.loads((fixtures / "proof1.json").read_text()),
    }
    paths = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == CHECK_PATH:
            return httpx.Response(404, json={"detail": "Not Found"})
        body = json.loads(request.content)
        (code,) = body["codes"]
        if code["proof"].endswith("#check Nat\n"):  # the numbering probe: body lines
            message = {"severity": "info", "pos": {"line": 1, "column": 0}, "data": "Nat : Type"}
            result = {"custom_id": code["custom_id"], "error": None,
                      "response": {"messages": [message], "env": 1, "time": 0.01}}  # fmt: skip
            return httpx.Response(200, json={"results": [result]})
        name = next(n for n in recorded if n in code["proof"] or n == "proof1")
        answer = json.loads(json.dumps(recorded[name]))
        answer["results"][0]["custom_id"] = code["custom_id"]
        return httpx.Response(200, json=answer)

    proof1 = (fixtures / "proof1.lean").read_text(encoding="utf-8")
    timeout_source = (fixtures / "goedel-lean_workbook_10090.lean").read_text(encoding="utf-8")
    config = kimina_config(tmp_path, ["http://kimina.test:8000"])
    checker = KiminaChecker(config, transport=httpx.MockTransport(handler))
    jobs = [job, LeanJob("", (timeout_source,)), LeanJob("import Mathlib\n", (proof1[15:],))]
    (workbook, timed_out, simple), stats = run_jobs(config, jobs, checker)

    assert workbook.outcome == "ok" and workbook.checked_by is not None
    assert workbook.checked_by == "kimina http://kimina.test:8000"
    (command,) = workbook.commands
    assert protocol.classify(command) == "accepted" and len(command.messages) == 4
    lines = job.commands[0].split("\n")
    for m in command.messages:  # every warning points at the tactic it names
        named = m.text.split("'")[1] if m.text.startswith("'") else None
        at = lines[m.line - 1][m.column :]
        assert at.startswith(named or "simp [Complex.I_sq]") or at.startswith("ring"), m
    assert timed_out.outcome == "timeout" and "Lean process timed out" in timed_out.error
    assert simple.outcome == "ok" and simple.commands[0].messages == ()
    assert paths.count(CHECK_PATH) == 1  # the fallback is remembered for the server
    assert stats["route_fallbacks"] == 1 and stats["probes"] == 1


def test_double_cuts_the_body_where_lean_starts_commands():
    body = (
        "open Real\n\n/-- doc -/\ntheorem a : 1 = 1 := by\n  rfl\ntermination_by x\n#print axioms a"
    )
    assert [start for start, _ in split_commands(body)] == [0, 2, 3, 6]


# ---------------------------------------------------------------------------------------------
# Verdicts equal the REPL backend's


def corpus_items():
    items = []
    for kind in ("accept", "reject"):
        for case in cases(kind):
            items.append((case.problem, extract_proof(case.answer, case.problem.decl_name)))
    return items


def marker_items():
    """Lean errors (the double reports one at the marker) and sorries, for positions."""
    items = []
    for p in SMOKE[:6]:
        items.append((p, Candidate(proof=f"by\n  have h := {MARKER}\n  exact h")))
        items.append((p, Candidate(proof=f"by\n  -- sorry\n  exact {MARKER}")))
    return items


def comparable(verdict):
    """A verdict without what may differ between backends: time, which server said it, and how
    many Lean jobs it took (the REPL backend confirms a proof in a second one)."""
    return replace(verdict, seconds=0.0, checked_by=None, lean_checks=0)


@pytest.mark.parametrize("shape", ["one server", "two servers", "old server", "body numbering"])
def test_verdicts_equal_the_repl_backends(tmp_path, shape):
    items = smoke_items() + corpus_items() + marker_items()
    repl_config, _ = double_config(tmp_path, MARKER_RULES, workers=2)
    expected = run_verify(repl_config, items)
    count = 2 if shape == "two servers" else 1
    numbering = "body" if shape == "body numbering" else "snippet"
    servers = [
        KiminaServer(
            MARKER_RULES, max_repls=2, old_api=shape == "old server", numbering=numbering
        ).start()
        for _ in range(count)
    ]
    try:
        config = kimina_config(tmp_path, [s.url for s in servers])
        got = run_verify(config, items)
    finally:
        for s in servers:
            s.stop()
    assert [comparable(v) for v in got] == [comparable(v) for v in expected]
    assert all(v.checked_by.startswith("kimina http://127.0.0.1:") for v in got if v.checked_by)
    kinds = {v.kind for v in got}
    assert {VerdictKind.PROVED, VerdictKind.REJECTED, VerdictKind.LEAN_ERROR} <= kinds
    assert sum(v.kind == VerdictKind.PROVED for v in got[: len(SMOKE)]) == len(SMOKE)
    if shape == "two servers":
        assert all(s.checks > 10 for s in servers)  # both did their share
    if shape == "old server":
        paths = [r["path"] for r in servers[0].requests]
        # only the requests sent before the first 404 came back (workers = 2) tried /api/check
        assert paths[0] == CHECK_PATH and 1 <= paths.count(CHECK_PATH) <= 2
        assert paths.count(VERIFY_PATH) == len(paths) - paths.count(CHECK_PATH)


# ---------------------------------------------------------------------------------------------
# Faults


def test_429_then_success(tmp_path):
    with KiminaServer() as server:
        server.script(Status(429, body='{"detail": "No available REPLs"}'))
        config = kimina_config(tmp_path, [server.url])
        (result,), stats = run_jobs(config, [HONEST_JOB])
        assert result.outcome == "ok" and stats["busy_retries"] == 1
        assert len(job_requests(server)) == 2 and stats["server_failures"] == 0


def test_no_available_repls_from_a_full_server_is_waited_out(tmp_path):
    """Two jobs in flight, one REPL on the server, its wait limit short: the second job gets
    a real 429 "No available REPLs" and is retried until the REPL is free."""
    script = {"latency_s": 0.05}  # per command; a job is a few commands
    with KiminaServer(script, max_repls=1, max_wait_s=0.1) as server:
        config = kimina_config(tmp_path, [server.url], workers=2)
        results, stats = run_jobs(config, [HONEST_JOB, HONEST_JOB])
    assert [r.outcome for r in results] == ["ok", "ok"]
    assert stats["busy_retries"] >= 1


def test_5xx_takes_a_server_out_and_the_job_goes_to_another(tmp_path):
    with KiminaServer() as a, KiminaServer() as b:
        a.script(Status(503, body="upstream unavailable"))
        config = kimina_config(tmp_path, [a.url, b.url], workers=1)
        (result,), stats = run_jobs(config, [HONEST_JOB])
        assert result.outcome == "ok" and result.checked_by == f"kimina {b.url}"
        assert stats["server_failures"] == 1 and len(job_requests(a)) == 1 and a.checks == 0


def test_requests_go_to_the_least_busy_server_up_to_workers_each(tmp_path):
    with KiminaServer(latency_s=0.2) as a, KiminaServer(latency_s=0.2) as b:
        config = kimina_config(tmp_path, [a.url, b.url], workers=2)
        results, stats = run_jobs(config, [HONEST_JOB] * 8)
        assert all(r.outcome == "ok" for r in results)
        assert list(stats["per_server"].values()) == [4, 4]
        assert a.max_in_flight == b.max_in_flight == 2


def test_one_of_two_servers_killed_mid_run_loses_no_job(tmp_path):
    items = [(p, Candidate(proof=PROOFS[p.name])) for p in SMOKE[:12]] * 3
    with KiminaProcess(latency_s=0.15) as a, KiminaProcess(latency_s=0.15) as b:
        config = kimina_config(tmp_path, [a.url, b.url], workers=2)

        async def go():
            async with open_checker(config) as checker:
                tasks = [asyncio.create_task(verify(p, c, checker, config)) for p, c in items]
                await asyncio.sleep(0.6)
                a.kill()  # SIGKILL: requests in flight there are cut off
                verdicts = await asyncio.gather(*tasks)
                return verdicts, dict(checker.stats)

        verdicts, stats = asyncio.run(go())
    assert len(verdicts) == len(items)
    assert [v.kind for v in verdicts] == [VerdictKind.PROVED] * len(items)
    assert 0 < stats["per_server"][a.url] < stats["per_server"][b.url]
    assert sum(stats["per_server"].values()) == len(items)  # each job answered exactly once
    assert stats["server_failures"] >= 1


def test_all_servers_down_raises_within_30_s_naming_the_urls(tmp_path):
    urls = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    config = kimina_config(tmp_path, urls)
    started = time.monotonic()
    with pytest.raises(CheckerUnavailable) as caught:
        run_jobs(config, [HONEST_JOB, HONEST_JOB])
    elapsed = time.monotonic() - started
    assert KiminaChecker.unavailable_after_s <= elapsed < 30
    message = str(caught.value)
    assert "\n" not in message and all(url in message for url in urls)
    assert "cannot connect" in message and caught.value.urls == tuple(urls)


def test_server_timeout_is_the_timeout_outcome_and_the_server_recovers(tmp_path):
    script = {"rules": [{"match": "HANG_HERE", "hang": True}]}
    with KiminaServer(script) as server:
        config = kimina_config(tmp_path, [server.url], timeout_s=1)
        hung = LeanJob("", ("theorem t : True := by\n  HANG_HERE",))
        fine = LeanJob("", ("theorem t : True := trivial",))
        started = time.monotonic()
        (result, after), stats = run_jobs(config, [hung, fine])
        assert result.outcome == "timeout" and "timed out in 1.0 seconds" in result.error
        assert time.monotonic() - started < 10
        assert after.outcome == "ok" and stats["timeouts"] == 1
        # through verify: the verdict is `timeout`
        problem = SMOKE[0]
        (verdict,) = run_verify(config, [(problem, Candidate(proof="by\n  HANG_HERE"))])
        assert verdict.kind == VerdictKind.TIMEOUT


def test_malformed_response_is_retried_once_then_checker_error(tmp_path):
    with KiminaServer() as server:
        config = kimina_config(tmp_path, [server.url])
        server.script(Raw("{not json"))
        (result,), _ = run_jobs(config, [HONEST_JOB])
        assert result.outcome == "ok" and len(job_requests(server)) == 2  # the retry succeeded
        server.requests.clear()
        server.script(Raw("{not json"), Raw('{"results": []}'))
        (result,), stats = run_jobs(config, [HONEST_JOB])
        assert result.outcome == "checker_error" and "also after a retry" in result.error
        assert len(job_requests(server)) == 2 and stats["checker_errors"] == 1
        (verdict,) = run_verify(config, [(SMOKE[0], Candidate(proof=PROOFS[SMOKE[0].name]))])
        assert verdict.kind == VerdictKind.PROVED  # the server is still in use


def test_a_dropped_connection_is_retried(tmp_path):
    with KiminaServer() as server:
        server.script(Reset())
        config = kimina_config(tmp_path, [server.url])
        (result,), stats = run_jobs(config, [HONEST_JOB])
        assert result.outcome == "ok" and stats["server_failures"] == 1


def test_server_errors_are_retried_once_then_checker_error(tmp_path):
    script = {"rules": [{"match": "CRASH_HERE", "crash": True}]}
    with KiminaServer(script) as server:
        config = kimina_config(tmp_path, [server.url])
        job = LeanJob("", ("theorem t : True := by\n  CRASH_HERE",))
        (result,), _ = run_jobs(config, [job])
        assert result.outcome == "checker_error" and "also after a retry" in result.error
        assert len(job_requests(server)) == 2


# ---------------------------------------------------------------------------------------------
# The key


def test_api_key_is_a_bearer_header_and_in_no_file_written(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with KiminaServer(api_key=KEY) as server:
        config_path = tmp_path / "config.yaml"
        data = config_to_dict(kimina_config(tmp_path, [server.url]))
        config_path.write_text(yaml.safe_dump(data))
        proofs = tmp_path / "proofs.jsonl"
        proofs.write_text(
            "".join(
                json.dumps({"name": p.name, "proof": ":= " + PROOFS[p.name]}) + "\n"
                for p in SMOKE[:5]
            )
        )
        from harness.cli import main

        code = main(["check", "--suite", "smoke", str(proofs), "--config", str(config_path)])
        assert code == 0
        assert server.checks == 5
        assert {r["headers"].get("authorization") for r in server.requests} == {f"Bearer {KEY}"}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    assert KEY not in config_path.read_text() and KEY_ENV in config_path.read_text()


def test_check_takes_the_backend_on_the_command_line(tmp_path, capsys):
    from harness.cli import main

    with KiminaServer() as server:
        proofs = tmp_path / "proofs.jsonl"
        proofs.write_text(json.dumps({"name": SMOKE[0].name, "proof": PROOFS[SMOKE[0].name]}))
        code = main(
            ["check", "--suite", "smoke", str(proofs), "--backend", "kimina", "--set",
             f"lean.kimina_urls={server.url}"]
        )  # fmt: skip
        assert code == 0 and server.checks == 1
    assert "proved" in capsys.readouterr().out


def test_missing_or_wrong_key_stops_with_one_line(tmp_path, monkeypatch):
    with KiminaServer(api_key=KEY) as server:
        config = kimina_config(tmp_path, [server.url])
        monkeypatch.delenv(KEY_ENV, raising=False)
        with pytest.raises(CheckerUnavailable, match=f"export {KEY_ENV}=") as caught:
            run_jobs(config, [HONEST_JOB])
        assert server.url in str(caught.value)
        monkeypatch.setenv(KEY_ENV, "wrong-" + KEY)
        with pytest.raises(CheckerUnavailable, match="refused the key") as caught:
            run_jobs(config, [HONEST_JOB])
        assert KEY not in str(caught.value) and "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Config, open_checker, versions, doctor


def test_config_and_open_checker(tmp_path):
    with pytest.raises(ConfigError, match="lean.kimina_urls"):
        open_checker(load_config(None, {"lean": {"backend": "kimina"}}))
    config = kimina_config(tmp_path, ["http://a:8000", "http://b:8000"])
    checker = open_checker(config)
    assert isinstance(checker, KiminaChecker)
    versions = checker.versions()
    assert versions["backend"] == "kimina http://a:8000 http://b:8000"
    assert versions["fresh_process_confirmation"] == "not done"
    assert versions["lean_toolchain"] == "unknown"  # the (empty) local project's pins


def test_doctor_checks_the_servers_not_the_local_toolchain(tmp_path, monkeypatch):
    assert KIMINA_DOCTOR_HEADER == STANDARD_HEADER
    monkeypatch.delenv(KEY_ENV, raising=False)
    down = f"http://127.0.0.1:{free_port()}"
    with KiminaServer() as good, KiminaServer(old_api=True, lean_version="4.26.0") as old:
        (tmp_path / "project").mkdir()
        (tmp_path / "project" / "lean-toolchain").write_text("leanprover/lean4:v4.24.0\n")
        config = kimina_config(tmp_path, [good.url, old.url, down])
        lines = [c.line() for c in doctor_checks(config)]
    text = "\n".join(lines)
    local = ("elan:", "lake:", "lean:", "project toolchain:", "REPL binary:", "Mathlib cache:")
    assert not any(line[5:].startswith(local) for line in lines)
    assert "contact them over the network" in text
    assert f"OK   kimina {good.url}: GET /health: ok" in lines
    assert any(
        line.startswith(f"OK   kimina {good.url} #check") and "Lean 4.24.0" in line
        for line in lines
    )
    assert any(
        line.startswith(f"OK   kimina {old.url} #check") and "/verify" in line for line in lines
    )
    assert any(
        line.startswith(f"FAIL kimina {old.url} Lean")
        and "LEAN_SERVER_LEAN_VERSION=v4.24.0" in line
        for line in lines
    )
    assert any(line.startswith(f"FAIL kimina {down}: GET /health: unreachable") for line in lines)


# ---------------------------------------------------------------------------------------------
# `harness run` through the backend


def test_harness_run_on_two_servers_one_killed_mid_run(tmp_path, monkeypatch):
    from harness.cli import main
    from tests.doubles.chat_server import ChatServer
    from tests.run.helpers import (
        KEY as PROVER_KEY,
    )
    from tests.run.helpers import (
        KEY_ENV as PROVER_KEY_ENV,
    )
    from tests.run.helpers import (
        MARKER as RUN_MARKER,
    )
    from tests.run.helpers import (
        PROBLEMS,
        ScriptedProver,
        expected_rounds,
        read_lines,
        smoke_problems,
        write_setup,
    )

    monkeypatch.setenv(PROVER_KEY_ENV, PROVER_KEY)
    rules = {"rules": [{"match": RUN_MARKER, "error": f"unknown identifier '{RUN_MARKER}'"}]}
    problems = smoke_problems()
    with (
        ChatServer(ScriptedProver(problems, delay=0.05)) as chat,
        KiminaServer(rules, latency_s=0.1) as a,
        KiminaServer(rules, latency_s=0.1) as b,
    ):
        config_path, _ = write_setup(tmp_path, chat.url)
        data = yaml.safe_load(config_path.read_text())
        data["lean"].update(backend="kimina", kimina_urls=[a.url, b.url], workers=2)
        config_path.write_text(yaml.safe_dump(data))
        run = tmp_path / "run"

        def kill_a_after_some_checks():
            deadline = time.monotonic() + 30
            while a.checks < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            a.kill()

        import threading

        killer = threading.Thread(target=kill_a_after_some_checks)
        killer.start()
        code = main(
            ["run", str(config_path), "--out", str(run), "--limit", str(PROBLEMS), "--no-progress"]
        )
        killer.join()
        assert code == 0
        assert a.killed and a.checks >= 3 and b.checks > 0

    lines = read_lines(run)
    keys = [(line["problem"], line["sample"], line["round"]) for line in lines]
    assert len(keys) == len(set(keys))  # none duplicated
    got = {key: line["verdict"] for key, line in zip(keys, lines, strict=True)}
    assert got == expected_rounds(problems)  # none lost, every verdict as with local Lean
    assert all(line["verdict"] != "checker_error" for line in lines)
