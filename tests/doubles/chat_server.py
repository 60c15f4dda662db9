"""A real chat-completions HTTP server on 127.0.0.1 for tests, scriptable per request.

    from tests.doubles.chat_server import ChatServer, Reply, Status, Reset, Stall, Raw

    with ChatServer(responder=lambda req: "```lean4\\n...\\n```") as server:
        server.script(Status(429, headers={"Retry-After": "1"}), Status(503))  # next 2 requests
        config = ProverConfig(base_url=server.url, ...)   # server.url ends in /v1
        ...
        server.requests        # every request body (parsed JSON), in arrival order
        server.headers         # the matching request headers (dict, lower-case names)
        server.max_in_flight   # most requests ever being handled at once

Each request to `.../chat/completions` takes the next scripted action if any, else asks the
`responder(request_json)`, which returns answer text (a `str`) or an action. Actions:

- `Reply(text, finish_reason="stop", prompt_tokens=10, completion_tokens=None, delay=0.0)`:
  a normal completion (as server-sent events when the request has `"stream": true`, with a
  usage chunk when `stream_options.include_usage` is set); `delay` holds the request in flight.
- `Status(code, body=None, headers={})`: an HTTP error such as 429 with `Retry-After`, or 503.
- `Reset()`: close the connection abruptly (TCP reset) without answering.
- `Stall(seconds)`: answer nothing for `seconds` (past the client's read timeout), then close.
- `Raw(body, status=200, content_type="application/json", headers={})`: exact bytes, e.g. broken
  JSON or a body without `choices`.

The server runs in a background thread (`ThreadingHTTPServer`, one thread per connection), so
the client under test runs in the test's own event loop. `stop()` (or leaving the `with`) ends
stalls early and shuts the server down.
"""

from __future__ import annotations

import collections
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ChatServer", "Reply", "Status", "Reset", "Stall", "Raw", "Action"]


@dataclass(frozen=True)
class Reply:
    text: str
    finish_reason: str | None = "stop"
    prompt_tokens: int = 10
    completion_tokens: int | None = None  # None: one per whitespace-separated word
    delay: float = 0.0


@dataclass(frozen=True)
class Status:
    code: int
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Stall:
    seconds: float


@dataclass(frozen=True)
class Raw:
    body: str | bytes
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Action = Reply | Status | Reset | Stall | Raw
Responder = Callable[[dict[str, Any]], "str | Action"]

DEFAULT_ANSWER = "```lean4\ntheorem smoke : True := by\n  trivial\n```"


class ChatServer:
    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or (lambda request: DEFAULT_ANSWER)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.request_times: list[float] = []  # time.monotonic() when each request arrived
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._script: collections.deque[Action] = collections.deque()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ChatServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting --------------------------------------------------------------------------

    def script(self, *actions: Action | str) -> None:
        """Queue actions for the next requests, in order (a str is a `Reply`)."""
        with self._lock:
            for action in actions:
                self._script.append(Reply(action) if isinstance(action, str) else action)

    def _next_action(self, request: dict[str, Any]) -> Action:
        with self._lock:
            if self._script:
                return self._script.popleft()
        action = self.responder(request)
        return Reply(action) if isinstance(action, str) else action

    def _enter(self, request: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            self.request_times.append(time.monotonic())
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and stalls break connections on purpose


class _Handler(BaseHTTPRequestHandler):
    server_owner: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
            return
        try:
            request = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, json.dumps({"error": {"message": "request body is not JSON"}}))
            return
        owner._enter(request, {k.lower(): v for k, v in self.headers.items()})
        try:
            self._act(owner._next_action(request), request)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            owner._leave()

    def _act(self, action: Action, request: dict[str, Any]) -> None:
        owner = self.server_owner
        if isinstance(action, Reply):
            if action.delay:
                owner._stopping.wait(action.delay)
            if request.get("stream"):
                self._send_stream(action, request)
            else:
                self._send(200, json.dumps(_completion(action, request)))
        elif isinstance(action, Status):
            body = action.body
            if body is None:
                body = json.dumps({"error": {"message": f"scripted status {action.code}"}})
            self._send(action.code, body, headers=action.headers)
        elif isinstance(action, Raw):
            self._send(
                action.status, action.body, headers=action.headers, content_type=action.content_type
            )
        elif isinstance(action, Stall):
            owner._stopping.wait(action.seconds)
            self.close_connection = True
        elif isinstance(action, Reset):
            # SO_LINGER with a zero timeout makes close() send a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

    def _send(
        self,
        status: int,
        body: str | bytes,
        *,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_stream(self, action: Reply, request: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        base = {"id": "chatcmpl-double", "object": "chat.completion.chunk", "model": "double"}

        def event(payload: dict[str, Any] | str) -> None:
            text = payload if isinstance(payload, str) else json.dumps(payload)
            self.wfile.write(f"data: {text}\n\n".encode())
            self.wfile.flush()

        self.wfile.write(b": keep-alive comment, as OpenRouter sends\n\n")
        event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        pieces = [action.text[i : i + 7] for i in range(0, len(action.text), 7)]
        for piece in pieces:
            event({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
        event(
            {
                **base,
                "choices": [{"index": 0, "delta": {}, "finish_reason": action.finish_reason}],
            }
        )
        if (request.get("stream_options") or {}).get("include_usage"):
            event({**base, "choices": [], "usage": _usage(action)})
        event("[DONE]")


def _usage(action: Reply) -> dict[str, int]:
    completion = action.completion_tokens
    if completion is None:
        completion = len(action.text.split())
    return {
        "prompt_tokens": action.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": action.prompt_tokens + completion,
    }


def _completion(action: Reply, request: dict[str, Any]) -> dict[str, Any]:
    n = int(request.get("n") or 1)
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "model": request.get("model", "double"),
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": action.text},
                "finish_reason": action.finish_reason,
            }
            for i in range(n)
        ],
        "usage": _usage(action),
    }
