"""harness.transport.StreamTransport against real loopback servers.

End to end: ProverClient over the chat-completions double (tests/doubles/chat_server.py).
On the wire: a small asyncio server in each test, scripted per connection, for the framing,
keep-alive, retry, cancellation and TLS cases.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from harness.client import ProverClient
from harness.config import ProverConfig
from harness.errors import ProverHTTPError
from harness.transport import StreamTransport, environment_proxy
from tests.doubles.chat_server import ChatServer, Raw, Reply, Reset, Stall, Status
from tests.test_client import make_config as client_config

pytestmark = pytest.mark.timeout(20)

MESSAGES = [{"role": "user", "content": "Complete the following Lean 4 code: ..."}]
ANSWER = "```lean4\ntheorem t : True := by\n  trivial\n```"


# ---------------------------------------------------------------------------------------------
# End to end: ProverClient + StreamTransport + the chat-completions double


def make_config(server: ChatServer, **overrides) -> ProverConfig:
    settings = dict(max_retries=2, backoff_max_s=0.02, pool_timeout_s=2.0, model="m")
    settings.update(overrides)
    return client_config(server, **settings)


def ask(config: ProverConfig, transport: StreamTransport, times: int = 1, key: str | None = None):
    async def go():
        async with ProverClient(config, key, transport=transport) as client:
            return [await client.complete(MESSAGES) for _ in range(times)]

    return asyncio.run(go())


@pytest.fixture
def server():
    with ChatServer(lambda request: ANSWER) as srv:
        yield srv


def test_answers_and_reuses_one_connection(server):
    transport = StreamTransport(max_connections=4)
    answers = ask(make_config(server), transport, times=3)
    assert [a.text for a in answers] == [ANSWER] * 3
    assert all(a.error is None and a.retries == 0 for a in answers)
    assert answers[0].prompt_tokens == 10
    assert server.requests[0]["messages"] == MESSAGES
    assert server.headers[0]["content-type"] == "application/json"
    (pool,) = transport._pools.values()
    assert len(pool.idle) == 0  # closed with the client


def test_concurrent_requests_stay_within_max_connections(server):
    server.responder = lambda request: Reply(ANSWER, delay=0.05)
    config = make_config(server, concurrency=8)
    transport = StreamTransport(max_connections=3)

    async def go():
        async with ProverClient(config, None, transport=transport) as client:
            answers = await asyncio.gather(*[client.complete(MESSAGES) for _ in range(9)])
            (pool,) = transport._pools.values()
            return answers, len(pool.idle)

    answers, idle = asyncio.run(go())
    assert all(a.text == ANSWER for a in answers)
    assert server.max_in_flight == 3
    assert idle == 3


def test_server_sent_events(server):
    answers = ask(make_config(server, stream=True), StreamTransport(), times=2)
    assert [a.text for a in answers] == [ANSWER] * 2
    assert answers[0].finish_reason == "stop" and answers[0].prompt_tokens == 10


def test_429_retry_after_then_answer(server):
    server.script(Status(429, headers={"Retry-After": "0.2"}))
    (answer,) = ask(make_config(server), StreamTransport())
    assert answer.text == ANSWER and answer.retries == 1
    assert server.request_times[1] - server.request_times[0] >= 0.18


def test_5xx_retried_then_given_up(server):
    server.script(Status(503), Status(502), Status(500))
    (answer,) = ask(make_config(server, max_retries=2), StreamTransport())
    assert answer.error is not None and "HTTP 500" in answer.error
    assert answer.retries == 2 and len(server.requests) == 3


def test_401_is_fatal(server):
    server.script(Status(401))
    with pytest.raises(ProverHTTPError, match="401"):
        ask(make_config(server), StreamTransport(), key="sk-x")


def test_reset_is_a_transport_error_the_client_retries(server):
    server.script(Reset())
    (answer,) = ask(make_config(server, max_retries=0), StreamTransport())
    assert answer.error is not None and "gave up" in answer.error
    assert "ReadError" in answer.error or "RemoteProtocolError" in answer.error
    server.script(Reset())
    (answer,) = ask(make_config(server, max_retries=1), StreamTransport())
    assert answer.text == ANSWER and answer.retries == 1


def test_stall_is_a_read_timeout(server):
    server.script(Stall(5))
    (answer,) = ask(make_config(server, read_timeout_s=0.3, max_retries=0), StreamTransport())
    assert answer.error is not None and answer.error.startswith("read timeout")


def test_broken_json(server):
    server.script(Raw('{"choices": [ nope'))
    (answer,) = ask(make_config(server), StreamTransport())
    assert answer.error is not None and "malformed JSON" in answer.error


def test_connect_error_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there

    async def go():
        async with httpx.AsyncClient(transport=StreamTransport()) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.ConnectError):
        asyncio.run(go())


# ---------------------------------------------------------------------------------------------
# On the wire: a scripted asyncio server

Handler = Callable[["Wire", int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Wire:
    """A loopback server calling `handler(wire, connection_number, reader, writer)` per connection
    (numbered from 0); `requests` holds each request's (head, body)."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Wire:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        try:
            await self.handler(self, number, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the loop is ending; Python 3.11 would log a cancelled handler as an error
        finally:
            writer.close()

    async def request(self, reader: asyncio.StreamReader) -> bytes:
        """Read one request; return its head."""
        head = await reader.readuntil(b"\r\n\r\n")
        lower = head.lower()
        body = b""
        if b"transfer-encoding: chunked" in lower:
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
                data = await reader.readexactly(size + 2)
                if not size:
                    break
                body += data[:-2]
        elif b"content-length:" in lower:
            length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
        self.requests.append((head, body))
        return head


def ok(body: bytes = b"hello", *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        extra.encode(),
        body,
    )


def keep_answering(response: bytes) -> Handler:
    async def handler(wire, number, reader, writer):
        while True:
            await wire.request(reader)
            writer.write(response)
            await writer.drain()

    return handler


def run(handler: Handler, body: Callable[[Wire], Awaitable[object]], tls=None) -> object:
    async def go():
        async with Wire(handler, tls) as wire:
            return await body(wire)

    return asyncio.run(go())


def client(transport: StreamTransport | None = None, **kwargs) -> httpx.AsyncClient:
    kwargs.setdefault("timeout", 2.0)
    return httpx.AsyncClient(transport=transport or StreamTransport(), **kwargs)


def test_request_bytes_and_keep_alive_reuse():
    async def body(wire):
        async with client() as http:
            for _ in range(3):
                response = await http.post(wire.url + "/v1/x?q=1", content=b'{"a": 1}')
                assert response.status_code == 200 and response.content == b"hello"
                assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"
        return wire

    wire = run(keep_answering(ok()), body)
    assert wire.connections == 1 and len(wire.requests) == 3
    head, sent = wire.requests[0]
    assert head.startswith(b"POST /v1/x?q=1 HTTP/1.1\r\n") and b"\r\nHost: 127.0.0.1:" in head
    assert sent == b'{"a": 1}'


def test_streamed_request_body_goes_chunked():
    async def parts():
        yield b"ab"
        yield b"cd"

    async def body(wire):
        async with client() as http:
            response = await http.post(wire.url, content=parts())
            return response.content, wire.requests[0][1]

    assert run(keep_answering(ok()), body) == (b"hello", b"abcd")


def test_chunked_body_with_trailers_and_big_chunks():
    big = bytes(range(256)) * 1024  # 256 KiB: read piece by piece
    reply = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
        b"5;ext=1\r\nhello\r\n"
        b"%x\r\n%s\r\n"
        b"1\r\n!\r\n"
        b"0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
    ) % (len(big), big)

    async def body(wire):
        async with client() as http:
            first = await http.get(wire.url)
            second = await http.get(wire.url)
            return first.content, second.content, wire.connections

    first, second, connections = run(keep_answering(reply), body)
    assert first == second == b"hello" + big + b"!"
    assert connections == 1  # trailers consumed, connection reused


