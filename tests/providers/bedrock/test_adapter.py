"""The Bedrock adapter over real HTTP to the fake upstream: the exact request
it sends (signed), and the exact neutral result it returns."""

import asyncio
import itertools
import json

import pytest
from llm_gateway.core import errors as e
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest
from llm_gateway.core.events import (
    StreamDone,
    StreamStart,
    TextDelta,
    ToolCallEnd,
    UsageUpdate,
)
from llm_gateway.core.models import Modality
from llm_gateway.core.tokens import CountMethod, TokenCount
from llm_gateway.core.types import (
    ChatRequest,
    FinishReason,
    FunctionTool,
    ImagePart,
    JsonSchemaFormat,
    Message,
    ReasoningConfig,
    Role,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from llm_gateway.providers.base import ProviderBase

from tests.fixtures import bedrock as fx
from tests.support.fake_upstream import FakeUpstream, Gate, RecordedRequest, Reply, Stream
from tests.support.providers import assert_cancel_closes_upstream, ctx, make_provider

KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0"
CONVERSE = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
STREAM = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream"
REQUEST_ID = fx.STREAM_HEADERS["x-amzn-requestid"]


def bedrock(upstream: FakeUpstream, **settings: object) -> ProviderBase:
    base: dict[str, object] = {"region": "us-east-1", "control_base_url": upstream.url,
                               "access_key_id": KEY_ID, "secret_access_key": SECRET}
    return make_provider("bedrock", upstream, **{**base, **settings})


def hello() -> ChatRequest:
    return ChatRequest("bedrock/claude", (Message(Role.USER, (TextPart("Hello"),)),))


def assert_signed(sent: RecordedRequest) -> None:
    url = f"http://{sent.headers['host']}{sent.target}"
    assert sent.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/bedrock/aws4_request, SignedHeaders=" in sent.headers["authorization"]
    assert fx.verify_sigv4(sent.method, url, sent.headers, sent.body, SECRET)


async def collect(provider: ProviderBase, request: ChatRequest | None = None) -> list:
    return [ev async for ev in provider.stream(request or hello(), ctx(CLAUDE))]


# --- chat ---------------------------------------------------------------------------


async def test_chat_request_and_result(upstream: FakeUpstream) -> None:
    upstream.on("POST", CONVERSE, Reply(json=fx.CONVERSE_TEXT,
                                        headers={"x-amzn-requestid": "rid-1"}))
    provider = bedrock(upstream)
    response = await provider.chat(hello(), ctx(CLAUDE))
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path) == ("POST", CONVERSE)
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {"messages": [{"role": "user", "content": [{"text": "Hello"}]}]}
    assert_signed(sent)
    assert response.message.parts == (TextPart("Hello! How can I help you today?"),)
    assert (response.id, response.model, response.upstream_request_id) == (
        "rid-1", CLAUDE, "rid-1")
    assert (response.finish_reason, response.usage) == (FinishReason.STOP, Usage(12, 9))
    await provider.aclose()


async def test_bedrock_api_key_instead_of_sigv4(upstream: FakeUpstream) -> None:
    upstream.on("POST", CONVERSE, Reply(json=fx.CONVERSE_TEXT))
    provider = make_provider("bedrock", upstream, region="us-east-1",
                             bearer_token="bedrock-api-key-abc123")
    await provider.chat(hello(), ctx(CLAUDE))
    sent = upstream.wait_for_exchange().request
    assert sent.headers["authorization"] == "Bearer bedrock-api-key-abc123"
    assert "x-amz-date" not in sent.headers
    assert "bedrock-api-key-abc123" in provider.secrets()
    await provider.aclose()


