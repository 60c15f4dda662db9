"""A lean HTTP/1.1 transport for `httpx.AsyncClient`: a keep-alive pool over asyncio streams.

httpx's default transport (httpcore + anyio + h11) costs about 1.9 ms of CPU per request on a
small machine; the client layer alone costs about 0.2 ms. The harness does one thing over HTTP,
POSTing JSON to a chat-completions endpoint and reading the reply (whole, or streamed as SSE),
so `StreamTransport` does just that over `asyncio.open_connection`, keeping httpx's API around
it: `client.post`, `client.stream`, httpx's exceptions, timeouts and content decoding.

    transport = StreamTransport(max_connections=8)
    async with httpx.AsyncClient(transport=transport, timeout=...) as client:
        ...

What it does:

- http and https (TLS through an `ssl.SSLContext`, by default `httpx.create_ssl_context()`,
  which honours SSL_CERT_FILE / SSL_CERT_DIR; SNI and hostname checks use the URL's host).
  No HTTP/2, no proxies, no `Expect: 100-continue`.
- Timeouts come from `request.extensions["timeout"]` (httpx fills it from the client's
  `httpx.Timeout`): connect, write, read (between body chunks) and pool (waiting for a free
  connection). Failures raise the httpx exception httpcore would: ConnectTimeout, ConnectError,
  WriteTimeout, ReadTimeout, ReadError, RemoteProtocolError, PoolTimeout.
- Responses: Content-Length, chunked (trailers read and dropped) or read-until-close bodies;
  none for HEAD, 1xx, 204 and 304. The body reaches httpx undecoded, so httpx undoes
  Content-Encoding (gzip, deflate, ...) as usual. Chunks are handed on as they arrive, so
  `client.stream(...)` + `aiter_lines()` sees server-sent events one by one.
- Pool: at most `max_connections` connections per origin (scheme, host, port); idle ones are
  reused last-in first-out and dropped after `keepalive_expiry` seconds idle. A connection goes
  back to the pool only when its response body was read to the end, the server allows keep-alive
  (HTTP/1.1, no `Connection: close`) and the transport is still open; in every other case
  (an error, a body left unread, a cancelled task) it is closed. A body left with little unread
  (SSE clients stop at `data: [DONE]`, just before the final empty chunk) is finished off when
  closed, if the rest arrives within 20 ms, so streamed requests keep their connections too. A reused connection that the
  server had already closed (EOF or reset before the first byte of the status line) is retried
  once, transparently, on a fresh connection.

Caveats:

- The `limits=` argument of `httpx.AsyncClient` only configures httpx's own transport: pass
  `max_connections` here instead.
- httpx mounts proxies from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY only when `transport=` is not
  given (`allow_env_proxies = trust_env and transport is None` in httpx 0.28): with this
  transport, environment proxies are ignored. `environment_proxy(url)` says whether httpx would
  have used one, so a caller can fall back to httpx's transport in that case.
- The response's `aclose()` releases the connection slot: always close responses (httpx does so
  for `client.post(...)` and at the end of `async with client.stream(...)`).
- One transport serves one event loop (its idle connections belong to that loop).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator

import httpx

__all__ = ["StreamTransport", "environment_proxy"]

_LIMIT = 64 * 1024  # longest status line + headers, or chunk-size line, we accept
_READ_SIZE = 64 * 1024  # most bytes handed on at once from a body read piece by piece
_WHOLE_BODY = 1024 * 1024  # Content-Length bodies up to this size are read in one go
_NO_BODY_STATUS = frozenset({204, 304})
_STATUS_PREFIXES = (b"HTTP/1.1 ", b"HTTP/1.0 ")
# A body the caller stopped reading is finished off (to keep the connection) when at most this
# much is left and it arrives within the grace period: SSE clients stop at `data: [DONE]`,
# just before the final empty chunk.
_FINISH_MAX = 64 * 1024
_FINISH_GRACE_S = 0.02

# Body framing of one response.
_LENGTH, _CHUNKED, _UNTIL_CLOSE = 0, 1, 2


def environment_proxy(url: str | httpx.URL) -> str | None:
    """The proxy httpx's own transport would route `url` through, from HTTP_PROXY,
    HTTPS_PROXY, ALL_PROXY and NO_PROXY (with `trust_env=True`); None when it would go direct.

    `StreamTransport` never uses a proxy: when this says one applies, use httpx's transport.
    """
    # httpx's own rules (private helpers, stable across 0.2x): most specific pattern first.
    from httpx._utils import URLPattern, get_environment_proxies

    target = httpx.URL(url)
    patterns = sorted((URLPattern(key), proxy) for key, proxy in get_environment_proxies().items())
    for pattern, proxy in patterns:
        if pattern.matches(target):
            return proxy
    return None


class _Stale(Exception):
    """The server closed the connection before answering: `error` unless it can be retried."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(str(error))
        self.error = error


