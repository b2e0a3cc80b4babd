"""The Responses adapter over real HTTP to the fake upstream: the exact request
it sends and the exact neutral result it returns."""

import itertools
from typing import Any

import pytest
from llm_gateway.config.defaults import default_config
from llm_gateway.config.loader import validate
from llm_gateway.core import errors as e
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.events import StreamDone, TextDelta
from llm_gateway.core.tokens import CountMethod, TokenCount
from llm_gateway.core.types import (
    ChatRequest,
    FinishReason,
    FunctionTool,
    GenerationConfig,
    ImagePart,
    JsonSchemaFormat,
    Message,
    ReasoningConfig,
    ReasoningEffort,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from llm_gateway.providers.openai_responses.responses_codec import decode_response

from tests.fixtures import openai_responses as fx
from tests.support.fake_upstream import FakeUpstream, Gate, Raw, Reply, Stream, sse
from tests.support.providers import assert_cancel_closes_upstream, ctx, make_provider

KEY = "sk-test-0123456789abcdef"
P = "openai_responses"
PATH = "/v1/responses"
USAGE = Usage(328, 148, cached_input_tokens=256, reasoning_tokens=64)


def hello() -> ChatRequest:
    return ChatRequest("openai_responses/gpt-5", (Message(Role.USER, (TextPart("Hello"),)),))


def provider_for(upstream: FakeUpstream, **settings: Any) -> Any:
    return make_provider(P, upstream, path="/v1", api_key=KEY, **settings)


def frames(events: list[dict[str, Any]]) -> list[bytes]:
    """SSE as the API sends it: an `event:` line naming each event's type."""
    return sse(*events, event_names=[ev["type"] for ev in events])


async def collect(provider: Any, request: ChatRequest, model: str = "gpt-5") -> list[Any]:
    return [ev async for ev in provider.stream(request, ctx(model))]


async def test_chat_request_and_result(upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Reply(json=fx.RESPONSE_TEXT, headers={"x-request-id": "req_abc"}))
    provider = provider_for(upstream)
    response = await provider.chat(hello(), ctx("gpt-5"))
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path, sent.query) == ("POST", PATH, {})
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {"model": "gpt-5", "store": False, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}]}
    assert response.message == Message(Role.ASSISTANT, (TextPart(fx.TEXT),))
    assert (response.id, response.model, response.upstream_request_id) == (
        fx.RESPONSE_ID, fx.MODEL, "req_abc")
    assert (response.finish_reason, response.provider_finish_reason) == (
        FinishReason.STOP, "completed")
    assert response.usage == USAGE
    await provider.aclose()


