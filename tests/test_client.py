"""The real client against a real loopback chat-completions server (tests/doubles/chat_server)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time

import httpx
import pytest

from harness.client import ProverClient, RetryDecision, require_api_key, retry_decision
from harness.config import Config, ProverConfig
from harness.errors import PrerequisiteError, ProverHTTPError
from tests.doubles.chat_server import ChatServer, Raw, Reply, Reset, Stall, Status

MESSAGES = [{"role": "user", "content": "Complete the following Lean 4 code: ..."}]
FAKE_KEY = "sk-FAKE-9f3c1e77-do-not-leak"

pytestmark = pytest.mark.timeout(60)


def make_config(server: ChatServer, **overrides) -> ProverConfig:
    settings = dict(
        base_url=server.url,
        model="deepseek/deepseek-prover-v2",
        max_retries=3,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        connect_timeout_s=2.0,
        read_timeout_s=2.0,
        write_timeout_s=2.0,
        pool_timeout_s=5.0,
    )
    settings.update(overrides)
    return ProverConfig(**settings)


def complete(config: ProverConfig, key: str | None = None, messages=MESSAGES):
    async def go():
        async with ProverClient(config, key) as client:
            return await client.complete(messages)

    return asyncio.run(go())


@pytest.fixture
def server():
    with ChatServer() as srv:
        yield srv


# ---------------------------------------------------------------------------------------------
# The request


def test_request_carries_sampling_settings_key_and_extra_body(server):
    server.script(Reply("```lean4\nby norm_num\n```", prompt_tokens=12, completion_tokens=30))
    config = make_config(
        server,
        max_tokens=2048,
        temperature=0.6,
        top_p=0.9,
        seed=7,
        extra_body={"top_k": 20, "provider": {"order": ["x"]}},
        price_prompt_per_mtok=0.5,
        price_completion_per_mtok=2.0,
    )
    answer = complete(config, FAKE_KEY)
    body = server.requests[0]
    assert body["model"] == "deepseek/deepseek-prover-v2"
    assert body["messages"] == MESSAGES
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["n"], body["seed"]) == (
        2048,
        0.6,
        0.9,
        1,
        7,
    )
    assert body["top_k"] == 20 and body["provider"] == {"order": ["x"]}
    assert "stream" not in body
    assert server.headers[0]["authorization"] == f"Bearer {FAKE_KEY}"
    assert answer.text == "```lean4\nby norm_num\n```"
    assert answer.finish_reason == "stop" and answer.error is None and answer.retries == 0
    assert (answer.prompt_tokens, answer.completion_tokens) == (12, 30)
    assert answer.cost == pytest.approx((12 * 0.5 + 30 * 2.0) / 1e6)


def test_no_key_sends_no_authorization_header_and_no_seed_when_unset(server):
    answer = complete(make_config(server))
    assert answer.error is None
    assert "authorization" not in server.headers[0]
    assert "seed" not in server.requests[0]
    assert answer.cost is None


def test_streaming_assembles_deltas_and_reads_usage(server):
    text = "### Complete Lean 4 Proof\n```lean4\ntheorem t : 1 + 1 = 2 := by\n  norm_num\n```"
    server.script(Reply(text, prompt_tokens=40, completion_tokens=17))
    answer = complete(make_config(server, stream=True))
    body = server.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert answer.text == text and answer.finish_reason == "stop"
    assert (answer.prompt_tokens, answer.completion_tokens) == (40, 17)


def test_streaming_truncated_answer_is_marked(server):
    server.script(Reply("### Detailed Proof\nLet", finish_reason="length"))
    answer = complete(make_config(server, stream=True))
    assert answer.truncated and answer.error is None and answer.text.endswith("Let")


def test_max_tokens_is_sent_even_when_extra_body_tries_to_drop_it(server):
    complete(make_config(server, max_tokens=777, extra_body={"max_tokens": None}))
    assert server.requests[0]["max_tokens"] == 777
    complete(make_config(server, extra_body={"max_tokens": 512}))  # a deliberate override
    assert server.requests[1]["max_tokens"] == 512


@pytest.mark.parametrize(
    "events",
    [
        'data: {"choices": "oops"}\n\n',
        'data: {"choices": [7]}\n\n',
        'data: {"choices": [{"delta": "text", "index": "x"}]}\n\ndata: [DONE]\n\n',
        "data: [1, 2]\n\n",
        ": only a comment\n\n",
    ],
)
def test_odd_stream_chunks_are_prover_errors_not_crashes(server, events):
    server.script(Raw(events, content_type="text/event-stream"))
    answer = complete(make_config(server, stream=True))
    assert answer.error is not None and answer.text == ""
    assert len(server.requests) == 1


def test_streaming_request_answered_in_one_piece_is_read(server):
    # some servers and proxies ignore `stream: true` and send an ordinary JSON completion
    body = json.dumps(
        {
            "choices": [{"message": {"content": "by simp"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2},
        }
    )
    server.script(Raw(body))
    answer = complete(make_config(server, stream=True))
    assert answer.text == "by simp" and answer.error is None
    assert (answer.prompt_tokens, answer.completion_tokens) == (5, 2)


def test_n_choices_give_one_answer_each(server):
    server.script(Reply("proof", completion_tokens=10))

    async def go():
        async with ProverClient(make_config(server, n=2), None) as client:
            return await client.complete_all(MESSAGES)

    answers = asyncio.run(go())
    assert [a.text for a in answers] == ["proof", "proof"]
    assert [a.completion_tokens for a in answers] == [5, 5]
    assert [a.prompt_tokens for a in answers] == [10, 0]


# ---------------------------------------------------------------------------------------------
# Retries


def test_429_with_retry_after_seconds_is_honoured(server):
    server.script(Status(429, headers={"Retry-After": "1"}), Reply("ok"))
    answer = complete(make_config(server))
    assert answer.text == "ok" and answer.retries == 1
    waited = server.request_times[1] - server.request_times[0]
    assert waited >= 0.95, f"retried after {waited:.2f} s; Retry-After said 1 s"
    assert waited < 1.9


def test_retry_after_http_date_is_honoured(server):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    server.script(Status(503, headers={"Retry-After": when}), Reply("ok"))
    answer = complete(make_config(server))
    assert answer.text == "ok" and answer.retries == 1
    assert server.request_times[1] - server.request_times[0] >= 0.9


def test_500_and_503_are_retried(server):
    server.script(Status(500), Status(503), Reply("ok"))
    answer = complete(make_config(server))
    assert answer.text == "ok" and answer.retries == 2 and len(server.requests) == 3


@pytest.mark.parametrize("status", [408, 409, 502, 504])
def test_other_transient_statuses_are_retried(server, status):
    server.script(Status(status), Reply("ok"))
    answer = complete(make_config(server))
    assert answer.text == "ok" and answer.retries == 1


def test_reset_connection_is_retried(server):
    server.script(Reset(), Reset(), Reply("ok"))
    answer = complete(make_config(server))
    assert answer.text == "ok" and answer.retries == 2 and len(server.requests) == 3


def test_stall_past_read_timeout_is_retried(server):
    server.script(Stall(10), Reply("ok"))
    started = time.monotonic()
    answer = complete(make_config(server, read_timeout_s=0.3))
    elapsed = time.monotonic() - started
    assert answer.text == "ok" and answer.retries == 1
    assert 0.3 <= elapsed < 5


def test_retries_exhausted_is_a_prover_error_naming_the_url(server):
    server.script(*[Status(503)] * 3)
    answer = complete(make_config(server, max_retries=2))
    assert len(server.requests) == 3
    assert answer.text == "" and answer.retries == 2
    assert "gave up after 2 retries" in answer.error and server.url in answer.error
    assert "\n" not in answer.error


def test_refused_connection_is_retried_then_a_prover_error():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ProverConfig(
        base_url=f"http://127.0.0.1:{port}/v1", max_retries=2, backoff_base_s=0.01
    )
    started = time.monotonic()
    answer = complete(config)
    assert answer.retries == 2 and "ConnectError" in answer.error
    assert time.monotonic() - started < 10


def test_stalls_until_retries_exhausted_give_timeout_error(server):
    server.script(Stall(10), Stall(10))
    answer = complete(make_config(server, read_timeout_s=0.2, max_retries=1))
    assert "read timeout" in answer.error and answer.retries == 1


# ---------------------------------------------------------------------------------------------
# Bad answers are values, not crashes, and are not retried


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (Raw('{"choices": [{"message": {"content": "x"'), "malformed JSON"),
        (Raw("<html>502 Bad Gateway</html>", content_type="text/html"), "malformed JSON"),
        (Raw('{"id": "chatcmpl-1", "object": "chat.completion"}'), "missing choices"),
        (Raw('{"error": {"message": "upstream overloaded"}}'), "upstream overloaded"),
        (Raw('{"choices": []}'), "missing choices"),
        (Raw('{"choices": [{"finish_reason": "stop"}]}'), "no message"),
        (Reply("   \n", finish_reason="stop"), "empty answer"),
    ],
)
def test_malformed_answers_are_prover_errors(server, action, expected):
    server.script(action)
    answer = complete(make_config(server))
    assert answer.error is not None and expected in answer.error
    assert len(server.requests) == 1 and answer.retries == 0


def test_finish_reason_length_is_truncated_not_an_error(server):
    server.script(Reply("### Detailed Proof and Analysis\n...", finish_reason="length"))
    answer = complete(make_config(server))
    assert answer.truncated and answer.error is None
    assert answer.text.startswith("### Detailed")


def test_malformed_stream_is_a_prover_error(server):
    server.script(Raw("data: {not json\n\n", content_type="text/event-stream"))
    answer = complete(make_config(server, stream=True))
    assert "malformed JSON in the stream" in answer.error


# ---------------------------------------------------------------------------------------------
# Fatal statuses stop at once


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "check the key in AIMLAPI_KEY"),
        (403, "AIMLAPI_KEY"),
        (404, "check prover.base_url and prover.model"),
        (400, "rejected"),
    ],
)
def test_non_retryable_status_raises_at_once_naming_url_and_key_variable(server, status, words):
    server.script(Status(status, body='{"error": {"message": "nope"}}'))
    with pytest.raises(ProverHTTPError) as info:
        complete(make_config(server), FAKE_KEY)
    message = str(info.value)
    assert len(server.requests) == 1
    assert message.startswith(f"{status} from {server.url}/chat/completions")
    assert words in message and "nope" in message
    assert info.value.status == status and info.value.url.endswith("/chat/completions")


# What real servers say when prompt + max_tokens exceed the model's context.
OVERFLOW_BODIES = [
    '{"object": "error", "message": "This model\'s maximum context length is 32768 tokens. '
    'However, you requested 40112 tokens (23728 in the messages, 16384 in the completion).", '
    '"type": "BadRequestError", "code": 400}',  # vLLM
    '{"error": {"message": "Please reduce the length of the messages or completion.", '
    '"type": "invalid_request_error", "code": "context_length_exceeded"}}',  # OpenAI
    '{"error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens '
    '> 200000 maximum"}}',
]
REPAIR = [
    *MESSAGES,
    {"role": "assistant", "content": "```lean4\ntheorem t : 1 = 1 := by\n  simp\n```"},
    {"role": "user", "content": "The proof (Round 0) is not correct. ..."},
]


@pytest.mark.parametrize("body", OVERFLOW_BODIES)
def test_repair_conversation_past_the_context_is_a_truncated_answer(server, body):
    server.script(Status(400, body=body))
    answer = complete(make_config(server), FAKE_KEY, messages=REPAIR)
    assert len(server.requests) == 1  # not retried: the same conversation would fail again
    assert answer.truncated and answer.error is None and answer.text == ""
    assert answer.note.startswith("the conversation outgrew the model's context")


def test_context_overflow_on_the_first_turn_stops_naming_max_tokens(server):
    # no assistant turn yet: prover.max_tokens itself does not fit, for every problem
    server.script(Status(400, body=OVERFLOW_BODIES[0]))
    with pytest.raises(ProverHTTPError, match=r"lower prover.max_tokens") as info:
        complete(make_config(server, max_tokens=16384), FAKE_KEY)
    assert "16384" in str(info.value) and info.value.status == 400


def test_other_400s_in_a_repair_conversation_still_stop_the_run(server):
    server.script(Status(400, body='{"error": {"message": "Unknown parameter: top_kk"}}'))
    with pytest.raises(ProverHTTPError, match="rejected the request"):
        complete(make_config(server), FAKE_KEY, messages=REPAIR)


def test_overflow_note_never_shows_the_key(server):
    echo = f'{{"error": {{"message": "context length exceeded for key {FAKE_KEY}"}}}}'
    server.script(Status(400, body=echo))
    answer = complete(make_config(server), FAKE_KEY, messages=REPAIR)
    assert answer.truncated and FAKE_KEY not in answer.note and "***" in answer.note


def test_401_without_key_says_to_set_the_variable(server):
    server.script(Status(401))
    with pytest.raises(ProverHTTPError, match="no key was sent: set MY_KEY"):
        complete(make_config(server, api_key_env="MY_KEY"))


# ---------------------------------------------------------------------------------------------
# Concurrency


def test_concurrency_cap_is_never_exceeded():
    with ChatServer(responder=lambda request: Reply("ok", delay=0.1)) as server:
        config = make_config(server, concurrency=4)

        async def go():
            async with ProverClient(config, None) as client:
                return await asyncio.gather(*(client.complete(MESSAGES) for _ in range(24)))

        answers = asyncio.run(go())
    assert [a.text for a in answers] == ["ok"] * 24
    assert len(server.requests) == 24
    assert server.max_in_flight <= 4
    assert server.max_in_flight >= 2  # the requests did overlap


# ---------------------------------------------------------------------------------------------
# The key stays secret


def test_api_key_never_appears_in_errors_logs_or_repr(server, caplog):
    caplog.set_level(logging.DEBUG)
    echo = f'{{"error": {{"message": "Incorrect API key provided: {FAKE_KEY}"}}}}'
    server.script(Status(503, body=echo), Reset(), Status(401, body=echo))
    config = make_config(server)

    async def go():
        async with ProverClient(config, FAKE_KEY) as client:
            assert FAKE_KEY not in repr(client)
            with pytest.raises(ProverHTTPError) as info:
                await client.complete(MESSAGES)
            return info.value

    error = asyncio.run(go())
    assert FAKE_KEY not in str(error) and FAKE_KEY not in repr(error)
    assert "AIMLAPI_KEY" in str(error)
    server.script(*[Status(500, body=echo)] * 4)
    answer = complete(config, FAKE_KEY)
    assert answer.error and FAKE_KEY not in answer.error
    assert "retry" in caplog.text  # the retries were logged...
    assert FAKE_KEY not in caplog.text  # ...without the key


# ---------------------------------------------------------------------------------------------
# The retry policy alone


POLICY = ProverConfig(max_retries=3, backoff_base_s=1.0, backoff_max_s=5.0, retry_after_max_s=60)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_policy_retries_transient_statuses(status):
    decision = retry_decision(status, {}, None, 1, POLICY, jitter=0.0)
    assert decision == RetryDecision(True, 0.5, f"HTTP {status}; backing off")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 301])
def test_policy_does_not_retry_other_statuses(status):
    assert not retry_decision(status, {}, None, 1, POLICY).retry


def test_policy_backoff_doubles_with_jitter_and_is_capped():
    waits = [retry_decision(503, {}, None, a, POLICY, jitter=0.999).wait_s for a in (1, 2, 3)]
    assert waits == pytest.approx([1.0, 2.0, 4.0], rel=1e-3)
    capped = ProverConfig(max_retries=10, backoff_base_s=1.0, backoff_max_s=5.0)
    assert retry_decision(503, {}, None, 8, capped, jitter=0.999).wait_s == pytest.approx(5.0, 1e-3)
    low = retry_decision(503, {}, None, 3, POLICY, jitter=0.0).wait_s
    assert low == pytest.approx(2.0)  # jitter never goes below half the backoff


def test_policy_gives_up_after_max_retries():
    decision = retry_decision(503, {}, None, 4, POLICY)
    assert not decision.retry and "gave up after 3 retries" in decision.reason


def test_policy_retry_after_beats_backoff_and_is_capped():
    assert retry_decision(429, {"Retry-After": "7"}, None, 1, POLICY).wait_s == 7.0
    assert retry_decision(429, {"retry-after": "3600"}, None, 1, POLICY).wait_s == 60.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    decision = retry_decision(503, {"Retry-After": date}, None, 1, POLICY, now=1_000_000)
    assert decision.wait_s == pytest.approx(30.0)
    garbage = retry_decision(429, {"Retry-After": "soon"}, None, 1, POLICY, jitter=0.0)
    assert garbage.wait_s == 0.5


def test_policy_retries_transport_errors_only():
    request = httpx.Request("POST", "http://x/chat/completions")
    for exc in (
        httpx.ReadTimeout("slow", request=request),
        httpx.ConnectError("refused", request=request),
        httpx.RemoteProtocolError("closed", request=request),
    ):
        assert retry_decision(None, None, exc, 1, POLICY).retry
    assert not retry_decision(None, None, ValueError("bug"), 1, POLICY).retry
    assert "read timeout" in retry_decision(None, None, httpx.ReadTimeout("x"), 1, POLICY).reason


# ---------------------------------------------------------------------------------------------
# Keys


def test_require_api_key(monkeypatch):
    monkeypatch.delenv("AIMLAPI_KEY", raising=False)
    with pytest.raises(
        PrerequisiteError, match=r"no API key: set AIMLAPI_KEY \(prover.api_key_env\)"
    ):
        require_api_key(Config())
    for url in ("http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://[::1]:30000/v1"):
        assert require_api_key(Config(prover=ProverConfig(base_url=url))) is None
    monkeypatch.setenv("AIMLAPI_KEY", FAKE_KEY)
    assert require_api_key(Config()) == FAKE_KEY
    assert require_api_key(Config().prover) == FAKE_KEY


# ---------------------------------------------------------------------------------------------
# Presets


@pytest.mark.parametrize("name", ["aimlapi", "openrouter", "deepseek", "local-vllm"])
def test_example_presets_are_valid_configs(name):
    from pathlib import Path

    from harness.config import load_config

    config = load_config(Path(__file__).parent.parent / "examples" / f"{name}.yaml")
    assert config.prover.base_url.endswith("/v1")
    assert config.prover.max_tokens > 0


def test_client_must_be_opened_and_cannot_be_reopened(server):
    client = ProverClient(make_config(server), None)
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(client.complete(MESSAGES))

    async def twice():
        async with client:
            pass
        async with client:
            pass

    with pytest.raises(RuntimeError, match="cannot be reopened"):
        asyncio.run(twice())


# ---------------------------------------------------------------------------------------------
# HTTP: httpx's own transport, or one a caller injects


def test_an_environment_proxy_is_honoured(server, monkeypatch):
    """The request goes through the proxy named in the environment (here: the double itself,
    which answers the absolute-form request a proxy receives)."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url.rsplit("/v1", 1)[0])
    server.script(Reply("```lean4\nby simp\n```"))
    answer = complete(make_config(server, base_url="http://prover.invalid/v1"))
    assert answer.error is None and "by simp" in answer.text
    assert len(server.requests) == 1


