#!/usr/bin/env python3
"""A loopback double of Kimina Lean Server's HTTP API whose Lean is the REPL double.

    from tests.doubles.kimina_server import KiminaServer, KiminaProcess
    from tests.doubles.chat_server import Status, Raw, Reset

    with KiminaServer(script={"rules": [...]}, max_repls=2) as server:   # a thread, 127.0.0.1
        server.url                              # http://127.0.0.1:PORT (no path)
        server.script(Status(429, body='{"detail": "No available REPLs"}'), Raw("{oops"))
        server.requests                         # every POST: {"path", "headers", "body"}
        server.kill()                           # dies mid-run: sockets reset, REPLs killed

    with KiminaProcess(latency_s=0.2, lean="none") as proc:   # the same, as its own process
        proc.url; proc.kill()                   # SIGKILL

Written from the API in ../shared/reference/kimina_api.md and the recorded responses in
../shared/fixtures/kimina-verify/ (kimina-lean-server, MIT):

- `GET /health` and `GET /` -> `{"status": "ok"}`.
- `POST /api/check` `{"snippets": [{"id", "code"}], "timeout", "debug", "reuse", "infotree"}` ->
  `{"results": [{"id", "time", "response"} | {"id", "time", "error"}]}` (no null keys), message
  and sorry positions in the snippet's own lines (`numbering="body"`: from the first line after
  the header, as servers before kimina-lean-server PR #56); 422 for a malformed request.
- `POST /verify` `{"codes": [{"custom_id", "proof" | "code"}], "timeout", ...}` ->
  `{"results": [{"custom_id", "error": null, "response": {..., "time"}}]}`; with `old_api` (a
  server from before /api/check: that route answers 404) positions count from the first line
  after the header, as in the recorded fixtures, and a timeout is "Lean process timed out".
- The snippet's header is its leading blank and `import ` lines (`import Mathlib.*` collapsed
  to `import Mathlib`); one warm REPL per header, at most `max_repls`, the free one unused
  longest evicted for a new header; none free for `max_wait_s` -> 429 "No available REPLs".
  A REPL runs the header once (no env), then the body from the header's environment.
- The REPL double judges one command at a time, as Lean elaborates a file: the body is cut at
  lines that start (column 0) with a command keyword, each piece sent in the environment the
  previous one left, positions moved back to the body's lines.
- `timeout` is the body's wall clock: past it the REPL is killed and the result is the error
  "Lean REPL command timed out in T seconds". A REPL that exits or writes no JSON gives an
  error string too.

Fault switches: `api_key` (requests without `Authorization: Bearer KEY` get 401), `old_api`,
`script(*actions)` (the next POSTs take these chat_server actions: `Status(code, body)`,
`Raw(body)` for a malformed body, `Reset()` to drop the connection), `kill()`, `latency_s`
(a sleep per check, no CPU) and `lean="none"` (no REPL: every snippet is accepted with no
message, but for a lone `#check Nat`; for benchmarks). The REPL double's rules (its `--script`) make errors, sorries,
hangs and crashes; `#eval Lean.versionString` answers `lean_version`.

Run as a program it prints `listening on URL` once ready and serves until killed:
    python tests/doubles/kimina_server.py [--port 0] [--max-repls N] [--max-wait S]
        [--latency S] [--lean fake|none] [--old-api] [--api-key-env VAR] [--script FILE]
        [--repl-log FILE] [--log FILE]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `tests.doubles` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.doubles.chat_server import Raw, Reset, Status  # noqa: E402

__all__ = ["KiminaServer", "KiminaProcess", "split_snippet", "split_commands", "Status", "Raw"]

FAKE_REPL = Path(__file__).resolve().parent / "fake_repl.py"
COMMAND_START = re.compile(
    r"^(?:@\[|/-|#[A-Za-z_]+|(?:theorem|lemma|def|abbrev|instance|example|structure|inductive"
    r"|class|axiom|opaque|noncomputable|private|protected|partial|unsafe|open|set_option"
    r"|namespace|section|end|variable|universe|attribute|macro|macro_rules|syntax|notation"
    r"|infix|infixl|infixr|prefix|postfix|elab|elab_rules|mutual|local|scoped|initialize"
    r"|deriving)\b)"
)


# ---------------------------------------------------------------------------------------------
# Snippets


def split_snippet(code: str) -> tuple[str, str, int]:
    """(header, body, header line count): the leading blank and `import ` lines are the
    header; `import Mathlib.*` collapses to `import Mathlib`, imports deduplicated in order."""
    lines = code.split("\n")
    count = 0
    for line in lines:
        if line.strip() and not line.strip().startswith("import "):
            break
        count += 1
    imports: list[str] = []
    for line in lines[:count]:
        if line.strip().startswith("import "):
            module = line.split()[1] if len(line.split()) > 1 else ""
            if module.startswith("Mathlib"):
                module = "Mathlib"
            if f"import {module}" not in imports:
                imports.append(f"import {module}")
    return "\n".join(imports), "\n".join(lines[count:]), count


def split_commands(body: str) -> list[tuple[int, str]]:
    """The body cut before every line that starts a command: (0-based first line, text)."""
    pieces: list[tuple[int, list[str]]] = []
    for index, line in enumerate(body.split("\n")):
        if not pieces or (COMMAND_START.match(line) and any(x.strip() for x in pieces[-1][1])):
            pieces.append((index, [line]))
        else:
            pieces[-1][1].append(line)
    return [(start, "\n".join(text)) for start, text in pieces if "\n".join(text).strip()]


def _move(obj: dict[str, Any], lines: int) -> dict[str, Any]:
    out = dict(obj)
    for key in ("pos", "endPos"):
        pos = out.get(key)
        if isinstance(pos, dict) and isinstance(pos.get("line"), int):
            out[key] = {**pos, "line": pos["line"] + lines}
    return out


# ---------------------------------------------------------------------------------------------
# REPLs


class _Timeout(Exception):
    pass


class _Dead(Exception):
    pass


class _Busy(Exception):
    pass


def _repl_environment() -> dict[str, str]:
    # The REPL double logs its environment; give it nothing secret.
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


class _Repl:
    def __init__(self, command: list[str], header: str) -> None:
        self.header = header
        self.header_env: int | None = None
        self.prepped = False
        self.last_used = time.monotonic()
        self.replies: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=_repl_environment(),
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        chunk: list[str] = []
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace")
            if line.strip():
                chunk.append(line)
            elif chunk:
                self.replies.put("".join(chunk))
                chunk = []
        if chunk:
            self.replies.put("".join(chunk))
        self.replies.put(None)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(request, ensure_ascii=False) + "\n\n").encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise _Dead(f"the REPL is gone ({exc.__class__.__name__})") from None
        try:
            text = self.replies.get(timeout=max(deadline - time.monotonic(), 0.001))
        except queue.Empty:
            raise _Timeout() from None
        if text is None:
            raise _Dead("Lean REPL exited unexpectedly")
        try:
            obj = json.loads(text)
        except ValueError:
            raise _Dead("JSON decode error") from None
        if not isinstance(obj, dict):
            raise _Dead("JSON decode error")
        return obj

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


class _Pool:
    """Warm REPLs keyed by header (kimina-lean-server `manager.py`, reduced)."""

    def __init__(self, command: list[str], max_repls: int, max_wait_s: float) -> None:
        self.command = command
        self.max_repls = max_repls
        self.max_wait_s = max_wait_s
        self.free: list[_Repl] = []
        self.busy: set[_Repl] = set()
        self.cond = threading.Condition()
        self.started = 0
        self.closed = False

    def acquire(self, header: str) -> _Repl:
        deadline = time.monotonic() + self.max_wait_s
        with self.cond:
            while True:
                if self.closed:
                    raise _Dead("server shutting down")
                for repl in sorted(self.free, key=lambda r: -r.last_used):
                    if repl.header == header and repl.alive:
                        self.free.remove(repl)
                        self.busy.add(repl)
                        return repl
                if len(self.free) + len(self.busy) >= self.max_repls and self.free:
                    oldest = min(self.free, key=lambda r: r.last_used)
                    self.free.remove(oldest)
                    oldest.kill()
                if len(self.free) + len(self.busy) < self.max_repls:
                    repl = _Repl(self.command, header)
                    self.started += 1
                    self.busy.add(repl)
                    return repl
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Busy()
                self.cond.wait(remaining)

    def release(self, repl: _Repl, keep: bool) -> None:
        with self.cond:
            self.busy.discard(repl)
            repl.last_used = time.monotonic()
            if keep and repl.alive and not self.closed:
                self.free.append(repl)
            else:
                repl.kill()
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            repls = [*self.free, *self.busy]
            self.free.clear()
            self.busy.clear()
            self.cond.notify_all()
        for repl in repls:
            repl.kill()


# ---------------------------------------------------------------------------------------------
# The server


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, owner: KiminaServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.owner._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.owner._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away, or a kill(): not worth a traceback


class KiminaServer:
    def __init__(
        self,
        script: dict[str, Any] | None = None,
        *,
        max_repls: int = 4,
        max_wait_s: float = 60.0,
        api_key: str | None = None,
        old_api: bool = False,
        numbering: str = "snippet",
        latency_s: float = 0.0,
        lean: str = "fake",
        lean_version: str = "4.24.0",
        repl_log: str | os.PathLike[str] | None = None,
        log: str | os.PathLike[str] | None = None,
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.old_api = old_api
        # positions from the snippet's first line (kimina-lean-server since PR #56) or from the
        # body's (before it; always with old_api, as the recorded /verify answers show)
        self.numbering = "body" if old_api else numbering
        self.latency_s = latency_s
        self.lean = lean
        self.port = port
        self.log_path = Path(log) if log else None
        self.requests: list[dict[str, Any]] = []
        self.checks = 0
        self.max_in_flight = 0
        self.killed = False
        self._in_flight = 0
        self._lock = threading.Lock()
        self._actions: collections.deque[Any] = collections.deque()
        self._connections: set[socket.socket] = set()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None
        rules = list((script or {}).get("rules", []))
        rules.append({"match": "#eval Lean.versionString", "info": f'"{lean_version}"'})
        self._script_dir = tempfile.mkdtemp(prefix="kimina-double-")
        script_path = Path(self._script_dir) / "repl-script.json"
        script_path.write_text(json.dumps({**(script or {}), "rules": rules}), encoding="utf-8")
        command = [sys.executable, str(FAKE_REPL), "--script", str(script_path)]
        if repl_log:
            command += ["--log", str(repl_log)]
        self.pool = _Pool(command, max_repls, max_wait_s)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> KiminaServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = _QuietServer(("127.0.0.1", self.port), Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and not self.killed:
            self._server.shutdown()
            self._server.server_close()
        self._drop_connections()
        self.pool.close()
        with contextlib.suppress(OSError):
            for path in Path(self._script_dir).iterdir():
                path.unlink()
            os.rmdir(self._script_dir)

    def kill(self) -> None:
        """Die mid-run: no more connections, open ones reset, REPLs killed."""
        self.killed = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._drop_connections()
        self.pool.close()

    def _drop_connections(self) -> None:
        for sock in list(self._connections):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
        self._connections.clear()

    def __enter__(self) -> KiminaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *actions: Any) -> None:
        """The next POSTs take these actions, in order, instead of checking."""
        with self._lock:
            self._actions.extend(actions)

    def next_action(self) -> Any:
        with self._lock:
            return self._actions.popleft() if self._actions else None

    def record(self, path: str, headers: dict[str, str], body: Any) -> None:
        entry = {"path": path, "headers": headers, "body": body, "time": time.monotonic()}
        with self._lock:
            self.requests.append(entry)
        if self.log_path is not None:
            safe = {"path": path, "auth": "authorization" in headers, "body": body}
            with self._lock, self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(safe, ensure_ascii=False) + "\n")

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    # -- checking -------------------------------------------------------------------------------

    def check(
        self, code: str, timeout: float, snippet_lines: bool
    ) -> tuple[dict | None, str | None]:
        """(REPL response, None) or (None, server error string) for one snippet."""
        started = time.monotonic()
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            self.checks += 1
        header, body, header_lines = split_snippet(code)
        if self.lean == "none":  # no Lean: everything passes; `#check Nat` alone is answered
            if body.strip() != "#check Nat":
                return {"env": 0}, None
            line = 1 + (header_lines if snippet_lines else 0)
            at = {"line": line, "column": 0}
            info = {"severity": "info", "pos": at, "endPos": at, "data": "Nat : Type"}
            return {"messages": [info], "env": 0}, None
        repl = self.pool.acquire(header)  # _Busy -> 429
        keep = False
        try:
            if not repl.prepped:
                if header:
                    try:
                        reply = repl.ask({"cmd": header}, time.monotonic() + max(timeout, 1))
                    except _Timeout:
                        return (
                            None,
                            f"Lean REPL header command timed out in {float(timeout)} seconds",
                        )
                    if "message" in reply and "env" not in reply:
                        return None, f"header failed: {reply['message']}"
                    repl.header_env = reply.get("env")
                repl.prepped = True
            deadline = started + self.latency_s + timeout
            env = repl.header_env
            messages: list[dict[str, Any]] = []
            sorries: list[dict[str, Any]] = []
            shift = header_lines if snippet_lines else 0
            for start, text in split_commands(body):
                request: dict[str, Any] = {"cmd": text}
                if env is not None:
                    request["env"] = env
                try:
                    reply = repl.ask(request, deadline)
                except _Timeout:
                    if self.old_api:
                        return None, "Lean process timed out"
                    return None, f"Lean REPL command timed out in {float(timeout)} seconds"
                if "message" in reply and not any(k in reply for k in ("env", "messages")):
                    keep = True
                    return {"message": reply["message"]}, None
                env = reply.get("env", env)
                messages += [_move(m, start + shift) for m in reply.get("messages") or ()]
                sorries += [_move(s, start + shift) for s in reply.get("sorries") or ()]
            keep = True
            response: dict[str, Any] = {}
            if sorries:
                response["sorries"] = sorries
            if messages:
                response["messages"] = messages
            if env is not None:
                response["env"] = env
            return response, None
        except _Dead as exc:
            return None, str(exc)
        finally:
            self.pool.release(repl, keep)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body are written separately: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold every answer ~40 ms (uvicorn, as asyncio, sets it too)
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: status line, headers and body leave in one send (flushed below)
    server_owner: KiminaServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        if self.server_owner.killed:
            self.close_connection = True
            return
        data = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("", "/health"):
            self._send(200, {"status": "ok"})
        else:
            self._send(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.rstrip("/")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        owner.record(path, {k.lower(): v for k, v in self.headers.items()}, body)
        if owner.api_key is not None:
            if self.headers.get("Authorization") != f"Bearer {owner.api_key}":
                self._send(401, {"detail": "Invalid or missing API key"})
                return
        if path not in ("/api/check", "/verify") or (path == "/api/check" and owner.old_api):
            self._send(404, {"detail": "Not Found"})
            return
        owner.enter()
        try:
            action = owner.next_action()
            if action is not None:
                self._act(action)
                return
            self._check(path, body)
        finally:
            owner.leave()

    def _act(self, action: Any) -> None:
        if isinstance(action, Status):
            self._send(action.code, action.body if action.body is not None else {"detail": "x"})
        elif isinstance(action, Raw):
            self._send(action.status, action.body, action.content_type)
        elif isinstance(action, Reset):
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            self.close_connection = True
        else:
            raise TypeError(f"unknown action {action!r}")

    def _check(self, path: str, body: Any) -> None:
        owner = self.server_owner
        new_api = path == "/api/check"
        items = body.get("snippets" if new_api else "codes") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            self._send(422, {"detail": "snippets/codes: a non-empty list is required"})
            return
        timeout = body.get("timeout", 30 if new_api else 300)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout < 0:
            self._send(422, {"detail": "timeout: a number >= 0 is required"})
            return
        if new_api and not float(timeout).is_integer():
            self._send(422, {"detail": "timeout: an integer is required"})
            return
        results = []
        for item in items:
            ident = item.get("id" if new_api else "custom_id") if isinstance(item, dict) else None
            code = (
                (item.get("code") if new_api else item.get("proof", item.get("code")))
                if (isinstance(item, dict))
                else None
            )
            if ident is None or not isinstance(code, str):
                self._send(422, {"detail": "each snippet needs an id and its code"})
                return
            started = time.monotonic()
            try:
                response, error = owner.check(code, float(timeout), owner.numbering == "snippet")
            except _Busy:
                self._send(429, {"detail": "No available REPLs"})
                return
            elapsed = time.monotonic() - started
            if new_api:
                result: dict[str, Any] = {"id": ident, "time": elapsed}
                if error is not None:
                    result["error"] = error
                else:
                    result["response"] = response
            else:
                result = {"custom_id": ident, "error": error, "response": None}
                if response is not None:
                    result["response"] = {**response, "time": elapsed}
            results.append(result)
        self._send(200, {"results": results})


# ---------------------------------------------------------------------------------------------
# As its own process


class KiminaProcess:
    """The double as a separate process (`kill()` is a SIGKILL); arguments as KiminaServer's."""

    def __init__(
        self,
        *,
        max_repls: int = 4,
        max_wait_s: float = 60.0,
        latency_s: float = 0.0,
        lean: str = "fake",
        old_api: bool = False,
        api_key_env: str | None = None,
        script: str | os.PathLike[str] | None = None,
        repl_log: str | os.PathLike[str] | None = None,
        log: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--max-repls",
            str(max_repls),
            "--max-wait",
            str(max_wait_s),
            "--latency",
            str(latency_s),
            "--lean",
            lean,
        ]
        if old_api:
            self.argv.append("--old-api")
        for flag, value in (
            ("--api-key-env", api_key_env),
            ("--script", script),
            ("--repl-log", repl_log),
            ("--log", log),
        ):
            if value:
                self.argv += [flag, str(value)]
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> KiminaProcess:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, text=True, env=self.env, start_new_session=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.kill()
            raise RuntimeError(f"the Kimina double did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> KiminaProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-repls", type=int, default=4)
    parser.add_argument("--max-wait", type=float, default=60.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--lean", choices=("fake", "none"), default="fake")
    parser.add_argument("--old-api", action="store_true")
    parser.add_argument("--numbering", choices=("snippet", "body"), default="snippet")
    parser.add_argument("--api-key-env", help="require the key held in this variable")
    parser.add_argument("--script", help="the REPL double's rules (JSON)")
    parser.add_argument("--repl-log", help="the REPL double's request log")
    parser.add_argument("--log", help="one JSON line per POST (the key never written)")
    args = parser.parse_args(argv)
    script = json.loads(Path(args.script).read_text(encoding="utf-8")) if args.script else None
    server = KiminaServer(
        script,
        max_repls=args.max_repls,
        max_wait_s=args.max_wait,
        api_key=os.environ.get(args.api_key_env) if args.api_key_env else None,
        old_api=args.old_api,
        numbering=args.numbering,
        latency_s=args.latency,
        lean=args.lean,
        repl_log=args.repl_log,
        log=args.log,
        port=args.port,
    ).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(f"listening on {server.url}", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