async def test_reasoning_and_tool_calls_round_trip_through_a_second_request(
        upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Reply(json=fx.RESPONSE_REASONING_TOOLS))
    provider = provider_for(upstream)
    question = Message(Role.USER, (TextPart("Weather and time in Paris?"),))
    tools = (FunctionTool("get_weather", parameters={"type": "object"}),
             FunctionTool("get_time", parameters={"type": "object"}))
    reasoning = ReasoningConfig(effort=ReasoningEffort.HIGH, include_thoughts=True)
    first = await provider.chat(ChatRequest("x", (question,), tools=tools, reasoning=reasoning),
                                ctx("gpt-5"))
    assert first.finish_reason is FinishReason.TOOL_CALLS
    assert first.message.parts == (
        ReasoningPart("\n\n".join(fx.SUMMARY), fx.ENCRYPTED, id=fx.RS_ID, provider_type=P),
        ToolCallPart("call_12345xyz", "get_weather", '{"location":"Paris, France"}'),
        ToolCallPart("call_67890abc", "get_time", '{"tz":"Europe/Paris"}'),
    )
    results = Message(Role.TOOL, (ToolResultPart("call_12345xyz", (TextPart("18C"),)),
                                  ToolResultPart("call_67890abc", (TextPart("12:00"),))))
    upstream.on("POST", PATH, Reply(json=fx.RESPONSE_TEXT))
    await provider.chat(ChatRequest("x", (question, first.message, results), tools=tools,
                                    reasoning=reasoning), ctx("gpt-5"))
    second = upstream.wait_for_exchange(2).request.json()
    tool_defs = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"},
                  "strict": False},
                 {"type": "function", "name": "get_time", "parameters": {"type": "object"},
                  "strict": False}]
    assert second == {
        "model": "gpt-5",
        "input": [
            {"role": "user", "content": [{"type": "input_text",
                                          "text": "Weather and time in Paris?"}]},
            {"type": "reasoning", "id": fx.RS_ID,
             "summary": [{"type": "summary_text", "text": "\n\n".join(fx.SUMMARY)}],
             "encrypted_content": fx.ENCRYPTED},
            {"type": "function_call", "call_id": "call_12345xyz", "name": "get_weather",
             "arguments": '{"location":"Paris, France"}'},
            {"type": "function_call", "call_id": "call_67890abc", "name": "get_time",
             "arguments": '{"tz":"Europe/Paris"}'},
            {"type": "function_call_output", "call_id": "call_12345xyz", "output": "18C"},
            {"type": "function_call_output", "call_id": "call_67890abc", "output": "12:00"},
        ],
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "tools": tool_defs,
        "reasoning": {"effort": "high", "summary": "auto"},
    }
    await provider.aclose()


async def test_image_input_and_json_schema_output(upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Reply(json=fx.response([fx.message(fx.output_text('{"n":1}'))])))
    provider = provider_for(upstream)
    request = ChatRequest("x", (Message(Role.USER, (
        TextPart("Count the cats."), ImagePart("image/png", data=b"\x89PNG"),
        ImagePart("image/jpeg", uri="https://example.com/cats.jpg"))),),
        response_format=JsonSchemaFormat({"type": "object", "properties": {"n": {
            "type": "integer"}}, "required": ["n"], "additionalProperties": False},
            name="count", strict=True))
    response = await provider.chat(request, ctx("gpt-5"))
    body = upstream.wait_for_exchange().request.json()
    assert body["input"] == [{"role": "user", "content": [
        {"type": "input_text", "text": "Count the cats."},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw==", "detail": "auto"},
        {"type": "input_image", "image_url": "https://example.com/cats.jpg", "detail": "auto"}]}]
    assert body["text"] == {"format": {
        "type": "json_schema", "name": "count", "strict": True,
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}},
                   "required": ["n"], "additionalProperties": False}}}
    assert response.message.parts == (TextPart('{"n":1}'),)
    await provider.aclose()


@pytest.mark.parametrize("body, reason, raw", [
    (fx.RESPONSE_TEXT, FinishReason.STOP, "completed"),
    (fx.RESPONSE_REASONING_TOOLS, FinishReason.TOOL_CALLS, "completed"),
    (fx.RESPONSE_REFUSAL, FinishReason.REFUSAL, "completed"),
    (fx.response_incomplete("max_output_tokens"), FinishReason.LENGTH, "max_output_tokens"),
    (fx.response_incomplete("content_filter"), FinishReason.CONTENT_FILTER, "content_filter"),
])
async def test_every_finish_reason(upstream: FakeUpstream, body: dict, reason: FinishReason,
                                   raw: str) -> None:
    upstream.on("POST", PATH, Reply(json=body))
    provider = provider_for(upstream)
    response = await provider.chat(hello(), ctx("gpt-5"))
    assert (response.finish_reason, response.provider_finish_reason) == (reason, raw)
    await provider.aclose()


async def test_a_failed_response_is_an_error(upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Reply(json=fx.RESPONSE_FAILED, headers={"x-request-id": "req_f"}))
    provider = provider_for(upstream)
    with pytest.raises(e.UpstreamFailure) as exc:
        await provider.chat(hello(), ctx("gpt-5"))
    assert exc.value.message == (
        "openai_responses: The model failed to generate a response. (server_error)")
    assert exc.value.metadata["upstream_request_id"] == "req_f"
    await provider.aclose()


