"""The chat-completions client: one shared `httpx.AsyncClient`, capped concurrency, retries.

`ProverClient(config.prover, api_key)` is an async context manager; `await client.complete(
messages)` POSTs `{base_url}/chat/completions` and returns an `Answer`. What can go wrong with
one request becomes a value: a malformed body, a missing `choices`, an empty answer or retries
exhausted give an `Answer` whose `error` says so in one line (the search records `prover_error`);
`finish_reason == "length"` is an ordinary answer with `Answer.truncated` true. Only what no
retry can fix for any request raises: 400/401/402/403/404 raise `ProverHTTPError` naming the URL
and, for key problems, the environment variable that holds the key.

One 400 is not the request's fault but the conversation's: a repair conversation that has
outgrown the model's context ("maximum context length is 32768 tokens", "prompt is too long").
It comes back as a truncated answer (`finish_reason="length"`, empty text, `Answer.note` saying
why), so the search records `truncated` instead of stopping the run. On a first turn (no
assistant message yet) the same 400 means `prover.max_tokens` does not fit the model, which no
later request fixes: it raises, saying so.

Retries follow `retry_decision(...)`, a pure function: 408, 409, 429, 5xx, timeouts and
connection errors are retried with capped exponential backoff and jitter, `Retry-After`
(seconds or an HTTP date) beating the backoff, up to `prover.max_retries` retries.

The `httpx.AsyncClient` uses httpx's own transport (so environment proxies apply as httpx
documents), with explicit `httpx.Timeout` (`prover.*_timeout_s`) and `httpx.Limits`
(`prover.concurrency` connections); tests pass `transport=httpx.MockTransport(...)` instead.

The key is sent as a bearer header and never appears in a message, a log line or a repr: any
text that reaches the user (server error bodies included) is scrubbed of it.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import logging
import os
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.config import Config, ProverConfig
from harness.errors import PrerequisiteError, ProverError, ProverHTTPError
from harness.types import Answer, ChatMessage

__all__ = [
    "ProverClient",
    "EndpointUnreachable",
    "RetryDecision",
    "retry_decision",
    "require_api_key",
    "is_local_url",
    "RETRYABLE_STATUS",
    "FATAL_STATUS",
]

log = logging.getLogger("harness.client")

RETRYABLE_STATUS = frozenset({408, 409, 429})  # and every 5xx
FATAL_STATUS = frozenset({400, 401, 402, 403, 404})  # wrong for every request: stop the run
# How servers word "prompt + max_tokens exceed the model's context" in a 400 (or 413) body:
# OpenAI, vLLM, DeepSeek, OpenRouter ("maximum context length is N tokens"), SGLang ("longer
# than the model's context length"), others ("prompt is too long", "too many tokens").
_CONTEXT_OVERFLOW = re.compile(
    r"context[ _-]?(?:length|window|size)|maximum context|too many (?:input )?tokens"
    r"|prompt is too long|input is too long|too long for the (?:model|context)",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Retry policy: a pure decision, obeyed by the send loop.


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    wait_s: float
    reason: str  # one line: what happened (and, when giving up, why)


def _retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait (`Retry-After: 7` or an HTTP date), if any."""
    if not headers:
        return None
    value = None
    for key, val in headers.items():
        if key.lower() == "retry-after":
            value = val.strip()
            break
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _describe(status: int | None, exc: BaseException | None) -> str:
    if exc is not None:
        if isinstance(exc, httpx.TimeoutException):
            kind = {
                httpx.ConnectTimeout: "connect timeout",
                httpx.ReadTimeout: "read timeout",
                httpx.WriteTimeout: "write timeout",
                httpx.PoolTimeout: "pool timeout",
            }.get(type(exc), "timeout")
            return kind
        text = str(exc).splitlines()[0] if str(exc) else ""
        return f"{type(exc).__name__}{': ' + text if text else ''}"
    return f"HTTP {status}"