class _Connection:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self) -> bool:
        """Still open, nothing pending: no EOF, no error, and no bytes the server sent while
        idle (e.g. a 408 before closing), which would otherwise be read as the next answer.
        (`_buffer` is private to StreamReader but has been there since asyncio began.)"""
        reader = self.reader
        return not (
            reader.at_eof()
            or reader.exception() is not None
            or getattr(reader, "_buffer", b"")  # absent in some future asyncio: then unseen
            or self.writer.transport.is_closing()
        )

    def abort(self) -> None:
        """Drop the connection at once (no TLS close_notify, no waiting)."""
        self.writer.transport.abort()


class _Pool:
    """The connections to one origin: a slot per connection in use, idle ones on a stack."""

    __slots__ = ("slots", "idle")

    def __init__(self, max_connections: int) -> None:
        # Holding a slot = using a connection. Idle connections hold none, and one is only
        # opened when none is idle, so open connections never exceed max_connections.
        self.slots = asyncio.Semaphore(max_connections)
        self.idle: list[_Connection] = []


class StreamTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive transport over asyncio streams (see the module docstring)."""

    def __init__(
        self,
        *,
        max_connections: int = 10,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        """`max_connections`: connections per origin, at most (requests beyond wait for one,
        up to the pool timeout). `ssl_context`: for https (default: `httpx.create_ssl_context()`,
        made on first use). `keepalive_expiry`: seconds an idle connection stays reusable
        (None: no limit). 5 s is httpx's default and uvicorn's (vLLM, SGLang) idle timeout;
        a connection the server dropped just before reuse is retried anyway."""
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, not {max_connections}")
        self._max_connections = max_connections
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"StreamTransport(max_connections={self._max_connections})"

    # -- httpx.AsyncBaseTransport -----------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme == "https":
            port = url.port or 443
        elif scheme == "http":
            port = url.port or 80
        else:
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {scheme!r} (http or https)", request=request
            )
        host = url.host
        timeouts: dict[str, float | None] = request.extensions.get("timeout") or {}
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        data = _encode_request(request, body)

        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._max_connections)
        try:
            if pool.slots.locked():  # else acquire() returns at once: no timer needed
                async with asyncio.timeout(timeouts.get("pool")):
                    await pool.slots.acquire()
            else:
                await pool.slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout(
                f"no free connection to {host}:{port} within the pool timeout", request=request
            ) from None

        conn: _Connection | None = None
        try:
            conn = self._take_idle(pool)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(scheme, host, port, timeouts, request)
            try:
                head = await _exchange(conn, data, timeouts, request)
            except _Stale as stale:
                if not reused:
                    raise stale.error from stale.__cause__
                # The server dropped an idle keep-alive connection: it never saw the request.
                conn.abort()
                conn = None
                conn = await self._connect(scheme, host, port, timeouts, request)
                try:
                    head = await _exchange(conn, data, timeouts, request)
                except _Stale as again:
                    raise again.error from again.__cause__
            status, version, reason, headers, framing, length, keep_alive = _parse_head(
                head, request
            )
            body: bytes | None = None
            if framing == _LENGTH and length <= _WHOLE_BODY:
                # The usual answer: read it now and give httpx the bytes, not a stream to drive
                # (a sizeable share of httpx's CPU per request is iterating a body stream).
                body = await _read_body(conn, length, timeouts.get("read"), request)
        except BaseException:
            # Errors and cancellation alike: the connection's state is unknown, so it goes.
            if conn is not None:
                conn.abort()
            pool.slots.release()
            raise

        if body is not None:
            self._release(pool, conn, keep_alive)
            return httpx.Response(
                status,
                headers=headers,
                content=body,  # raw: httpx still undoes any Content-Encoding
                extensions={"http_version": version, "reason_phrase": reason},
            )
        stream = _ResponseStream(
            self, pool, conn, framing, length, keep_alive, timeouts.get("read"), request
        )
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when their response does."""
        self._closed = True
        conns = [conn for pool in self._pools.values() for conn in pool.idle]
        for pool in self._pools.values():
            pool.idle.clear()
        for conn in conns:
            conn.writer.close()  # a FIN (and TLS close_notify) rather than a reset
        if conns:
            # Give the closes a moment to finish (TLS needs a round trip), then cut them off.
            waits = [asyncio.ensure_future(conn.writer.wait_closed()) for conn in conns]
            try:
                done, pending = await asyncio.wait(waits, timeout=1.0)
                for wait in done:
                    wait.exception()  # retrieved, so asyncio does not log it
            finally:
                for wait in waits:
                    wait.cancel()
                for conn in conns:
                    conn.abort()

    # -- internals --------------------------------------------------------------------------

    def _take_idle(self, pool: _Pool) -> _Connection | None:
        """The most recently used idle connection still worth trying, or None."""
        idle = pool.idle
        expiry = self._keepalive_expiry
        now = time.monotonic() if expiry is not None else 0.0
        while idle:
            conn = idle.pop()
            if expiry is not None and now - conn.idle_since > expiry:
                # The stack is ordered by idle time: this one and all below it have expired.
                conn.abort()
                for old in idle:
                    old.abort()
                idle.clear()
                return None
            if conn.usable():
                return conn
            conn.abort()
        return None

    def _release(self, pool: _Pool, conn: _Connection, reusable: bool) -> None:
        if reusable and not self._closed and conn.usable():
            conn.idle_since = time.monotonic()
            pool.idle.append(conn)
        else:
            conn.abort()
        pool.slots.release()

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            context = httpx.create_ssl_context()
            context.set_alpn_protocols(["http/1.1"])
            self._ssl_context = context
        return self._ssl_context

    async def _connect(
        self,
        scheme: str,
        host: str,
        port: int,
        timeouts: dict[str, float | None],
        request: httpx.Request,
    ) -> _Connection:
        context = self._ssl() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                    limit=_LIMIT,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"connecting to {host}:{port} timed out", request=request
            ) from None
        except OSError as exc:  # refused, unreachable, DNS (gaierror), TLS (SSLError)
            raise httpx.ConnectError(_say(exc), request=request) from exc
        # asyncio sets TCP_NODELAY on TCP sockets itself, so one write is one segment train.
        return _Connection(reader, writer)