async def test_stream_with_event_lines_equals_the_unary_response(upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Stream(frames(fx.STREAM_REASONING_TOOLS),
                                     headers={"content-type": "text/event-stream",
                                              "x-request-id": "req_s"}))
    provider = provider_for(upstream)
    events = await collect(provider, hello())
    body = upstream.wait_for_exchange().request.json()
    assert body["stream"] is True and body["store"] is False
    rebuilt = accumulate(events)
    expected = decode_response(fx.RESPONSE_REASONING_TOOLS, "req_s")
    assert rebuilt.message == expected.message
    assert (rebuilt.id, rebuilt.upstream_request_id) == (fx.RESPONSE_ID, "req_s")
    assert (rebuilt.finish_reason, rebuilt.usage) == (FinishReason.TOOL_CALLS, USAGE)
    assert [type(ev).__name__ for ev in events].count("ToolCallDelta") == 3
    await provider.aclose()


async def test_sse_framing_edge_cases_over_the_wire(upstream: FakeUpstream) -> None:
    # Events split across TCP writes (one between \r and \n), CRLF line ends,
    # comment lines and `event:` lines.
    data = b"".join(frames(fx.STREAM_TEXT)).replace(b"\n", b"\r\n")
    boundary = data.index(b"\r\n\r\n") + 4  # after the first event
    data = b": keep-alive\r\n\r\n" + data[:boundary] + b": ping\r\n" + data[boundary:]
    cut = data.index(b"\r\n", 500) + 1
    cuts = [0, 9, 40, 41, cut, len(data)]
    upstream.on("POST", PATH, Stream([data[a:b] for a, b in itertools.pairwise(cuts)]))
    provider = provider_for(upstream)
    events = await collect(provider, hello())
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == [
        "On a peaceful", " moonlit night"]
    assert events[-1] == StreamDone(FinishReason.STOP, "completed", usage=USAGE)
    await provider.aclose()


async def test_events_are_forwarded_before_the_upstream_finishes(upstream: FakeUpstream) -> None:
    gate = Gate()
    sent = frames(fx.STREAM_TEXT)
    # created, in_progress, item added, part added, first delta | gate | the rest
    upstream.on("POST", PATH, Stream([*sent[:5], gate, *sent[5:]]))
    provider = provider_for(upstream)
    stream = provider.stream(hello(), ctx("gpt-5"))
    await stream.__anext__()  # start
    assert await stream.__anext__() == TextDelta(0, "On a peaceful")
    assert not upstream.wait_for_exchange().finished.is_set()
    gate.open()
    rest = [ev async for ev in stream]
    assert isinstance(rest[-1], StreamDone)
    await provider.aclose()


async def test_cancelling_a_stream_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Stream(frames(fx.STREAM_TEXT[:5]), hold_open=True))
    provider = provider_for(upstream)

    await assert_cancel_closes_upstream(upstream, provider.stream(hello(), ctx("gpt-5")))
    await provider.aclose()