def retry_decision(
    status: int | None,
    headers: Mapping[str, str] | None,
    exc: BaseException | None,
    attempt: int,
    config: ProverConfig,
    *,
    jitter: float | None = None,
    now: float | None = None,
) -> RetryDecision:
    """Whether to retry after attempt number `attempt` (1 = the first try) failed.

    `status` is the HTTP status (None when the request raised `exc`). `jitter` in [0, 1)
    scales the backoff between 50% and 100% (random when None); `now` is the clock used for a
    `Retry-After` date. Retry-After is obeyed up to `prover.retry_after_max_s`.
    """
    what = _describe(status, exc)
    if exc is not None:
        retryable = isinstance(
            exc, httpx.TimeoutException | httpx.TransportError
        ) and not isinstance(exc, httpx.UnsupportedProtocol)  # not a URL: no retry fixes it
    else:
        retryable = status is not None and (status in RETRYABLE_STATUS or 500 <= status <= 599)
    if not retryable:
        return RetryDecision(False, 0.0, f"{what} (not retryable)")
    if attempt > config.max_retries:
        return RetryDecision(False, 0.0, f"{what}; gave up after {config.max_retries} retries")
    server_wait = _retry_after(headers, now) if exc is None else None
    if server_wait is not None:
        wait = min(server_wait, config.retry_after_max_s)
        return RetryDecision(True, wait, f"{what}; server asked to wait {server_wait:g} s")
    backoff = min(config.backoff_max_s, config.backoff_base_s * 2 ** (attempt - 1))
    fraction = random.random() if jitter is None else jitter
    wait = backoff * (0.5 + 0.5 * fraction)
    return RetryDecision(True, wait, f"{what}; backing off")


# ---------------------------------------------------------------------------------------------
# Keys