async def test_tools_image_schema_and_reasoning_round_trip(upstream: FakeUpstream) -> None:
    upstream.on("POST", CONVERSE, Reply(json=fx.CONVERSE_TOOLS))
    provider = bedrock(upstream)
    first = ChatRequest(
        "bedrock/claude",
        (Message(Role.USER, (TextPart("Weather and time in this city?"),
                             ImagePart("image/webp", data=b"RIFF"))),),
        tools=(FunctionTool("get_weather", "Weather", {"type": "object"}),
               FunctionTool("get_time")),
        reasoning=ReasoningConfig(budget_tokens=1024))
    response = await provider.chat(first, ctx(CLAUDE))
    assert [type(p).__name__ for p in response.message.parts] == [
        "ReasoningPart", "ReasoningPart", "TextPart", "ToolCallPart", "ToolCallPart"]
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.usage == Usage(2078, 80, cached_input_tokens=2000, cache_write_tokens=48)
    sent = upstream.wait_for_exchange().request.json()
    assert sent["messages"][0]["content"][1] == {
        "image": {"format": "webp", "source": {"bytes": "UklGRg=="}}}
    assert sent["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert [t["toolSpec"]["name"] for t in sent["toolConfig"]["tools"]] == [
        "get_weather", "get_time"]
    # The next turn: the assistant message goes back unchanged (signature and
    # redacted thinking included), with both tool results and a JSON schema.
    upstream.on("POST", CONVERSE, Reply(json=fx.converse("end_turn")))
    second = ChatRequest(
        "bedrock/claude", (*first.messages, response.message, Message(Role.TOOL, (
            ToolResultPart("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", (TextPart("18C"),)),
            ToolResultPart("tooluse_9nQ3l8xYTbOe8mKj0a1b2c", (TextPart("noon"),))))),
        tools=first.tools, reasoning=first.reasoning,
        response_format=JsonSchemaFormat({"type": "object"}, name="report"))
    await provider.chat(second, ctx(CLAUDE))
    sent = upstream.wait_for_exchange(2).request.json()
    assert sent["messages"][1] == {"role": "assistant",
                                   "content": fx.CONVERSE_TOOLS["output"]["message"]["content"]}
    assert sent["messages"][2] == {"role": "user", "content": [
        {"toolResult": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q",
                        "content": [{"text": "18C"}]}},
        {"toolResult": {"toolUseId": "tooluse_9nQ3l8xYTbOe8mKj0a1b2c",
                        "content": [{"text": "noon"}]}}]}
    assert sent["outputConfig"] == {"textFormat": {"type": "json_schema", "structure": {
        "jsonSchema": {"schema": '{"type":"object"}', "name": "report"}}}}
    await provider.aclose()


# --- streaming ------------------------------------------------------------------------------