@pytest.mark.parametrize("events, error, message, seen", [
    (fx.STREAM_FAILED, e.UpstreamFailure,
     "openai_responses: The model failed to generate a response. (server_error)",
     ["StreamStart", "TextDelta"]),
    ([fx.CREATED, fx.ERROR_EVENT], e.UpstreamRateLimited,
     f"openai_responses: {fx.ERROR_EVENT['message']} (rate_limit_exceeded)", ["StreamStart"]),
    ([fx.ERROR_EVENT], e.UpstreamRateLimited,
     f"openai_responses: {fx.ERROR_EVENT['message']} (rate_limit_exceeded)", []),
    ([fx.CREATED, fx.QUOTA_EVENT], e.UpstreamBillingFailed,
     f"openai_responses: {fx.QUOTA_EVENT['message']} (insufficient_quota)", ["StreamStart"]),
])
async def test_in_stream_errors(upstream: FakeUpstream, events: list, error: type,
                                message: str, seen: list[str]) -> None:
    upstream.on("POST", PATH, Stream(frames(events), headers={
        "content-type": "text/event-stream", "x-request-id": "req_e"}))
    provider = provider_for(upstream)
    got = []
    with pytest.raises(error) as exc:
        async for ev in provider.stream(hello(), ctx("gpt-5")):
            got.append(type(ev).__name__)
    assert got == seen
    assert exc.value.message == message
    assert exc.value.metadata["upstream_request_id"] == "req_e"
    await provider.aclose()


@pytest.mark.parametrize("chunks", [
    frames(fx.STREAM_TEXT[:-1]),  # no terminal event
    frames(fx.STREAM_TEXT[:3]),
    [b"event: response.created\ndata: {not json\n\n"],
    [b"data: [1, 2]\n\n"],
])
async def test_truncated_or_malformed_streams(upstream: FakeUpstream, chunks: list) -> None:
    upstream.on("POST", PATH, Stream(chunks))
    provider = provider_for(upstream)
    with pytest.raises(e.UpstreamProtocolError):
        await collect(provider, hello())
    await provider.aclose()


@pytest.mark.parametrize("status, body, headers, error, retry", [
    (429, fx.ERROR_RATE_LIMIT, {"retry-after-ms": "1500", "x-request-id": "req_r"},
     e.UpstreamRateLimited, 1.5),
    (429, fx.ERROR_RATE_LIMIT, {"retry-after": "3"}, e.UpstreamRateLimited, 3.0),
    (400, fx.ERROR_CONTEXT, {}, e.ContextLengthExceeded, None),
    (401, fx.ERROR_BAD_KEY, {}, e.UpstreamAuthFailed, None),
    (503, fx.ERROR_OVERLOADED, {}, e.UpstreamUnavailable, 1.0),
    (500, fx.ERROR_OVERLOADED, {}, e.UpstreamFailure, None),
    (504, b"<html>gateway timeout</html>", {}, e.UpstreamTimeout, None),
])
async def test_error_statuses(upstream: FakeUpstream, status: int, body: object,
                              headers: dict, error: type, retry: float | None) -> None:
    reply = (Reply(status, body=body, headers={"content-type": "text/html", **headers})
             if isinstance(body, bytes) else Reply(status, json=body, headers=headers))
    upstream.on("POST", PATH, reply)
    provider = provider_for(upstream)
    with pytest.raises(error) as exc:
        await provider.chat(hello(), ctx("gpt-5"))
    assert exc.value.retry_after == retry
    assert exc.value.metadata["upstream_status"] == str(status)
    assert exc.value.metadata["provider"] == P
    assert KEY not in exc.value.message
    if "x-request-id" in headers:
        assert exc.value.metadata["upstream_request_id"] == headers["x-request-id"]
    # The same mapping applies before a stream starts.
    with pytest.raises(error):
        await collect(provider, hello())
    await provider.aclose()