def test_gzip_body_is_decoded_by_httpx():
    text = b'{"choices": []}' * 100
    packed = gzip.compress(text)

    async def body(wire):
        async with client() as http:
            response = await http.get(wire.url)
            return response.content, response.headers["content-encoding"]

    content, encoding = run(keep_answering(ok(packed, "Content-Encoding: gzip")), body)
    assert content == text and encoding == "gzip"


def test_body_until_close_and_connection_close():
    async def until_close(wire, number, reader, writer):
        await wire.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, ")
        await writer.drain()
        writer.write(b"then close")
        writer.write_eof()

    async def body(wire):
        async with client() as http:
            contents = [(await http.get(wire.url)).content for _ in range(2)]
            return contents, wire.connections

    contents, connections = run(until_close, body)
    assert contents == [b"no length, then close"] * 2 and connections == 2

    async def count(wire):
        async with client() as http:
            for _ in range(2):
                assert (await http.get(wire.url)).content == b"bye"
            return wire.connections

    assert run(keep_answering(ok(b"bye", "Connection: close")), count) == 2
    http10 = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nbye"
    assert run(keep_answering(http10), count) == 2


def test_no_body_for_head_204_304_and_1xx_skipped():
    replies = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",  # to HEAD
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + ok(b"after hints"),
    ]

    async def handler(wire, number, reader, writer):
        for reply in replies:
            await wire.request(reader)
            writer.write(reply)

    async def body(wire):
        async with client() as http:
            results = [
                await http.head(wire.url),
                await http.get(wire.url),
                await http.get(wire.url),
                await http.get(wire.url),
            ]
            return [(r.status_code, r.content) for r in results], wire.connections

    results, connections = run(handler, body)
    assert results == [(200, b""), (204, b""), (304, b""), (200, b"after hints")]
    assert connections == 1