async def test_stream_request_and_events(upstream: FakeUpstream) -> None:
    upstream.on("POST", STREAM, Stream(fx.events(*fx.STREAM_TOOLS), headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    events = await collect(provider)
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path) == ("POST", STREAM)
    assert sent.json() == {"messages": [{"role": "user", "content": [{"text": "Hello"}]}]}
    assert_signed(sent)
    assert events[0] == StreamStart(REQUEST_ID, CLAUDE, REQUEST_ID)
    usage = Usage(2078, 80, cached_input_tokens=2000, cache_write_tokens=48)
    # The usage arrives after messageStop and is in StreamDone.
    assert events[-2:] == [UsageUpdate(usage),
                           StreamDone(FinishReason.TOOL_CALLS, "tool_use", usage=usage)]
    rebuilt = accumulate(events)
    assert rebuilt.message.parts[3] == ToolCallPart(
        "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather", '{"city": "Paris"}')
    assert [ev.index for ev in events if isinstance(ev, ToolCallEnd)] == [3, 4]
    await provider.aclose()


async def test_frames_split_across_writes(upstream: FakeUpstream) -> None:
    body = b"".join(fx.events(*fx.STREAM_TEXT))
    # Cuts inside a prelude, inside headers, inside a payload and at a CRC.
    cuts = [0, 3, 11, 40, 97, len(body) - 2, len(body)]
    upstream.on("POST", STREAM, Stream([body[a:b] for a, b in itertools.pairwise(cuts)],
                                       headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    events = await collect(provider)
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == ["Hello", " there"]
    assert events[-1] == StreamDone(FinishReason.STOP, "end_turn", usage=Usage(9, 12))
    await provider.aclose()


@pytest.mark.parametrize("stop_reason, finish", [
    ("end_turn", FinishReason.STOP), ("stop_sequence", FinishReason.STOP),
    ("tool_use", FinishReason.TOOL_CALLS), ("max_tokens", FinishReason.LENGTH),
    ("guardrail_intervened", FinishReason.CONTENT_FILTER),
    ("content_filtered", FinishReason.CONTENT_FILTER),
    ("malformed_model_output", FinishReason.OTHER),
    ("malformed_tool_use", FinishReason.MALFORMED_TOOL_CALL),
    ("model_context_window_exceeded", FinishReason.CONTEXT_LENGTH),
])
async def test_every_stop_reason_in_a_stream(upstream: FakeUpstream, stop_reason: str,
                                             finish: FinishReason) -> None:
    items = [*fx.STREAM_TEXT[:4], ("messageStop", {"stopReason": stop_reason}),
             fx.STREAM_TEXT[5]]
    upstream.on("POST", STREAM, Stream(fx.events(*items), headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    done = (await collect(provider))[-1]
    assert (done.finish_reason, done.provider_finish_reason) == (finish, stop_reason)
    await provider.aclose()


async def test_events_are_forwarded_before_the_upstream_finishes(upstream: FakeUpstream) -> None:
    gate = Gate()
    frames = fx.events(*fx.STREAM_TEXT)
    upstream.on("POST", STREAM, Stream([*frames[:2], gate, *frames[2:]],
                                       headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    stream = provider.stream(hello(), ctx(CLAUDE))
    assert isinstance(await stream.__anext__(), StreamStart)
    assert await stream.__anext__() == TextDelta(0, "Hello")  # while the upstream is held
    assert not upstream.wait_for_exchange().finished.is_set()
    gate.open()
    rest = [ev async for ev in stream]
    assert isinstance(rest[-1], StreamDone)
    await provider.aclose()


async def test_cancelling_a_stream_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", STREAM, Stream(fx.events(*fx.STREAM_TEXT[:2]), hold_open=True,
                                       headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    await assert_cancel_closes_upstream(upstream, provider.stream(hello(), ctx(CLAUDE)))
    await provider.aclose()


@pytest.mark.parametrize("frame, error, status", [
    (fx.exception("throttlingException", fx.ERROR_THROTTLED), e.UpstreamRateLimited, "429"),
    (fx.exception("serviceUnavailableException", fx.ERROR_UNAVAILABLE),
     e.UpstreamUnavailable, "503"),
    (fx.exception("modelStreamErrorException", fx.ERROR_MODEL), e.UpstreamUnavailable, "424"),
    (fx.exception("internalServerException", {"message": "boom"}), e.UpstreamFailure, "500"),
    (fx.exception("validationException", fx.ERROR_TOO_LONG), e.ContextLengthExceeded, "400"),
    (fx.error_frame("InternalFailure", "service error"), e.UpstreamFailure, "500"),
])
async def test_in_stream_exceptions(upstream: FakeUpstream, frame: bytes, error: type,
                                    status: str) -> None:
    upstream.on("POST", STREAM, Stream([*fx.events(*fx.STREAM_TEXT[:2]), frame],
                                       headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    seen = []
    with pytest.raises(error) as exc:
        async for ev in provider.stream(hello(), ctx(CLAUDE)):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "TextDelta"]
    assert exc.value.metadata["upstream_status"] == status
    assert exc.value.metadata["upstream_request_id"] == REQUEST_ID
    assert type(exc.value) is error
    await provider.aclose()


async def test_model_stream_error_keeps_the_model_message(upstream: FakeUpstream) -> None:
    upstream.on("POST", STREAM, Stream(
        [fx.exception("modelStreamErrorException", fx.ERROR_MODEL)], headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    with pytest.raises(e.UpstreamUnavailable) as exc:
        await collect(provider)
    assert exc.value.message == ("bedrock: Received error from the model. (model: 500 model "
                                 "crashed) (modelStreamErrorException)")
    await provider.aclose()


def corrupt(frame: bytes) -> bytes:
    bad = bytearray(frame)
    bad[-6] ^= 0xFF  # inside the payload: the message CRC no longer matches
    return bytes(bad)


@pytest.mark.parametrize("chunks, match", [
    ([*fx.events(*fx.STREAM_TEXT[:2]), corrupt(fx.event("messageStop",
                                                         {"stopReason": "end_turn"}))],
     "corrupt frame"),
    (fx.events(*fx.STREAM_TEXT[:3]), "before messageStop"),
    ([*fx.events(*fx.STREAM_TEXT[:2]), fx.events(*fx.STREAM_TEXT[2:3])[0][:-5]],
     "ended inside a frame"),
    ([fx.frame({":message-type": "event", ":event-type": "messageStart"}, b"{not json")],
     "malformed JSON"),
])
async def test_broken_streams(upstream: FakeUpstream, chunks: list, match: str) -> None:
    upstream.on("POST", STREAM, Stream(chunks, headers=fx.STREAM_HEADERS))
    provider = bedrock(upstream)
    with pytest.raises(e.UpstreamProtocolError, match=match):
        await collect(provider)
    await provider.aclose()


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status, kind, body, error", [
    (429, "ThrottlingException", fx.ERROR_THROTTLED, e.UpstreamRateLimited),
    (503, "ServiceUnavailableException", fx.ERROR_UNAVAILABLE, e.UpstreamUnavailable),
    (424, "ModelErrorException", fx.ERROR_MODEL, e.UpstreamUnavailable),
    (429, "ModelNotReadyException", {"message": "not ready"}, e.UpstreamUnavailable),
    (400, "ValidationException", fx.ERROR_TOO_LONG, e.ContextLengthExceeded),
    (400, "ValidationException", {"message": "messages: field required"},
     e.UpstreamInvalidRequest),
    (400, "ServiceQuotaExceededException", {"message": "quota"}, e.UpstreamRateLimited),
    (403, "AccessDeniedException", fx.ERROR_DENIED, e.UpstreamAuthFailed),
    (403, "UnrecognizedClientException", {"message": "The security token included in the "
                                                     "request is invalid."},
     e.UpstreamAuthFailed),
    (404, "ResourceNotFoundException", fx.ERROR_NOT_FOUND, e.UpstreamModelNotFound),
    (408, "ModelTimeoutException", {"message": "timed out"}, e.UpstreamTimeout),
    (500, "InternalServerException", {"message": "internal"}, e.UpstreamFailure),
])
async def test_error_statuses(upstream: FakeUpstream, status: int, kind: str, body: dict,
                              error: type) -> None:
    upstream.on("POST", CONVERSE, Reply(status, json=body, headers=fx.error_headers(kind)))
    upstream.on("POST", STREAM, Reply(status, json=body, headers=fx.error_headers(kind)))
    provider = bedrock(upstream)
    with pytest.raises(error) as exc:
        await provider.chat(hello(), ctx(CLAUDE))
    assert type(exc.value) is error
    assert exc.value.metadata["upstream_status"] == str(status)
    assert exc.value.metadata["upstream_request_id"] == "9a8b7c6d-0000-4e1f-a2b3-c4d5e6f7a8b9"
    assert exc.value.message.endswith(f"({kind})") and SECRET not in exc.value.message
    with pytest.raises(error):  # the same before a stream starts
        await collect(provider)
    await provider.aclose()


async def test_retry_after_is_honoured(upstream: FakeUpstream) -> None:
    upstream.on("POST", CONVERSE, Reply(429, json=fx.ERROR_THROTTLED, headers=fx.error_headers(
        "ThrottlingException", **{"retry-after": "7"})))
    provider = bedrock(upstream)
    with pytest.raises(e.UpstreamRateLimited) as exc:
        await provider.chat(hello(), ctx(CLAUDE))
    assert exc.value.retry_after == 7.0
    await provider.aclose()


async def test_connection_failures(upstream: FakeUpstream) -> None:
    closed = bedrock(upstream, base_url="http://127.0.0.1:9")
    with pytest.raises(e.UpstreamUnreachable):
        await closed.chat(hello(), ctx(CLAUDE))
    await closed.aclose()


# --- embeddings --------------------------------------------------------------------------------


async def test_titan_one_text_per_call_bounded_and_in_order(upstream: FakeUpstream) -> None:
    gates: dict[str, Gate] = {}
    in_flight: list[int] = []

    def handler(request: RecordedRequest) -> Stream:
        text = request.json()["inputText"]
        finished = sum(x.finished.is_set() for x in upstream.exchanges)
        in_flight.append(len(upstream.exchanges) - finished)
        gates[text] = Gate()
        body = json.dumps(fx.titan_v2([float(text[1:]), 0.5], 3)).encode()
        return Stream([gates[text], body], headers={"content-type": "application/json"})

    path = "/model/amazon.titan-embed-text-v2%3A0/invoke"
    upstream.on("POST", path, handler)
    provider = bedrock(upstream, embedding_concurrency=2)
    texts = ("t0", "t1", "t2", "t3", "t4")
    task = asyncio.create_task(provider.embed(
        EmbedRequest("x", texts, dimensions=512, normalize=True),
        ctx("amazon.titan-embed-text-v2:0")))
    for count in range(2, len(texts) + 1):
        exchange = await asyncio.to_thread(upstream.wait_for_exchange, count)
        # Finish the newest call first: completion order differs from input order.
        gates[exchange.request.json()["inputText"]].open()
    for gate in gates.values():
        gate.open()
    response = await task
    assert response.vectors == tuple((float(i), 0.5) for i in range(5))
    assert response.usage == Usage(input_tokens=15)
    assert max(in_flight) == 2
    sent = upstream.requests()
    assert sorted(r.json()["inputText"] for r in sent) == list(texts)
    assert all(r.json() == {"inputText": r.json()["inputText"], "dimensions": 512,
                            "normalize": True} for r in sent)
    assert all(r.headers["accept"] == "application/json" for r in sent)
    assert_signed(sent[0])
    await provider.aclose()


async def test_cohere_96_per_call_in_order(upstream: FakeUpstream) -> None:
    def handler(request: RecordedRequest) -> Reply:
        texts = request.json()["texts"]
        vectors = [[float(t[1:])] for t in texts]
        return Reply(json=fx.cohere_by_type(vectors, texts),
                     headers={"x-amzn-bedrock-input-token-count": str(len(texts))})

    upstream.on("POST", "/model/cohere.embed-english-v3/invoke", handler)
    provider = bedrock(upstream)
    texts = tuple(f"t{i}" for i in range(200))
    response = await provider.embed(EmbedRequest("x", texts, task=EmbeddingTask.CLUSTERING),
                                    ctx("cohere.embed-english-v3"))
    assert response.vectors == tuple((float(i),) for i in range(200))
    assert response.usage == Usage(input_tokens=200)
    bodies = sorted((r.json() for r in upstream.requests()), key=lambda b: int(b["texts"][0][1:]))
    assert [len(b["texts"]) for b in bodies] == [96, 96, 8]
    assert bodies[2] == {"texts": [f"t{i}" for i in range(192, 200)],
                         "input_type": "clustering", "embedding_types": ["float"]}
    await provider.aclose()


async def test_a_failed_embedding_call_fails_the_request(upstream: FakeUpstream) -> None:
    def handler(request: RecordedRequest) -> Reply:
        if request.json()["inputText"] == "bad":
            return Reply(429, json=fx.ERROR_THROTTLED,
                         headers=fx.error_headers("ThrottlingException"))
        return Reply(json=fx.titan_v2([1.0], 1))

    upstream.on("POST", "/model/amazon.titan-embed-text-v2%3A0/invoke", handler)
    provider = bedrock(upstream)
    with pytest.raises(e.UpstreamRateLimited):
        await provider.embed(EmbedRequest("x", ("ok", "bad", "ok")),
                             ctx("amazon.titan-embed-text-v2:0"))
    await provider.aclose()


# --- tokens, models, health ----------------------------------------------------------------------


async def test_count_tokens(upstream: FakeUpstream) -> None:
    path = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/count-tokens"
    upstream.on("POST", path, Reply(json=fx.COUNT_TOKENS))
    provider = bedrock(upstream)
    count = await provider.count_tokens(hello(), ctx(CLAUDE))
    assert count == TokenCount(42, CountMethod.PROVIDER_ENDPOINT, "Bedrock Runtime CountTokens",
                               model=CLAUDE)
    sent = upstream.wait_for_exchange().request
    assert sent.json() == {"input": {"converse": {
        "messages": [{"role": "user", "content": [{"text": "Hello"}]}]}}}
    assert_signed(sent)
    await provider.aclose()


async def test_model_discovery_and_health(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/foundation-models", Reply(json=fx.FOUNDATION_MODELS))
    provider = bedrock(upstream, base_url="http://127.0.0.1:9", discover_models=True)
    await provider.refresh_models()
    assert_signed(upstream.wait_for_exchange().request)  # the control plane, signed too
    models = {m.id: m for m in provider.listed_models()}
    assert set(models) == {"anthropic.claude-3-5-haiku-20241022-v1:0",
                           "amazon.titan-embed-text-v2:0", "meta.llama3-8b-instruct-v1:0"}
    claude = models["anthropic.claude-3-5-haiku-20241022-v1:0"]
    assert claude.display_name == "Claude 3.5 Haiku"
    assert claude.input_modalities == (Modality.TEXT, Modality.IMAGE)
    assert claude.capabilities.streaming and claude.capabilities.vision
    assert claude.capabilities.tools and claude.capabilities.reasoning
    assert claude.extra == {"provider_name": "Anthropic", "inference_types": "ON_DEMAND"}
    titan = models["amazon.titan-embed-text-v2:0"]
    assert titan.capabilities.embeddings and not titan.capabilities.chat
    assert titan.output_modalities == (Modality.EMBEDDING,)
    llama = models["meta.llama3-8b-instruct-v1:0"]
    assert not llama.capabilities.streaming and not llama.capabilities.vision
    assert llama.input_modalities == (Modality.TEXT,)
    assert (await provider.check_health()).ok
    upstream.on("GET", "/foundation-models",
                Reply(403, json=fx.ERROR_DENIED, headers=fx.error_headers("AccessDeniedException")))
    report = await provider.check_health()
    assert not report.ok and "access" in report.detail
    await provider.aclose()