async def test_non_response_bodies_are_protocol_errors(upstream: FakeUpstream) -> None:
    provider = provider_for(upstream)
    for body in ([1, 2], {"id": "resp_1", "object": "response", "status": "completed"}):
        upstream.on("POST", PATH, Reply(json=body))
        with pytest.raises(e.UpstreamProtocolError):
            await provider.chat(hello(), ctx("gpt-5"))
    upstream.on("POST", PATH, Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"))
    with pytest.raises(e.UpstreamFailure):
        await provider.chat(hello(), ctx("gpt-5"))
    await provider.aclose()


async def test_provider_options_by_type_then_name(upstream: FakeUpstream) -> None:
    upstream.on("POST", PATH, Reply(json=fx.RESPONSE_TEXT))
    provider = provider_for(upstream, name="primary")
    request = ChatRequest("x", hello().messages, provider_options={
        P: {"service_tier": "flex", "truncation": "auto"}, "primary": {"service_tier": "priority"},
        "openai": {"max_completion_tokens": 5}})
    await provider.chat(request, ctx("gpt-5"))
    body = upstream.wait_for_exchange().request.json()
    assert (body["service_tier"], body["truncation"]) == ("priority", "auto")
    assert "max_completion_tokens" not in body
    await provider.aclose()


async def test_model_discovery_keeps_chat_models(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/v1/models", Reply(json={"object": "list", "data": [
        {"id": "gpt-5", "object": "model", "created": 1, "owned_by": "openai"},
        {"id": "text-embedding-3-small", "object": "model", "created": 1, "owned_by": "system"},
    ]}))
    provider = provider_for(upstream, discover_models=True)
    await provider.refresh_models()
    models = {m.id: m for m in provider.listed_models()}
    assert list(models) == ["gpt-5"]
    caps = models["gpt-5"].capabilities
    assert (caps.chat, caps.streaming, caps.tools, caps.parallel_tool_calls, caps.vision,
            caps.structured_output, caps.reasoning, caps.embeddings) == (
        True, True, True, True, True, True, True, False)
    assert (await provider.check_health()).ok
    assert upstream.requests()[-1].headers["authorization"] == f"Bearer {KEY}"
    await provider.aclose()


async def test_count_tokens(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/responses/input_tokens", Reply(json=fx.INPUT_TOKENS))
    provider = provider_for(upstream)
    weather = FunctionTool("get_weather", "Weather by city",
                           {"type": "object", "properties": {"city": {"type": "string"}}})
    request = ChatRequest(
        "openai_responses/gpt-5", (Message(Role.USER, (TextPart("Hello"),)),),
        system=(TextPart("Be brief."),), tools=(weather,),
        generation=GenerationConfig(max_output_tokens=10, temperature=0.5),
        reasoning=ReasoningConfig(effort=ReasoningEffort.LOW),
        provider_options={"openai_responses": {"truncation": "auto", "prompt_cache_key": "k1"}})
    count = await provider.count_tokens(request, ctx("gpt-5"))
    sent = upstream.wait_for_exchange().request
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    # What reaches the context is counted; sampling, storage and caching keys are not sent.
    assert sent.json() == {
        "model": "gpt-5",
        "instructions": "Be brief.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}],
        "tools": [{"type": "function", "name": "get_weather", "description": "Weather by city",
                   "parameters": weather.parameters, "strict": False}],
        "reasoning": {"effort": "low"},
        "truncation": "auto",
    }
    assert count == TokenCount(11, CountMethod.PROVIDER_ENDPOINT,
                               "openai_responses:/responses/input_tokens", model="gpt-5")
    upstream.on("POST", "/v1/responses/input_tokens", Reply(json={"object": "response"}))
    with pytest.raises(e.UpstreamProtocolError):
        await provider.count_tokens(request, ctx("gpt-5"))
    await provider.aclose()


def test_configuration_and_environment() -> None:
    config = validate({"providers": {"r": {"type": P, "api_key": "sk-1"}}}, "test")
    assert config.providers["r"].base_url == "https://api.openai.com/v1"  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="api_key is required for OpenAI"):
        validate({"providers": {"r": {"type": P}}}, "test")
    # Another server speaking /responses may need no key.
    validate({"providers": {"r": {"type": P, "base_url": "http://localhost:8000/v1"}}}, "test")
    env = {"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "https://proxy.example/v1"}
    providers = default_config(env)["providers"]
    assert providers[P] == {"type": P, "api_key": "sk-env",
                            "base_url": "https://proxy.example/v1"}
    assert providers["openai"]["type"] == "openai"  # the Chat Completions preset stays
    assert P not in default_config({})["providers"]
