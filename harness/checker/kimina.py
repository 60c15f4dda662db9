"""The "kimina" backend: Lean checks on remote Kimina Lean Servers (project-numina/kimina-lean-server).

    lean:
      backend: kimina
      kimina_urls: [http://lean-1:8000, http://lean-2:8000]   # or one URL (a load balancer)
      workers: 8          # requests in flight per URL
      timeout_s: 120      # sent as the server's `timeout`

A job is one snippet, laid out as the one-shot backend lays out its file (`oneshot.layout_file`):
the header (its import block first, as the server wants it) + the commands (the reference
statement, then the model's text) + the audits. The server splits the snippet into its header
(leading `import` and blank lines; one warm REPL per header) and body, runs the body, and
answers with the REPL's own reply; its message positions are mapped back to the commands and
audits by line (`oneshot.split_messages`), so `soundness.verify` decides verdicts exactly as
for the local backends.

Wire format (../shared/reference/kimina_api.md): `POST /api/check` with
`{"snippets": [{"id", "code"}], "timeout", "debug": false, "reuse": true, "infotree": null}` ->
`{"results": [{"id", "time", "error"?, "response"?}]}`. A server answering 404 there is an older
one: it gets `POST /verify` with `{"codes": [{"custom_id", "proof"}], "timeout",
"infotree_type": null, "disable_cache": false}` from then on (remembered per server). Servers
differ in how they number lines: since kimina-lean-server PR #56 (2025-10) positions are the
snippet's own lines; before it, and on the old /verify servers (the recorded responses in
../shared/fixtures/kimina-verify/ show it), they count from the first line after the header.
So the first job with an import header on a server sends, in its own slot, that header plus
`#check Nat` once, and the line of the answer says which (remembered per server and route).
The optional key (`lean.kimina_api_key_env`, read from the environment) goes in
`Authorization: Bearer`; it is never logged, recorded or put in an error.

Many servers: each job goes to the server with the fewest requests in flight (at most
`lean.workers` each). A server that fails at the connection level or answers 5xx is taken out
for a back-off (0.5 s doubling to 8 s, reset by its next answer) and the job goes to another;
429 / "No available REPLs" is retried with back-off; the server's "timed out" error is the
`timeout` outcome; a malformed response, or another error the server reports, is retried once,
then `checker_error`. A job that lost its server mid-request three times is a `checker_error`
(it may be what brings servers down). When every server has been failing for
`unavailable_after_s` (20 s), `run` raises `CheckerUnavailable` naming the URLs: the run must
stop (resumably), not record failures for hours. So do a 401/403 (the key) and a URL that
answers 404 on both routes (not a Kimina server).

Soundness: model text runs on a machine the harness neither sandboxes nor controls, in the same
file as the audits (no trusted second file as in the one-shot backend), and is not confirmed in
a fresh process. Results carry `checked_by` ("kimina URL"); `harness recheck RUN_DIR` with a
local backend confirms `proved` verdicts later (docs/remote.md).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from harness.checker import protocol
from harness.checker.oneshot import FileLayout, layout_file, split_messages
from harness.checker.toolchain import project_versions
from harness.config import Config
from harness.errors import CheckerUnavailable, ConfigError
from harness.types import CommandResult, LeanJob, LeanJobResult, LeanMessage, Sorry

__all__ = [
    "KiminaChecker",
    "Snippet",
    "build_snippet",
    "kimina_header_lines",
    "map_response",
    "CHECK_PATH",
    "VERIFY_PATH",
]

CHECK_PATH = "/api/check"
VERIFY_PATH = "/verify"

NOT_RUN = "not run: the submission has errors"
BACKOFF_BASE_S = 0.5  # a failing server is out for this long, doubling per failure
BACKOFF_MAX_S = 8.0
BUSY_BASE_S = 0.5  # 429 / "No available REPLs": first wait, doubling
BUSY_MAX_S = 8.0
BUSY_LIMIT_S = 900.0  # a job that found every server busy this long is a checker_error
RETRY_AFTER_MAX_S = 30.0
JOB_SERVER_FAILURES = 3  # mid-request failures (5xx, dropped connection) one job may meet
UNAVAILABLE_AFTER_S = 20.0  # every server failing this long: CheckerUnavailable
# The server may wait for a free REPL (LEAN_SERVER_MAX_WAIT, 60 s), then run the header and the
# body, each with `timeout`: the client waits for all of that, and a margin.
SERVER_WAIT_S = 60.0
READ_MARGIN_S = 30.0


# ---------------------------------------------------------------------------------------------
# The snippet and the way back (pure)


@dataclass(frozen=True)
class Snippet:
    code: str
    layout: FileLayout
    commands: int  # how many of the layout's pieces are job.commands (the rest are audits)
    header_lines: int  # the lines the server takes as the header (see kimina_header_lines)


def kimina_header_lines(code: str) -> int:
    """The leading lines the server splits off as the header: blank or `import ` lines
    (kimina-lean-server `split.py::split_snippet`)."""
    count = 0
    lines = code.split("\n")
    for line in lines[:-1] if code.endswith("\n") else lines:
        if line.strip() and not line.strip().startswith("import "):
            break
        count += 1
    return count


def _prefix(header: str) -> str:
    """The header with its import block as bare `import X` lines (the server's header is only
    its leading `import` and blank lines: a comment there would push the imports into the
    body), padded with blank lines so every later line keeps its number."""
    parts = protocol.split_header(header)
    if not parts.imports:
        return header
    pad = parts.rest_line - 1 - len(parts.imports)
    if pad < 0:
        return header
    return "\n".join(parts.imports) + "\n" + "\n" * pad + parts.rest


def build_snippet(job: LeanJob) -> Snippet:
    """The one snippet for a job: header, commands, audits, laid out as the one-shot file."""
    layout = layout_file(_prefix(job.header), (*job.commands, *job.audits))
    return Snippet(layout.text, layout, len(job.commands), kimina_header_lines(layout.text))


def _moved(message: LeanMessage, lines: int) -> LeanMessage:
    if not lines:
        return message
    return LeanMessage(
        severity=message.severity,
        line=message.line + lines,
        column=message.column,
        text=message.text,
        end_line=message.end_line + lines if message.end_line else message.end_line,
        end_column=message.end_column,
    )


def map_response(
    snippet: Snippet, response: dict[str, Any], shift: int = 0
) -> tuple[tuple[LeanMessage, ...], tuple[CommandResult, ...], tuple[CommandResult, ...]]:
    """The REPL reply for a whole snippet -> (header messages, command results, audit results),
    positions relative to each command. `shift` is added to every line first (the header's
    lines, for servers that count from the body)."""
    pieces = len(snippet.layout.starts)
    reply = protocol.decode_reply(response)
    if reply.repl_error is not None:
        # A REPL-level error for the whole body: no command is known to have passed. It lands on
        # the last command (the model's), and the audits are not run: never a pass.
        results = [CommandResult() for _ in range(pieces)]
        last = max(snippet.commands - 1, 0) if pieces else 0
        if pieces:
            results[last] = CommandResult(repl_error=reply.repl_error)
        commands, audits = results[: snippet.commands], results[snippet.commands :]
        audits = [CommandResult(repl_error=NOT_RUN) for _ in audits]
        return (), tuple(commands), tuple(audits)

    messages = [_moved(m, shift) for m in reply.messages]
    header, per_piece = split_messages(snippet.layout, messages)
    # Sorries go through the same line split, as messages in disguise.
    as_messages = [
        LeanMessage("sorry", s.line + shift, s.column or 0, s.goal)
        for s in reply.sorries
        if s.line is not None
    ]
    stray, sorries_per_piece = split_messages(snippet.layout, as_messages)
    sorries: list[list[Sorry]] = [
        [Sorry(m.line, m.column, m.text) for m in piece] for piece in sorries_per_piece
    ]
    # A sorry without a position, or in the header's lines, counts against the model's command.
    loose = [s for s in reply.sorries if s.line is None] + [
        Sorry(None, m.column, m.text) for m in stray
    ]
    if loose and pieces:
        sorries[max(snippet.commands - 1, 0)].extend(loose)
    results = [
        CommandResult(messages=tuple(per_piece[i]), sorries=tuple(sorries[i]))
        for i in range(pieces)
    ]
    commands = tuple(results[: snippet.commands])
    audits = tuple(results[snippet.commands :])
    if commands and (commands[-1].errors or commands[-1].repl_error):
        audits = tuple(CommandResult(repl_error=NOT_RUN) for _ in audits)
    return header, commands, audits


# ---------------------------------------------------------------------------------------------
# Servers


class _Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.route = CHECK_PATH  # VERIFY_PATH once it answered 404 there
        self.in_flight = 0
        self.assigned = 0
        self.down_until = 0.0  # out of rotation until then (monotonic clock)
        self.failing_since: float | None = None  # start of the current run of failures
        self.streak = 0
        self.last_error = ""
        self.checks = 0
        self.failures = 0
        # per route: does the server number positions from the snippet's first line or from
        # the body's (servers before kimina-lean-server PR #56 did the latter)? Probed once.
        self.numbering: dict[str, str] = {}
        self.probes: dict[str, asyncio.Future[str | None]] = {}
        self.unclear = 0  # probes without a clear answer

    def answered(self) -> None:
        self.streak = 0
        self.failing_since = None
        self.down_until = 0.0

    def failed(self, detail: str, now: float) -> None:
        self.failures += 1
        self.last_error = detail
        if self.failing_since is None:
            self.failing_since = now
        if now < self.down_until:
            return  # already out (several requests failed together): one step of back-off
        self.streak += 1
        self.down_until = now + min(BACKOFF_BASE_S * 2 ** (self.streak - 1), BACKOFF_MAX_S)


@dataclass
class _Reply:
    """What one POST came to."""

    kind: str  # result | connect | dropped | server_error | busy | not_found | auth | malformed
    detail: str = ""
    result: dict[str, Any] | None = None
    retry_after: float | None = None
    status: int | None = None


def _exc_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:160]}" if text else exc.__class__.__name__


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), RETRY_AFTER_MAX_S))
    except ValueError:
        return None


class KiminaChecker:
    """The "kimina" backend of `open_checker`: `async with`, `await run(job)`, `versions()`."""

    unavailable_after_s = UNAVAILABLE_AFTER_S

    def __init__(self, config: Config, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.lean = config.lean
        urls = list(self.lean.kimina_urls)
        if not urls:
            raise ConfigError(
                "lean.kimina_urls: empty, but lean.backend is kimina; set it to the Kimina Lean "
                "Server URL(s), e.g. --set lean.kimina_urls=http://HOST:8000 (docs/remote.md)"
            )
        self._servers = [_Server(url) for url in urls]
        self._per_server = self.lean.workers
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._key: str | None = None
        self._ids = itertools.count(1)
        self._slots: asyncio.Semaphore | None = None
        self._changed: asyncio.Event | None = None
        self._timeouts: dict[int, httpx.Timeout] = {}
        self.checked_by = "kimina " + " ".join(urls)
        self.stats: dict[str, Any] = {
            "backend": "kimina",
            "checks": 0,
            "timeouts": 0,
            "checker_errors": 0,
            "retries": 0,
            "busy_retries": 0,
            "server_failures": 0,
            "route_fallbacks": 0,
            "probes": 0,
            "per_server": {url: 0 for url in urls},  # jobs each server answered
            "last_errors": {},  # url -> the last failure seen there (no key in it)
        }

    def __repr__(self) -> str:  # never the key
        return f"KiminaChecker({self.checked_by!r}, workers={self._per_server})"

    # -- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> KiminaChecker:
        self._key = os.environ.get(self.lean.kimina_api_key_env) or None
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        connections = len(self._servers) * (self._per_server + 1)
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(connect=10.0, read=None, write=60.0, pool=60.0),
            limits=httpx.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=30.0,
            ),
            transport=self._transport,  # None: httpx's own
            trust_env=True,
        )
        self._slots = asyncio.Semaphore(len(self._servers) * self._per_server)
        self._changed = asyncio.Event()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for server in self._servers:
            for probe in server.probes.values():
                probe.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def versions(self) -> dict[str, str]:
        """The local project's pins (the servers should be built for the same Lean/Mathlib:
        `harness doctor` compares), and where checks run."""
        return {
            **project_versions(self.lean.project_dir),
            "backend": self.checked_by,
            "fresh_process_confirmation": "not done",
        }

    # -- choosing a server ----------------------------------------------------------------------

    def _unavailable(self, now: float) -> CheckerUnavailable | None:
        """Every server out, and failing for at least `unavailable_after_s`."""
        servers = self._servers
        if not all(s.down_until > now and s.failing_since is not None for s in servers):
            return None
        if min(now - (s.failing_since or now) for s in servers) < self.unavailable_after_s:
            return None
        return self._unavailable_error(
            f"no Kimina Lean Server answered for {self.unavailable_after_s:.0f} s"
        )

    def _unavailable_error(
        self, why: str, servers: list[_Server] | None = None
    ) -> CheckerUnavailable:
        servers = servers if servers is not None else self._servers
        named = ", ".join(f"{s.url} ({self._scrub(s.last_error) or 'no answer'})" for s in servers)
        return CheckerUnavailable(
            f"{why}: {named}; check lean.kimina_urls and that the servers are up "
            "(the run can be resumed)",
            tuple(s.url for s in servers),
        )

    async def _acquire(self) -> _Server:
        assert self._slots is not None and self._changed is not None
        await self._slots.acquire()
        try:
            while True:
                now = time.monotonic()
                ready = [
                    s
                    for s in self._servers
                    if s.down_until <= now and s.in_flight < self._per_server
                ]
                if ready:
                    server = min(ready, key=lambda s: (s.in_flight, s.assigned))
                    server.in_flight += 1
                    server.assigned += 1
                    return server
                error = self._unavailable(now)
                if error is not None:
                    raise error
                waits = [s.down_until - now for s in self._servers if s.down_until > now]
                if waits and all(s.down_until > now for s in self._servers):
                    latest_start = max(s.failing_since or now for s in self._servers)
                    waits.append(latest_start + self.unavailable_after_s - now)
                self._changed.clear()
                timeout = max(min(waits), 0.001) if waits else None
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout)
                except TimeoutError:
                    pass
        except BaseException:
            self._slots.release()
            raise

    def _release(self, server: _Server) -> None:
        assert self._slots is not None and self._changed is not None
        server.in_flight -= 1
        self._changed.set()
        self._slots.release()

    # -- one request ----------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key and text else text

    @staticmethod
    def _body(route: str, job_id: str, code: str, timeout: int) -> dict[str, Any]:
        if route == CHECK_PATH:
            return {
                "snippets": [{"id": job_id, "code": code}],
                "timeout": timeout,
                "debug": False,
                "reuse": True,
                "infotree": None,
            }
        return {
            "codes": [{"custom_id": job_id, "proof": code}],
            "timeout": timeout,
            "infotree_type": None,
            "disable_cache": False,
        }

    async def _post(
        self, server: _Server, route: str, job_id: str, code: str, timeout: int
    ) -> _Reply:
        assert self._http is not None
        read = 2 * timeout + SERVER_WAIT_S + READ_MARGIN_S
        limits = self._timeouts.get(timeout)
        if limits is None:
            limits = self._timeouts[timeout] = httpx.Timeout(10.0, read=read, write=60.0, pool=60.0)
        try:
            response = await self._http.post(
                server.url + route, json=self._body(route, job_id, code, timeout), timeout=limits
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return _Reply("connect", f"cannot connect: {_exc_text(exc)}")
        except httpx.TimeoutException as exc:
            return _Reply("dropped", f"no answer within {read:.0f} s ({_exc_text(exc)})")
        except httpx.TransportError as exc:
            return _Reply("dropped", f"connection lost: {_exc_text(exc)}")
        status = response.status_code
        if status == 404:
            return _Reply("not_found", f"HTTP 404 on {route}", status=status)
        if status in (401, 403):
            return _Reply("auth", f"HTTP {status} on {route}", status=status)
        if status == 429:
            return _Reply("busy", "HTTP 429", retry_after=_retry_after(response), status=status)
        if status >= 500:
            return _Reply("server_error", f"HTTP {status} on {route}", status=status)
        if status != 200:
            return _Reply("malformed", f"HTTP {status}: {response.text[:200]!r}", status=status)
        try:
            data = json.loads(response.content)
        except ValueError:
            return _Reply("malformed", f"not JSON: {response.text[:80]!r}", status=status)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            shown = response.text[:80]
            return _Reply("malformed", f"no `results` list in {shown!r}", status=status)
        key = "id" if route == CHECK_PATH else "custom_id"
        mine = [r for r in results if isinstance(r, dict) and str(r.get(key)) == job_id]
        if len(mine) != 1:
            return _Reply("malformed", f"no result for {key} {job_id!r}", status=status)
        return _Reply("result", result=mine[0], status=status)

    # -- a job ----------------------------------------------------------------------------------

    async def run(self, job: LeanJob) -> LeanJobResult:
        if self._http is None:
            raise RuntimeError("KiminaChecker: use `async with` before run()")
        started = time.monotonic()
        timeout = job.timeout_s or self.lean.timeout_s
        server_timeout = max(1, math.ceil(timeout))
        self.stats["checks"] += 1
        snippet = build_snippet(job)
        job_id = f"harness-{next(self._ids)}"
        lost = malformed = errors = 0
        busy_since: float | None = None
        busy_delay = BUSY_BASE_S
        attempt = 0

        def failure(error: str, by: str = "") -> LeanJobResult:
            self.stats["checker_errors"] += 1
            return LeanJobResult(
                outcome="checker_error",
                seconds=time.monotonic() - started,
                error=self._scrub(error),
                checked_by=by,
            )

        while True:
            if attempt:
                self.stats["retries"] += 1
            attempt += 1
            server = await self._acquire()
            route = server.route
            shift = 0
            try:
                reply = await self._post(server, route, job_id, snippet.code, server_timeout)
                answer = reply.result or {}
                if isinstance(answer.get("response"), dict) and not answer.get("error"):
                    # how the server numbers lines (probed once, in this job's slot)
                    shift = await self._shift(server, route, snippet, server_timeout)
            finally:
                self._release(server)
            now = time.monotonic()
            where = f"{server.url}{route}"
            if reply.kind in ("connect", "dropped", "server_error"):
                self.stats["server_failures"] += 1
                self.stats["last_errors"][server.url] = self._scrub(reply.detail)
                server.failed(reply.detail, now)
                if reply.kind != "connect":
                    lost += 1
                    if lost >= JOB_SERVER_FAILURES:
                        return failure(f"{where}: {reply.detail} ({lost} servers failed this job)")
                continue
            server.answered()
            if reply.kind == "not_found":
                if route == CHECK_PATH:
                    server.route = VERIFY_PATH  # an older server: /verify from now on
                    self.stats["route_fallbacks"] += 1
                    continue
                server.last_error = f"HTTP 404 on {CHECK_PATH} and {VERIFY_PATH}"
                raise self._unavailable_error(
                    "not a Kimina Lean Server (check the URL: the base, without a path)", [server]
                )
            if reply.kind == "auth":
                var = self.lean.kimina_api_key_env
                server.last_error = reply.detail
                why = (
                    f"the server refused the key in ${var}"
                    if self._key
                    else f"the server wants an API key: export {var}=<key>"
                )
                raise self._unavailable_error(why, [server])
            if reply.kind == "busy" or (
                reply.kind == "result"
                and "no available repl" in str((reply.result or {}).get("error") or "").lower()
            ):
                self.stats["busy_retries"] += 1
                busy_since = busy_since if busy_since is not None else now
                if now - busy_since > BUSY_LIMIT_S:
                    return failure(
                        f"{where}: no free REPL (429 No available REPLs) for {BUSY_LIMIT_S:.0f} s"
                    )
                delay = reply.retry_after if reply.retry_after is not None else busy_delay
                busy_delay = min(busy_delay * 2, BUSY_MAX_S)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                continue
            if reply.kind == "malformed":
                malformed += 1
                if malformed >= 2:
                    return failure(
                        f"{where}: malformed response: {reply.detail} (also after a retry)",
                        f"kimina {server.url}",
                    )
                continue
            assert reply.result is not None
            done = self._judge(reply.result, shift, snippet, server, started)
            if done is not None:
                server.checks += 1
                self.stats["per_server"][server.url] += 1
                return done
            errors += 1
            if errors >= 2:
                error = str(reply.result.get("error") or "no response")
                return failure(
                    f"{where}: {error.strip()[:300]} (also after a retry)", f"kimina {server.url}"
                )

    async def _shift(self, server: _Server, route: str, snippet: Snippet, timeout: int) -> int:
        """Lines to add to the server's positions to make them the snippet's."""
        if not snippet.header_lines:
            return 0
        numbering = server.numbering.get(route)
        if numbering is None:
            probe = server.probes.get(route)
            if probe is None:
                probe = asyncio.ensure_future(self._probe(server, route, snippet, timeout))
                server.probes[route] = probe
            numbering = await asyncio.shield(probe)
            if numbering is not None:
                server.numbering[route] = numbering
            else:  # no clear answer: assume what the route's servers usually do
                numbering = "body" if route == VERIFY_PATH else "snippet"
                if server.probes.get(route) is probe:
                    server.unclear += 1
                    if server.unclear >= 2:  # asked twice: keep the assumption
                        server.numbering[route] = numbering
                    else:
                        del server.probes[route]  # the next job asks again
        return snippet.header_lines if numbering == "body" else 0

    async def _probe(
        self, server: _Server, route: str, snippet: Snippet, timeout: int
    ) -> str | None:
        """Send the job's header lines and `#check Nat` (the same header: a warm REPL): its
        message on the snippet's line or on the body's first says how the server numbers."""
        self.stats["probes"] += 1
        header_lines = snippet.header_lines
        code = "\n".join(snippet.code.split("\n")[:header_lines]) + "\n#check Nat\n"
        reply = await self._post(server, route, f"harness-probe-{next(self._ids)}", code, timeout)
        response = (reply.result or {}).get("response") if reply.kind == "result" else None
        if not isinstance(response, dict):
            return None
        lines = {m.line for m in protocol.decode_reply(response).messages if "Nat" in m.text}
        if lines == {header_lines + 1}:
            return "snippet"
        if lines == {1}:
            return "body"
        return None

    def _judge(
        self,
        result: dict[str, Any],
        shift: int,
        snippet: Snippet,
        server: _Server,
        started: float,
    ) -> LeanJobResult | None:
        """A server's result -> the job's result; None when it is an error worth one retry."""
        by = f"kimina {server.url}"
        error = result.get("error")
        if error:
            text = str(error).strip()
            lowered = text.lower()
            if "timed out" in lowered and "header" not in lowered:
                self.stats["timeouts"] += 1
                return LeanJobResult(
                    outcome="timeout",
                    seconds=time.monotonic() - started,
                    error=self._scrub(f"{server.url}: {text[:300]}"),
                    checked_by=by,
                )
            return None
        response = result.get("response")
        if not isinstance(response, dict):
            return None
        header, commands, audits = map_response(snippet, response, shift)
        seconds = result.get("time", response.get("time"))
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            seconds = time.monotonic() - started
        return LeanJobResult(
            outcome="ok",
            commands=commands,
            audits=audits,
            seconds=float(seconds),
            header_messages=header,
            checked_by=by,
        )