def test_repeated_headers_are_kept():
    reply = b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n"

    async def body(wire):
        async with client() as http:
            return (await http.get(wire.url)).headers.get_list("SET-COOKIE")

    assert run(keep_answering(reply), body) == ["a=1", "b=2"]


def test_large_content_length_body():
    big = b"x" * (3 * 1024 * 1024 + 17)

    async def body(wire):
        async with client() as http:
            return (await http.get(wire.url)).content

    assert run(keep_answering(ok(big)), body) == big


@pytest.mark.parametrize("how", ["close", "reset"])
def test_idle_connection_dropped_by_server_is_retried_once(how):
    async def handler(wire, number, reader, writer):
        await wire.request(reader)
        writer.write(ok(b"first" if number == 0 else b"fresh"))
        await writer.drain()
        if number == 0:
            # Take the next request, then drop the connection as an idle-timeout race would.
            await wire.request(reader)
            if how == "reset":
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort() if how == "reset" else writer.close()
            return
        await asyncio.sleep(1)

    async def body(wire):
        async with client() as http:
            first = (await http.post(wire.url, content=b"1")).content
            second = (await http.post(wire.url, content=b"2")).content
            return first, second, wire.connections, [sent for _, sent in wire.requests]

    assert run(handler, body) == (b"first", b"fresh", 2, [b"1", b"2", b"2"])


def test_idle_connection_closed_while_idle_is_not_used():
    async def handler(wire, number, reader, writer):
        await wire.request(reader)
        writer.write(ok(b"%d" % number))
        await writer.drain()
        # then close at once: the client sees the EOF before its next request

    async def body(wire):
        async with client() as http:
            first = (await http.get(wire.url)).content
            await asyncio.sleep(0.05)
            second = (await http.get(wire.url)).content
            return first, second, len(wire.requests)

    assert run(handler, body) == (b"0", b"1", 2)  # no request was sent into the dead one


def test_fresh_connection_closed_without_answer_is_an_error():
    async def handler(wire, number, reader, writer):
        await wire.request(reader)

    async def body(wire):
        async with client() as http:
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                await http.get(wire.url)
            return wire.connections

    assert run(handler, body) == 1  # not retried: a fresh connection is no stale one


def test_truncated_body_bad_status_line_and_101():
    async def handler(wire, number, reader, writer):
        await wire.request(reader)
        if number == 0:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
        elif number == 1:
            writer.write(b"SPDY/3 200 OK\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")

    async def body(wire):
        async with client() as http:
            with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
                await http.get(wire.url)
            with pytest.raises(httpx.RemoteProtocolError, match="malformed status line"):
                await http.get(wire.url)
            with pytest.raises(httpx.RemoteProtocolError, match="101"):
                await http.get(wire.url)

    run(handler, body)


def test_expired_idle_connection_is_replaced():
    async def body(wire):
        async with client(StreamTransport(keepalive_expiry=0.05)) as http:
            await http.get(wire.url)
            await http.get(wire.url)
            await asyncio.sleep(0.1)
            await http.get(wire.url)
            return wire.connections

    assert run(keep_answering(ok()), body) == 2


def test_sse_chunks_arrive_as_sent():
    go_on = asyncio.Event()

    async def handler(wire, number, reader, writer):
        await wire.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        writer.write(b"b\r\ndata: one\n\n\r\n")
        await writer.drain()
        await go_on.wait()  # only once the client has seen the first event
        writer.write(b"b\r\ndata: two\n\n\r\n0\r\n\r\n")
        await writer.drain()
        await wire.request(reader)  # keep-alive: the next request comes here
        writer.write(ok())

    async def body(wire):
        seen = []
        async with client() as http:
            async with http.stream("POST", wire.url, content=b"{}") as response:
                async for line in response.aiter_lines():
                    if line:
                        seen.append(line)
                        go_on.set()
            assert (await http.get(wire.url)).content == b"hello"
        return seen, wire.connections

    assert run(handler, body) == (["data: one", "data: two"], 1)