def test_an_injected_transport_gets_the_requests():
    seen: list[httpx.Request] = []
    body = {"choices": [{"message": {"content": "by decide"}, "finish_reason": "stop"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    config = ProverConfig(base_url="http://prover.invalid/v1", max_retries=0)

    async def go():
        async with ProverClient(config, FAKE_KEY, transport=httpx.MockTransport(handler)) as c:
            return await c.complete(MESSAGES)

    answer = asyncio.run(go())
    assert answer.text == "by decide" and answer.error is None
    assert [str(r.url) for r in seen] == ["http://prover.invalid/v1/chat/completions"]
    assert seen[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert json.loads(seen[0].content)["messages"] == MESSAGES


def test_a_cookie_the_server_sets_goes_back_with_the_next_request(server):
    body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}}]})
    server.script(Raw(body, headers={"Set-Cookie": "lb=node-7; Path=/"}), Raw(body), Raw(body))

    async def go():
        async with ProverClient(make_config(server), None) as client:
            for _ in range(3):
                await client.complete(MESSAGES)

    asyncio.run(go())
    assert "cookie" not in server.headers[0]
    assert server.headers[1]["cookie"] == "lb=node-7"
    assert server.headers[2]["cookie"] == "lb=node-7"


# ---------------------------------------------------------------------------------------------
# Failing fast: the probe before a run, the circuit breaker during one


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_probe_of_a_dead_endpoint_fails_in_seconds_naming_the_url():
    from harness.client import EndpointUnreachable

    url = _closed_port_url()

    async def go():
        async with ProverClient(ProverConfig(base_url=url), None) as client:
            await client.probe()

    started = time.monotonic()
    with pytest.raises(EndpointUnreachable) as info:
        asyncio.run(go())
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert url in message and "\n" not in message and "ConnectError" in message


