"""What crosses from the caller to the upstream through the real gateway
process: cancellation, deadlines, streaming without buffering, and errors
(with secrets kept out of messages and logs)."""

from __future__ import annotations

import grpc
import pytest
from llmgateway.v1 import chat_pb2, chat_pb2_grpc

from tests.fixtures import openai as fx
from tests.support.client_env import UPSTREAM_KEY
from tests.support.fake_upstream import FakeUpstream, Gate, Reply, Stream, sse
from tests.support.gateway_process import GatewayProcess
from tests.support.grpc_helpers import chat_input, rich_error

PATH = "/v1/chat/completions"


def stub(gateway: GatewayProcess) -> tuple[grpc.Channel, chat_pb2_grpc.ChatServiceStub]:
    channel = gateway.channel()
    return channel, chat_pb2_grpc.ChatServiceStub(channel)


def test_cancelled_stream_closes_the_upstream_request(gateway: GatewayProcess,
                                                      upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Stream(sse(*fx.STREAM_TEXT[:2]), hold_open=True))
    channel, chat = stub(gateway)
    with channel:
        call = chat.StreamChat(chat_pb2.StreamChatRequest(input=chat_input("smart")), timeout=30)
        assert next(call).WhichOneof("event") == "start"
        exchange = upstream.wait_for_exchange()
        assert exchange.request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
        assert not exchange.closed.is_set()
        call.cancel()
        assert exchange.closed.wait(5), "the upstream request stayed open after cancel"


def test_deadline_closes_the_upstream_request(gateway: GatewayProcess,
                                              upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Stream([], hold_open=True))  # headers, then nothing
    channel, chat = stub(gateway)
    with channel, pytest.raises(grpc.RpcError) as exc:
        chat.Chat(chat_pb2.ChatRequest(input=chat_input("smart")), timeout=0.5)
    assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert upstream.wait_for_exchange().closed.wait(5)


def test_stream_events_arrive_before_the_upstream_finishes(gateway: GatewayProcess,
                                                           upstream: FakeUpstream) -> None:
    gate = Gate()
    frames = sse(*fx.STREAM_TEXT)
    upstream.on("POST", PATH, Stream([*frames[:2], gate, *frames[2:]]))
    channel, chat = stub(gateway)
    with channel:
        call = chat.StreamChat(chat_pb2.StreamChatRequest(input=chat_input("smart")), timeout=30)
        kinds = [next(call).WhichOneof("event"), next(call).WhichOneof("event")]
        assert kinds == ["start", "text_delta"]
        assert not upstream.wait_for_exchange().finished.is_set()
        gate.open()
        rest = [e.WhichOneof("event") for e in call]
    assert rest[-1] == "done" and rest.count("done") == 1


def test_upstream_rate_limit_becomes_resource_exhausted(gateway: GatewayProcess,
                                                        upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Reply(429, json=fx.ERROR_RATE_LIMIT,
                                    headers={"retry-after-ms": "2500", "x-request-id": "req_42"}))
    channel, chat = stub(gateway)
    with channel, pytest.raises(grpc.RpcError) as exc:
        chat.Chat(chat_pb2.ChatRequest(input=chat_input("smart")), timeout=10)
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "UPSTREAM_RATE_LIMITED")
    assert err.retry_delay == 2.5
    assert err.metadata == {"provider": "fake", "model": "gpt-4.1-mini",
                            "upstream_status": "429", "upstream_request_id": "req_42"}


def test_upstream_out_of_quota_is_failed_precondition_without_retry(
        gateway: GatewayProcess, upstream: FakeUpstream) -> None:
    """OpenAI's 429 `insufficient_quota` is billing, not a rate limit:
    retrying would not help, so no RetryInfo."""
    upstream.on("POST", PATH, Reply(429, json=fx.ERROR_QUOTA))
    channel, chat = stub(gateway)
    with channel, pytest.raises(grpc.RpcError) as exc:
        chat.Chat(chat_pb2.ChatRequest(input=chat_input("smart")), timeout=10)
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "UPSTREAM_BILLING")
    assert err.retry_delay is None
    assert "check your plan and billing details" in err.message


def test_failure_mid_stream_ends_with_status_after_events(gateway: GatewayProcess,
                                                          upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Stream(sse(fx.chunk({"content": "partial"}), {
        "error": {"message": "boom", "type": "server_error"}})))
    channel, chat = stub(gateway)
    kinds = []
    with channel, pytest.raises(grpc.RpcError) as exc:
        for event in chat.StreamChat(chat_pb2.StreamChatRequest(input=chat_input("smart")),
                                     timeout=10):
            kinds.append(event.WhichOneof("event"))
    assert kinds == ["start", "text_delta"]
    assert rich_error(exc.value).code == grpc.StatusCode.INTERNAL


def test_secrets_never_reach_callers_or_logs(gateway: GatewayProcess,
                                             upstream: FakeUpstream) -> None:
    # A provider that echoes the key back in its error message.
    upstream.on("POST", PATH, Reply(401, json={"error": {
        "message": f"Incorrect API key provided: {UPSTREAM_KEY}", "code": "invalid_api_key"}}))
    channel, chat = stub(gateway)
    with channel, pytest.raises(grpc.RpcError) as exc:
        chat.Chat(chat_pb2.ChatRequest(input=chat_input("smart")), timeout=10)
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.INTERNAL, "UPSTREAM_AUTH_FAILED")
    assert UPSTREAM_KEY not in err.message and "[REDACTED]" in err.message
    gateway.wait_for_log(lambda e: e.get("reason") == "UPSTREAM_AUTH_FAILED", 10)
    assert UPSTREAM_KEY not in gateway.log_text()