# ---------------------------------------------------------------------------------------------
# The wire


def _say(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _encode_request(request: httpx.Request, body: bytes) -> bytes:
    """Request line, headers and body as one buffer (one write, one syscall)."""
    parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    chunked = False
    raw = request.headers.raw
    for name, value in raw:
        parts += (name, b": ", value, b"\r\n")
        if name.lower() == b"transfer-encoding":
            chunked = True
    parts.append(b"\r\n")
    head = b"".join(parts)
    # One CR and one LF per line, or a header smuggled another line in.
    lines = len(raw) + 2
    if head.count(b"\n") != lines or head.count(b"\r") != lines:
        raise httpx.LocalProtocolError("CR or LF in a request header", request=request)
    if chunked:
        # A streamed request body (httpx sent Transfer-Encoding: chunked); it has been read
        # whole, so it goes as one chunk.
        if body:
            return b"%s%x\r\n%s\r\n0\r\n\r\n" % (head, len(body), body)
        return head + b"0\r\n\r\n"
    return head + body


async def _exchange(
    conn: _Connection, data: bytes, timeouts: dict[str, float | None], request: httpx.Request
) -> bytes:
    """Send the request, return the response head (status line to blank line).

    Raises `_Stale` when the server closed the connection before the first byte of an answer,
    which on a reused keep-alive connection means it never took the request.
    """
    writer = conn.writer
    try:
        writer.write(data)
        # drain() returns at once unless the send buffer is over its high-water mark (so no
        # timer when all was sent). Over TLS, asyncio's SSL layer moves the whole request into
        # the socket's buffer at once, so there a stalled upload surfaces as a read timeout.
        if writer.transport.get_write_buffer_size():
            async with asyncio.timeout(timeouts.get("write")):
                await writer.drain()
        else:
            await writer.drain()
    except TimeoutError:
        raise httpx.WriteTimeout("sending the request timed out", request=request) from None
    except OSError as exc:
        raise _Stale(httpx.WriteError(_say(exc), request=request)) from exc
    reader = conn.reader
    while True:
        try:
            async with asyncio.timeout(timeouts.get("read")):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise httpx.ReadTimeout(
                "no response within the read timeout", request=request
            ) from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale(
                    httpx.RemoteProtocolError(
                        "server disconnected without sending a response", request=request
                    )
                ) from None
            raise httpx.RemoteProtocolError(
                "server disconnected in the middle of the response headers", request=request
            ) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError(
                f"response headers longer than {_LIMIT} bytes", request=request
            ) from None
        except OSError as exc:  # reset (before or while reading), TLS errors
            raise _Stale(httpx.ReadError(_say(exc), request=request)) from exc
        # Informational answers (100 Continue, 103 Early Hints) precede the real one; 101
        # (and anything malformed) goes to _parse_head, which refuses it.
        if head[:9] not in _STATUS_PREFIXES or head[9:10] != b"1" or head[9:12] == b"101":
            return head


async def _read_body(
    conn: _Connection, length: int, timeout: float | None, request: httpx.Request
) -> bytes:
    """A Content-Length body, whole."""
    if not length:
        return b""
    try:
        async with asyncio.timeout(timeout):
            return await conn.reader.readexactly(length)
    except TimeoutError:
        raise httpx.ReadTimeout("no body data within the read timeout", request=request) from None
    except asyncio.IncompleteReadError:
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=request
        ) from None
    except OSError as exc:
        raise httpx.ReadError(_say(exc), request=request) from exc