def test_probe_of_a_live_endpoint_without_a_models_route_passes(server):
    async def go():
        async with ProverClient(make_config(server), None) as client:
            await client.probe()  # the double answers GET with 501: reachable all the same

    asyncio.run(go())
    assert server.requests == []  # no chat request was spent


def test_probe_of_an_endpoint_refusing_the_key_raises_naming_the_key_variable():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "bad key"}})

    config = ProverConfig(base_url="http://prover.invalid/v1")

    async def go():
        async with ProverClient(config, FAKE_KEY, transport=httpx.MockTransport(handler)) as c:
            await c.probe()

    with pytest.raises(ProverHTTPError, match=config.api_key_env):
        asyncio.run(go())


def test_circuit_breaker_trips_after_consecutive_connection_failures(monkeypatch):
    from harness.client import EndpointUnreachable

    monkeypatch.setattr(ProverClient, "BREAKER_FAILURES", 5)
    tries: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tries.append(1)
        raise httpx.ConnectError("connection refused", request=request)

    config = ProverConfig(
        base_url="http://prover.invalid/v1",
        max_retries=100,
        backoff_base_s=5.0,  # long backoffs: the trip must cut them short
        backoff_max_s=5.0,
        concurrency=2,
    )

    async def go():
        async with ProverClient(config, None, transport=httpx.MockTransport(handler)) as c:
            return await asyncio.gather(
                *(c.complete(MESSAGES) for _ in range(4)), return_exceptions=True
            )

    started = time.monotonic()
    results = asyncio.run(go())
    assert time.monotonic() - started < 10
    assert all(isinstance(r, EndpointUnreachable) for r in results)
    assert len(tries) == 5
    assert "prover.invalid" in str(results[0]) and "5 tries in a row" in str(results[0])


def test_circuit_breaker_is_reset_by_any_answer_from_the_server(monkeypatch):
    monkeypatch.setattr(ProverClient, "BREAKER_FAILURES", 3)
    body = {"choices": [{"message": {"content": "by decide"}, "finish_reason": "stop"}]}
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) % 3 == 0:
            return httpx.Response(200, json=body)
        raise httpx.ConnectError("connection refused", request=request)

    config = ProverConfig(base_url="http://prover.invalid/v1", max_retries=5, backoff_base_s=0.001)

    async def go():
        async with ProverClient(config, None, transport=httpx.MockTransport(handler)) as c:
            return [await c.complete(MESSAGES) for _ in range(3)]

    answers = asyncio.run(go())
    assert [a.text for a in answers] == ["by decide"] * 3