@pytest.mark.parametrize("finish_after", [0.005, None])
def test_stream_left_at_done_keeps_its_connection_if_the_end_follows(finish_after):
    async def handler(wire, number, reader, writer):
        while True:
            await wire.request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b"e\r\ndata: [DONE]\n\n\r\n")
            await writer.drain()
            if finish_after is None:
                await asyncio.sleep(1)  # the end never comes in time
                return
            await asyncio.sleep(finish_after)
            writer.write(b"0\r\n\r\n")

    async def body(wire):
        async with client() as http:
            for _ in range(2):
                async with http.stream("POST", wire.url, content=b"{}") as response:
                    async for line in response.aiter_lines():
                        if line == "data: [DONE]":
                            break  # as ProverClient does, before the final chunk
        return wire.connections

    assert run(handler, body) == (1 if finish_after else 2)


def test_timeouts_and_pool_limit():
    async def handler(wire, number, reader, writer):
        await wire.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        await asyncio.sleep(5)

    async def body(wire):
        transport = StreamTransport(max_connections=1)
        timeout = httpx.Timeout(2.0, read=0.2, pool=0.1)
        async with client(transport, timeout=timeout) as http:
            async with http.stream("GET", wire.url) as response:
                chunks = []
                with pytest.raises(httpx.ReadTimeout):
                    async for chunk in response.aiter_raw():
                        chunks.append(chunk)
                        with pytest.raises(httpx.PoolTimeout):
                            await http.get(wire.url)  # the one connection is busy
                assert chunks == [b"abc"]
            # the broken connection was closed and its slot freed
            (pool,) = transport._pools.values()
            assert pool.idle == [] and not pool.slots.locked()

    run(handler, body)


def test_cancelled_request_closes_its_connection():
    async def handler(wire, number, reader, writer):
        await wire.request(reader)
        if number == 0:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        if number < 2:
            await asyncio.sleep(5)
        writer.write(ok(b"again"))
        await writer.drain()
        await asyncio.sleep(1)

    async def body(wire):
        transport = StreamTransport(max_connections=1)
        async with client(transport) as http:
            task = asyncio.create_task(http.get(wire.url))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            (pool,) = transport._pools.values()
            assert pool.idle == [] and not pool.slots.locked()
            # and again while waiting for the status line
            task = asyncio.create_task(http.get(wire.url))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pool.idle == [] and not pool.slots.locked()
            return (await http.get(wire.url)).content, wire.connections

    assert run(handler, body) == (b"again", 3)


def test_write_timeout():
    async def handler(wire, number, reader, writer):
        await asyncio.sleep(5)  # never reads: the client's send buffer fills up

    async def body(wire):
        timeout = httpx.Timeout(2.0, write=0.2)
        async with client(timeout=timeout) as http:
            with pytest.raises(httpx.WriteTimeout):
                await http.post(wire.url, content=b"x" * (64 * 1024 * 1024))

    run(handler, body)


def test_header_injection_is_refused():
    async def body(wire):
        async with client() as http:
            with pytest.raises(httpx.LocalProtocolError):
                await http.get(wire.url, headers={"X-A": "1\r\nX-B: 2"})

    run(keep_answering(ok()), body)


def test_environment_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert environment_proxy("https://api.example.com/v1") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,internal.example")
    assert environment_proxy("https://api.example.com/v1") == "http://proxy:3128"
    assert environment_proxy("http://api.example.com/v1") is None
    assert environment_proxy("https://llm.internal.example/v1") is None
    # httpx itself mounts no proxy when given a transport: what environment_proxy is for
    http = httpx.AsyncClient(transport=StreamTransport())
    assert all(t is None for t in http._mounts.values())


# ---------------------------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not found: cannot make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key)]
        + ["-out", str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def test_https(certificate, monkeypatch):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    async def body(wire):
        trusting = StreamTransport(ssl_context=ssl.create_default_context(cafile=str(cert)))
        async with client(trusting) as http:
            for _ in range(2):
                assert (await http.get(wire.url)).content == b"secret"
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the default context honours it
        async with client(StreamTransport()) as http:
            assert (await http.get(wire.url)).content == b"secret"
        monkeypatch.delenv("SSL_CERT_FILE")
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        async with client(StreamTransport()) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(wire.url)  # certifi's roots do not know our certificate
        return wire.connections

    assert run(keep_answering(ok(b"secret")), body, tls=server_tls) == 2  # + 1 refused