def _parse_head(
    head: bytes, request: httpx.Request
) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]], int, int, bool]:
    """(status, version, reason, headers, framing, length, keep_alive) of a response head."""
    lines = head[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise httpx.RemoteProtocolError(
            f"malformed status line {lines[0][:100]!r}", request=request
        )
    status = int(code)
    if status == 101:
        raise httpx.RemoteProtocolError("unexpected 101 Switching Protocols", request=request)
    headers: list[tuple[bytes, bytes]] = []
    lengths: set[bytes] = set()
    codings: list[bytes] = []
    close = version != b"HTTP/1.1"
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding: a continuation
            name, value = headers[-1]
            headers[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name[-1:] in (b" ", b"\t"):
            raise httpx.RemoteProtocolError(
                f"malformed response header {line[:100]!r}", request=request
            )
        value = value.strip(b" \t")
        headers.append((name, value))
        lower = name.lower()
        if lower == b"content-length":
            lengths.update(v.strip() for v in value.split(b","))
        elif lower == b"transfer-encoding":
            codings += (v.strip().lower() for v in value.split(b","))
        elif lower == b"connection":
            close = close or b"close" in (v.strip().lower() for v in value.split(b","))
    if request.method == "HEAD" or status in _NO_BODY_STATUS:
        return status, version, reason, headers, _LENGTH, 0, not close
    if codings:
        # Transfer-Encoding beats Content-Length; a body not chunked last runs until close.
        if codings[-1] == b"chunked":
            return status, version, reason, headers, _CHUNKED, 0, not close and not lengths
        return status, version, reason, headers, _UNTIL_CLOSE, 0, False
    if lengths:
        (length,) = lengths if len(lengths) == 1 else (b"",)
        if not length.isdigit():
            raise httpx.RemoteProtocolError(
                f"bad Content-Length {b', '.join(sorted(lengths))!r}", request=request
            )
        return status, version, reason, headers, _LENGTH, int(length), not close
    return status, version, reason, headers, _UNTIL_CLOSE, 0, False


class _ResponseStream(httpx.AsyncByteStream):
    """One response body, read off the connection as httpx asks for it.

    An iterator object rather than an async generator: httpx may stop reading early (the
    client breaks out at `data: [DONE]`), and an abandoned generator would need finalising.
    """

    def __init__(
        self,
        transport: StreamTransport,
        pool: _Pool,
        conn: _Connection,
        framing: int,
        length: int,
        keep_alive: bool,
        read_timeout: float | None,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._pool = pool
        self._conn = conn
        self._framing = framing
        self._left = length  # bytes left: of the body (_LENGTH) or of the chunk (_CHUNKED)
        self._keep_alive = keep_alive
        self._timeout = read_timeout
        self._request = request
        self._done = framing == _LENGTH and length == 0
        self._broken = False  # a read failed or was cancelled: the framing state is unknown
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done or self._closed or self._broken:
            raise StopAsyncIteration
        self._broken = True  # until the read completes (errors and cancellation leave it set)
        try:
            async with asyncio.timeout(self._timeout):
                data = await self._read()
        except TimeoutError:
            raise httpx.ReadTimeout(
                "no body data within the read timeout", request=self._request
            ) from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body",
                request=self._request,
            ) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError(
                "chunk-size line too long", request=self._request
            ) from None
        except OSError as exc:
            raise httpx.ReadError(_say(exc), request=self._request) from exc
        self._broken = False
        if not data:
            raise StopAsyncIteration
        return data

    async def _read(self) -> bytes:
        """The next piece of the body, or b"" at its end (then `_done` is set)."""
        reader = self._conn.reader
        if self._framing == _LENGTH:
            left = self._left
            if left <= _WHOLE_BODY:
                data = await reader.readexactly(left)  # the common case: one call
            else:
                data = await reader.read(min(left, _READ_SIZE))
                if not data:
                    raise asyncio.IncompleteReadError(b"", left)
            self._left = left - len(data)
            self._done = not self._left
            return data
        if self._framing == _UNTIL_CLOSE:
            data = await reader.read(_READ_SIZE)
            self._done = not data
            return data
        # chunked: `size[;ext]\r\n data \r\n` ... `0\r\n trailers \r\n`
        if not self._left:
            line = await reader.readuntil(b"\r\n")
            size_text = line[:-2].partition(b";")[0].strip(b" \t")
            if not size_text or size_text.strip(b"0123456789abcdefABCDEF"):
                raise httpx.RemoteProtocolError(
                    f"malformed chunk size {line[:40]!r}", request=self._request
                )
            size = int(size_text, 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailer fields: httpx has nowhere to put them
                self._done = True
                return b""
            if size <= _READ_SIZE:
                data = await reader.readexactly(size + 2)
                if data[-2:] != b"\r\n":
                    raise httpx.RemoteProtocolError("malformed chunk end", request=self._request)
                return data[:-2]
            self._left = size
        data = await reader.read(min(self._left, _READ_SIZE))
        if not data:
            raise asyncio.IncompleteReadError(b"", self._left)
        self._left -= len(data)
        if not self._left and await reader.readexactly(2) != b"\r\n":
            raise httpx.RemoteProtocolError("malformed chunk end", request=self._request)
        return data

    async def aclose(self) -> None:
        """Give the connection back if the body was read whole and keep-alive holds; else
        close it. Either way the slot is freed (once)."""
        if self._closed:
            return
        self._closed = True
        reusable = False
        try:
            reusable = self._keep_alive and (self._done or await self._finish())
        finally:
            self._transport._release(self._pool, self._conn, reusable)

    async def _finish(self) -> bool:
        """Read the rest of a body the caller left, if short and arriving now; True if done."""
        if self._broken or self._framing == _UNTIL_CLOSE or self._left > _FINISH_MAX:
            return False
        task = asyncio.current_task()
        if task is None or task.cancelling():
            return False  # closing because of a cancellation: no more waiting
        budget = _FINISH_MAX
        try:
            async with asyncio.timeout(_FINISH_GRACE_S):
                while not self._done and budget > 0:
                    budget -= len(await self._read())
        except (TimeoutError, OSError, EOFError, asyncio.LimitOverrunError, httpx.HTTPError):
            return False
        return self._done