def is_local_url(url: str) -> bool:
    """True for loopback endpoints (a local vLLM/SGLang/Ollama server needs no key)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "0.0.0.0") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_api_key(config: Config | ProverConfig) -> str | None:
    """The key from `prover.api_key_env`, or PrerequisiteError; None is fine for loopback URLs."""
    prover = config.prover if isinstance(config, Config) else config
    key = config.api_key() if isinstance(config, Config) else os.environ.get(prover.api_key_env)
    key = key or None
    if key or is_local_url(prover.base_url):
        return key
    raise PrerequisiteError(
        f"no API key: set {prover.api_key_env} (prover.api_key_env) to the key for "
        f"{prover.base_url}, or point prover.base_url at a local server"
    )


# ---------------------------------------------------------------------------------------------
# The client


class EndpointUnreachable(ProverError):
    """The endpoint cannot be reached at all (refused, no such host, not a URL): the probe
    before a run failed, or the circuit breaker tripped during one. No retry fixes it."""


def _connection_level(exc: BaseException) -> bool:
    """A failure to talk to the server at all (not a slow answer, not an HTTP status)."""
    slow = httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout
    return isinstance(exc, httpx.TransportError) and not isinstance(exc, slow)


class _Failure(Exception):
    """One request failed in a way retry_decision judges (status or transport error)."""

    def __init__(self, status: int | None, headers: Mapping[str, str], body: str) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body


@dataclass
class _Reply:
    texts: list[str]
    finish_reasons: list[str | None]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


class ProverClient:
    """An OpenAI-compatible chat-completions client owning one `httpx.AsyncClient`.

    Circuit breaker: when `BREAKER_FAILURES` tries in a row (across all requests), or every try
    for `BREAKER_WINDOW_S` seconds, failed at the connection level, every request in flight and
    every later one raises `EndpointUnreachable` (the run stops, resumable)."""

    BREAKER_FAILURES = 20
    BREAKER_WINDOW_S = 120.0
    PROBE_TRIES = 3
    PROBE_TIMEOUT_S = 5.0

    def __init__(
        self,
        config: ProverConfig,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._key = api_key
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        self._semaphore = asyncio.Semaphore(config.concurrency)
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self._streak = 0  # connection-level failures in a row
        self._streak_since: float | None = None
        self._tripped: EndpointUnreachable | None = None
        self._trip = asyncio.Event()

    def __repr__(self) -> str:
        key = "set" if self._key else "none"
        return f"ProverClient(url={self.url!r}, model={self.config.model!r}, key={key})"

    async def __aenter__(self) -> ProverClient:
        if self._closed:
            raise RuntimeError("a ProverClient cannot be reopened once closed")
        c = self.config
        headers = {"Content-Type": "application/json", **c.extra_headers}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=c.connect_timeout_s,
                read=c.read_timeout_s,
                write=c.write_timeout_s,
                pool=c.pool_timeout_s,
            ),
            limits=httpx.Limits(
                max_connections=c.concurrency, max_keepalive_connections=c.concurrency
            ),
            headers=headers,
            transport=self._transport,  # None: httpx's own
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http = None
        self._closed = True

    # -- public ---------------------------------------------------------------------------

    async def probe(self) -> None:
        """One cheap request (`GET {base_url}/models`) before a run: raise
        `EndpointUnreachable` (one line naming the URL) when the server cannot be reached,
        `ProverHTTPError` when it refuses the key. Any other answer, even 404, means reachable
        (not every server lists its models); the first real request judges the rest."""
        if self._http is None:
            raise RuntimeError("use `async with ProverClient(...)` before calling probe()")
        url = self.config.base_url.rstrip("/") + "/models"
        timeout = min(self.PROBE_TIMEOUT_S, self.config.connect_timeout_s)
        for attempt in range(1, self.PROBE_TRIES + 1):
            try:
                response = await self._http.get(url, timeout=timeout)
            except httpx.HTTPError as exc:
                if attempt < self.PROBE_TRIES and not isinstance(exc, httpx.UnsupportedProtocol):
                    await asyncio.sleep(float(attempt))
                    continue
                raise EndpointUnreachable(
                    self._scrub(f"cannot reach the prover at {self.url}: {_describe(None, exc)}")
                ) from None
            if response.status_code == 401:
                raise self._fatal(401, response.text)
            return

    def _connection_failed(self, exc: BaseException) -> None:
        """Count a try that failed at the connection level; trip the breaker when due."""
        now = time.monotonic()
        self._streak += 1
        if self._streak_since is None:
            self._streak_since = now
        long = now - self._streak_since >= self.BREAKER_WINDOW_S
        if self._tripped is None and (self._streak >= self.BREAKER_FAILURES or long):
            self._tripped = EndpointUnreachable(
                self._scrub(
                    f"the prover at {self.url} is unreachable: {self._streak} tries in a row "
                    f"failed over {now - self._streak_since:.0f} s ({_describe(None, exc)})"
                )
            )
            self._trip.set()

    def _reached(self) -> None:
        self._streak = 0
        self._streak_since = None

    async def complete(self, messages: list[ChatMessage]) -> Answer:
        """One answer (the first choice). Failures of this request are `Answer.error`."""
        return (await self.complete_all(messages))[0]

    async def complete_all(self, messages: list[ChatMessage]) -> list[Answer]:
        """One answer per choice (`prover.n`). Prompt tokens and cost are counted on the first
        answer; completion tokens are split evenly when the server reports only a total."""
        if self._http is None:
            raise RuntimeError("use `async with ProverClient(...)` before calling complete()")
        # encoded once, whatever the retries
        body = json.dumps(self._body(messages), ensure_ascii=False).encode("utf-8")
        started = time.monotonic()
        attempt = 0
        async with self._semaphore:
            while True:
                if self._tripped is not None:
                    raise self._tripped
                attempt += 1
                status: int | None = None
                headers: Mapping[str, str] = {}
                exc: BaseException | None = None
                detail = ""
                try:
                    send = self._post_stream if self.config.stream else self._post
                    reply = await send(body)
                    self._reached()
                    return self._answers(reply, time.monotonic() - started, attempt - 1)
                except _Failure as failure:
                    self._reached()
                    status, headers = failure.status, failure.headers
                    overflow = status in (400, 413) and _says_context_overflow(failure.body)
                    if overflow and _has_assistant_turn(messages):
                        return [self._overflowed(failure.body, started, attempt - 1)]
                    if status in FATAL_STATUS or overflow:
                        raise self._fatal(status, failure.body, overflow=overflow) from None
                    detail = _server_message(failure.body)
                except httpx.HTTPError as err:
                    exc = err
                    if _connection_level(err):
                        self._connection_failed(err)
                        if self._tripped is not None:
                            raise self._tripped from None
                decision = retry_decision(status, headers, exc, attempt, self.config)
                if not decision.retry:
                    said = f": {detail}" if detail else ""
                    return [
                        Answer(
                            text="",
                            error=self._scrub(f"{decision.reason} from {self.url}{said}"),
                            seconds=time.monotonic() - started,
                            retries=attempt - 1,
                        )
                    ]
                log.warning(
                    "prover: %s from %s; retry %d/%d in %.1f s",
                    self._scrub(decision.reason),
                    self.url,
                    attempt,
                    self.config.max_retries,
                    decision.wait_s,
                )
                try:  # the backoff, cut short when the breaker trips
                    await asyncio.wait_for(self._trip.wait(), timeout=decision.wait_s)
                except TimeoutError:
                    pass

    # -- internals ------------------------------------------------------------------------

    def _body(self, messages: list[ChatMessage]) -> dict[str, Any]:
        c = self.config
        body: dict[str, Any] = {
            "model": c.model,
            "messages": messages,
            "max_tokens": c.max_tokens,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "n": c.n,
        }
        if c.seed is not None:
            body["seed"] = c.seed
        if c.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(c.extra_body)
        if not isinstance(body.get("max_tokens"), int):
            # extra_body may change the limit but never drop it: servers without one generate
            # until the context is full
            body["max_tokens"] = c.max_tokens
        return body

    def _scrub(self, text: str) -> str:
        if self._key and self._key in text:
            text = text.replace(self._key, "***")
        return text

    def _overflowed(self, body: str, started: float, retries: int) -> Answer:
        """A repair conversation too long for the model: a truncated answer, not an error."""
        note = "the conversation outgrew the model's context (HTTP 400)"
        detail = _server_message(body)
        return Answer(
            text="",
            finish_reason="length",
            seconds=time.monotonic() - started,
            retries=retries,
            note=self._scrub(f"{note}: {detail}" if detail else note),
        )

    def _fatal(self, status: int, body: str, *, overflow: bool = False) -> ProverHTTPError:
        env = self.config.api_key_env
        detail = _server_message(body)
        hint = {
            401: f"check the key in {env}",
            402: f"the account for the key in {env} is out of credit",
            403: f"the key in {env} may not use model {self.config.model!r}",
            404: f"no such endpoint or model {self.config.model!r}: check prover.base_url and prover.model",
            400: "the server rejected the request",
        }.get(status, "the server rejected the request")
        if status == 401 and not self._key:
            hint = f"no key was sent: set {env}"
        if overflow:
            hint = (
                f"the first prompt plus prover.max_tokens ({self.config.max_tokens}) do not fit "
                f"the model's context: lower prover.max_tokens"
            )
        message = f"{status} from {self.url}: {hint}" + (f" ({detail})" if detail else "")
        return ProverHTTPError(status, self.url, self._scrub(message))

    async def _post(self, body: bytes) -> _Reply:
        assert self._http is not None
        response = await self._http.post(self.url, content=body)
        if response.status_code != 200:
            raise _Failure(response.status_code, response.headers, response.text)
        try:
            data = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _Reply(
                [], [], error=f"malformed JSON in the response ({_snippet(response.text)})"
            )
        return _parse_completion(data)

    async def _post_stream(self, body: bytes) -> _Reply:
        assert self._http is not None
        async with self._http.stream("POST", self.url, content=body) as response:
            if response.status_code != 200:
                text = (await response.aread()).decode("utf-8", "replace")
                raise _Failure(response.status_code, response.headers, text)
            if response.headers.get("content-type", "").startswith("application/json"):
                # a server or proxy that ignores `stream: true` answers in one piece
                raw = await response.aread()
                try:
                    return _parse_completion(json.loads(raw))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    text = raw.decode("utf-8", "replace")
                    return _Reply(
                        [], [], error=f"malformed JSON in the response ({_snippet(text)})"
                    )
            texts: dict[int, list[str]] = {}
            finish: dict[int, str | None] = {}
            usage: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, event names
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    chunk = json.loads(payload)
                except json.JSONDecodeError:
                    return _Reply(
                        [], [], error=f"malformed JSON in the stream ({_snippet(payload)})"
                    )
                if not isinstance(chunk, dict):
                    return _Reply([], [], error="malformed stream chunk (not an object)")
                if chunk.get("error"):
                    return _Reply(
                        [], [], error=f"error in the stream: {_server_message(json.dumps(chunk))}"
                    )
                if isinstance(chunk.get("usage"), dict):
                    usage = chunk["usage"]
                choices = chunk.get("choices") or []
                if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
                    return _Reply([], [], error="malformed stream chunk (choices)")
                for choice in choices:
                    index = choice.get("index", 0)
                    index = index if isinstance(index, int) else 0
                    delta = choice.get("delta")
                    piece = delta.get("content") if isinstance(delta, dict) else None
                    if isinstance(piece, str):
                        texts.setdefault(index, []).append(piece)
                    else:
                        texts.setdefault(index, [])
                    if choice.get("finish_reason"):
                        finish[index] = choice["finish_reason"]
        if not texts:
            return _Reply([], [], error="the stream ended without any choices")
        order = sorted(texts)
        return _Reply(
            ["".join(texts[i]) for i in order],
            [finish.get(i) for i in order],
            _int(usage.get("prompt_tokens")),
            _int(usage.get("completion_tokens")),
        )

    def _answers(self, reply: _Reply, seconds: float, retries: int) -> list[Answer]:
        if reply.error:
            return [
                Answer(text="", error=self._scrub(reply.error), seconds=seconds, retries=retries)
            ]
        count = len(reply.texts)
        share = reply.completion_tokens // count if count else 0
        answers = []
        for i, (text, reason) in enumerate(zip(reply.texts, reply.finish_reasons, strict=True)):
            prompt = reply.prompt_tokens if i == 0 else 0
            completion = share if count > 1 else reply.completion_tokens
            error = None
            if not text.strip() and reason != "length":
                error = f"empty answer (finish_reason={reason})"
            answers.append(
                Answer(
                    text=text,
                    finish_reason=reason,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    seconds=seconds,
                    cost=self._cost(prompt, completion),
                    error=error,
                    retries=retries,
                )
            )
        return answers

    def _cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        c = self.config
        if c.price_prompt_per_mtok is None and c.price_completion_per_mtok is None:
            return None
        return (
            prompt_tokens * (c.price_prompt_per_mtok or 0.0)
            + completion_tokens * (c.price_completion_per_mtok or 0.0)
        ) / 1e6


# ---------------------------------------------------------------------------------------------
# Decoding chat-completions JSON (only here).


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _snippet(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line[:limit] + ("..." if len(one_line) > limit else "") if one_line else "empty body"


def _says_context_overflow(body: str) -> bool:
    return bool(body) and _CONTEXT_OVERFLOW.search(body) is not None


def _has_assistant_turn(messages: list[ChatMessage]) -> bool:
    """A repair conversation: the model has answered at least once already."""
    return any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages)


def _server_message(body: str) -> str:
    """The error text a server put in its body, as one short line."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return _snippet(body, 160) if body and body.strip() else ""
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("error")
            if isinstance(msg, str):
                return _snippet(msg, 160)
        if isinstance(err, str):
            return _snippet(err, 160)
    return _snippet(body, 160)


def _parse_completion(data: Any) -> _Reply:
    if not isinstance(data, dict):
        return _Reply([], [], error="malformed response: the body is not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        why = _server_message(json.dumps(data)) if data.get("error") else "no choices"
        return _Reply([], [], error=f"malformed response: missing choices ({why})")
    texts, reasons = [], []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            return _Reply([], [], error="malformed response: a choice has no message")
        content = message.get("content")
        texts.append(content if isinstance(content, str) else "")
        reasons.append(choice.get("finish_reason"))
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return _Reply(
        texts, reasons, _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
    )
