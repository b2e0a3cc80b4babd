"""The Anthropic adapter over real HTTP to the fake upstream: the exact
request it sends and the exact neutral result it returns."""

import itertools

import pytest
from llm_gateway.config.defaults import default_config
from llm_gateway.config.loader import ConfigError, load_config, validate
from llm_gateway.core import errors as e
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.events import StreamDone, TextDelta, ToolCallDelta, UsageUpdate
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

from tests.fixtures import anthropic as fx
from tests.support.fake_upstream import FakeUpstream, Gate, Raw, Reply, Stream
from tests.support.providers import assert_cancel_closes_upstream, ctx, make_provider

KEY = "sk-ant-api03-test-0123456789abcdef"
MESSAGES = "/v1/messages"
WEATHER = FunctionTool("get_weather", "Weather by city",
                       {"type": "object", "properties": {"location": {"type": "string"}}})


def hello(**fields: object) -> ChatRequest:
    return ChatRequest("anthropic/" + fx.MODEL, (Message(Role.USER, (TextPart("Hello"),)),),
                       **fields)  # type: ignore[arg-type]


def provider_for(upstream: FakeUpstream, **settings: object):
    return make_provider("anthropic", upstream, api_key=KEY, **settings)


async def collect(provider, request: ChatRequest) -> list:
    return [ev async for ev in provider.stream(request, ctx(fx.MODEL))]


async def test_chat_request_and_result(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_TEXT,
                                        headers={"request-id": "req_018EeWyXxfu5pfWkrYcMdjWG"}))
    provider = provider_for(upstream)
    response = await provider.chat(hello(), ctx(fx.MODEL))
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path, sent.query) == ("POST", MESSAGES, {})
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers and "anthropic-beta" not in sent.headers
    assert sent.json() == {"model": fx.MODEL, "max_tokens": 4096,
                           "messages": [{"role": "user", "content": "Hello"}]}
    assert response.message.parts == (TextPart("Hi! My name is Claude."),)
    assert response.upstream_request_id == "req_018EeWyXxfu5pfWkrYcMdjWG"
    assert response.usage == Usage(3195, 503, cached_input_tokens=1000, cache_write_tokens=100)
    assert (response.finish_reason, response.provider_finish_reason) == (FinishReason.STOP,
                                                                         "end_turn")
    await provider.aclose()


async def test_settings_and_pass_through_options(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_TEXT))
    provider = provider_for(upstream, name="claude", default_max_tokens=1000,
                            beta=["feature-a-2025-01-01", "feature-b"],
                            headers={"x-extra": "1"})
    request = hello(provider_options={"anthropic": {"service_tier": "auto", "top_k": 5},
                                      "claude": {"top_k": 7}, "openai": {"store": True}})
    await provider.chat(request, ctx(fx.MODEL))
    sent = upstream.wait_for_exchange().request
    assert sent.headers["anthropic-beta"] == "feature-a-2025-01-01,feature-b"
    assert sent.headers["x-extra"] == "1"
    assert sent.json() == {"model": fx.MODEL, "max_tokens": 1000,
                           "messages": [{"role": "user", "content": "Hello"}],
                           "service_tier": "auto", "top_k": 7}
    await provider.aclose()


async def test_thinking_signature_round_trip_through_a_second_request(
        upstream: FakeUpstream) -> None:
    provider = provider_for(upstream)
    question = Message(Role.USER, (TextPart("Weather and time in Paris?"),))
    first = ChatRequest("a/m", (question,), tools=(WEATHER, FunctionTool("get_time")),
                        reasoning=ReasoningConfig(budget_tokens=2048))
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_THINKING_TOOLS))
    response = await provider.chat(first, ctx(fx.MODEL))
    assert upstream.wait_for_exchange(1).request.json()["thinking"] == {
        "type": "enabled", "budget_tokens": 2048}
    calls = [p for p in response.message.parts if isinstance(p, ToolCallPart)]
    assert [c.name for c in calls] == ["get_weather", "get_time"]  # parallel calls
    results = Message(Role.TOOL, tuple(ToolResultPart(c.id, (TextPart(f"{c.name} ok"),))
                                       for c in calls))
    second = ChatRequest("a/m", (question, response.message, results),
                         tools=first.tools, reasoning=first.reasoning)
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_TEXT))
    await provider.chat(second, ctx(fx.MODEL))
    sent = upstream.wait_for_exchange(2).request.json()
    # The assistant turn goes back exactly as Anthropic returned it.
    assert sent["messages"][1] == {"role": "assistant",
                                   "content": fx.MESSAGE_THINKING_TOOLS["content"]}
    assert sent["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
         "content": [{"type": "text", "text": "get_weather ok"}]},
        {"type": "tool_result", "tool_use_id": "toolu_01B19r01rx01mr028946mr0",
         "content": [{"type": "text", "text": "get_time ok"}]},
    ]}
    await provider.aclose()


async def test_streamed_thinking_round_trips_too(upstream: FakeUpstream) -> None:
    provider = provider_for(upstream)
    upstream.on("POST", MESSAGES, Stream(fx.sse_frames(fx.STREAM_THINKING)))
    rebuilt = accumulate(await collect(provider, hello()))
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_TEXT))
    follow_up = ChatRequest("a/m", (*hello().messages, rebuilt.message,
                                    Message(Role.USER, (TextPart("And 27 * 454?"),))))
    await provider.chat(follow_up, ctx(fx.MODEL))
    assert upstream.wait_for_exchange(2).request.json()["messages"][1] == {
        "role": "assistant", "content": [
            {"type": "thinking", "signature": fx.SIGNATURE,
             "thinking": "Let me solve this step by step:\n\n1. First break down 27 * 453"
                         "\n2. 453 = 400 + 50 + 3"},
            {"type": "redacted_thinking", "data": fx.REDACTED},
            {"type": "text", "text": "27 * 453 = 12,231"},
        ]}
    await provider.aclose()


async def test_stream_request_and_streamed_tool_arguments(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Stream(fx.sse_frames(fx.STREAM_TOOL_USE),
                                         headers={"content-type": "text/event-stream",
                                                  "request-id": "req_stream"}))
    provider = provider_for(upstream)
    events = await collect(provider, hello(tools=(WEATHER,)))
    sent = upstream.wait_for_exchange().request
    assert sent.json()["stream"] is True and sent.json()["tools"][0]["name"] == "get_weather"
    assert events[0].upstream_request_id == "req_stream"
    assert [ev.arguments_fragment for ev in events if isinstance(ev, ToolCallDelta)] == [
        '{"location":', ' "San Francisco, CA"', ', "unit": "fahrenheit"}', "{}"]
    rebuilt = accumulate(events)
    assert rebuilt.message.parts[1] == ToolCallPart(
        "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather",
        '{"location": "San Francisco, CA", "unit": "fahrenheit"}')
    assert rebuilt.finish_reason is FinishReason.TOOL_CALLS
    assert rebuilt.usage == Usage(472, 89)
    await provider.aclose()


async def test_image_input_and_json_schema_output(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Reply(json=fx.message(
        [{"type": "text", "text": '{"colour": "red"}'}], "end_turn")))
    provider = provider_for(upstream)
    request = ChatRequest("a/m", (Message(Role.USER, (
        TextPart("Colour?"), ImagePart("image/webp", data=b"RIFF"),
        ImagePart("image/png", uri="https://example.com/a.png"))),),
        response_format=JsonSchemaFormat({"type": "object", "properties": {
            "colour": {"type": "string"}}, "additionalProperties": False}, name="c"))
    response = await provider.chat(request, ctx(fx.MODEL))
    sent = upstream.wait_for_exchange().request.json()
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "Colour?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/webp",
                                     "data": "UklGRg=="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
    ]
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": {
        "type": "object", "properties": {"colour": {"type": "string"}},
        "additionalProperties": False}}}
    assert response.message.parts == (TextPart('{"colour": "red"}'),)
    await provider.aclose()


async def test_adaptive_effort_over_the_wire(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_TEXT))
    provider = provider_for(upstream)
    await provider.chat(hello(reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH)),
                        ctx("claude-opus-4-6"))
    sent = upstream.wait_for_exchange().request.json()
    assert (sent["thinking"], sent["output_config"]) == ({"type": "adaptive"},
                                                         {"effort": "high"})
    await provider.aclose()


@pytest.mark.parametrize("stop, finish", [
    ("end_turn", FinishReason.STOP), ("stop_sequence", FinishReason.STOP),
    ("max_tokens", FinishReason.LENGTH), ("tool_use", FinishReason.TOOL_CALLS),
    ("pause_turn", FinishReason.PAUSED), ("refusal", FinishReason.REFUSAL),
    ("model_context_window_exceeded", FinishReason.CONTEXT_LENGTH),
])
async def test_every_finish_reason_unary_and_streamed(upstream: FakeUpstream, stop: str,
                                                      finish: FinishReason) -> None:
    sequence = "###" if stop == "stop_sequence" else None
    provider = provider_for(upstream)
    upstream.on("POST", MESSAGES, Reply(json=fx.message([{"type": "text", "text": "x"}],
                                                        stop, sequence)))
    response = await provider.chat(hello(), ctx(fx.MODEL))
    assert (response.finish_reason, response.provider_finish_reason,
            response.stop_sequence) == (finish, stop, sequence or "")
    events = [fx.STREAM_TEXT[0], {"type": "message_delta", "delta": {
        "stop_reason": stop, "stop_sequence": sequence}, "usage": {"output_tokens": 3}},
        {"type": "message_stop"}]
    upstream.on("POST", MESSAGES, Stream(fx.sse_frames(events)))
    done = (await collect(provider, hello()))[-1]
    assert done == StreamDone(finish, stop, sequence or "", Usage(25, 3))
    await provider.aclose()


async def test_stream_usage_updates_replace_not_add(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Stream(fx.sse_frames(fx.STREAM_CUMULATIVE_USAGE)))
    provider = provider_for(upstream)
    events = await collect(provider, hello())
    assert [ev.usage.output_tokens for ev in events if isinstance(ev, UsageUpdate)] == [1, 10, 25]
    assert events[-1].usage == Usage(1250, 25, cached_input_tokens=1000, cache_write_tokens=200)
    await provider.aclose()


@pytest.mark.parametrize("status, body, headers, error, retry", [
    (429, fx.ERROR_RATE_LIMIT, {"retry-after": "7", "request-id": "req_429"},
     e.UpstreamRateLimited, 7.0),
    (529, fx.ERROR_OVERLOADED, {}, e.UpstreamUnavailable, 1.0),
    (529, fx.ERROR_OVERLOADED, {"retry-after": "2"}, e.UpstreamUnavailable, 2.0),
    (400, fx.ERROR_PROMPT_TOO_LONG, {}, e.ContextLengthExceeded, None),
    (401, fx.ERROR_AUTH, {}, e.UpstreamAuthFailed, None),
    (403, fx.ERROR_PERMISSION, {}, e.UpstreamAuthFailed, None),
    (404, fx.ERROR_NOT_FOUND, {}, e.UpstreamModelNotFound, None),
    (413, fx.ERROR_TOO_LARGE, {}, e.UpstreamInvalidRequest, None),
    (500, fx.ERROR_API, {}, e.UpstreamFailure, None),
    (504, fx.ERROR_TIMEOUT, {}, e.UpstreamTimeout, None),
])
async def test_error_statuses(upstream: FakeUpstream, status: int, body: dict,
                              headers: dict, error: type, retry: float | None) -> None:
    upstream.on("POST", MESSAGES, Reply(status, json=body,
                                        headers={"request-id": "req_err", **headers}))
    provider = provider_for(upstream)
    with pytest.raises(error) as exc:
        await provider.chat(hello(), ctx(fx.MODEL))
    assert exc.value.retry_after == retry
    assert exc.value.metadata["upstream_status"] == str(status)
    assert exc.value.metadata["provider"] == "anthropic"
    assert exc.value.metadata["upstream_request_id"] == headers.get("request-id", "req_err")
    assert exc.value.message == (f"anthropic: {body['error']['message']} "
                                 f"({body['error']['type']})")
    # The same mapping applies before a stream starts.
    with pytest.raises(error):
        await collect(provider, hello())
    await provider.aclose()


@pytest.mark.parametrize("kind, error, code_status", [
    ("overloaded_error", e.UpstreamUnavailable, "529"),
    ("api_error", e.UpstreamFailure, "500"),
    ("rate_limit_error", e.UpstreamRateLimited, "429"),
    ("invalid_request_error", e.UpstreamInvalidRequest, "400"),
    ("brand_new_error", e.UpstreamFailure, "500"),
])
async def test_in_stream_error_events(upstream: FakeUpstream, kind: str, error: type,
                                      code_status: str) -> None:
    events = [*fx.STREAM_TEXT[:4], fx.error(kind, "Overloaded")]
    upstream.on("POST", MESSAGES, Stream(fx.sse_frames(events),
                                         headers={"content-type": "text/event-stream",
                                                  "request-id": "req_mid"}))
    provider = provider_for(upstream)
    seen = []
    with pytest.raises(error) as exc:
        async for ev in provider.stream(hello(), ctx(fx.MODEL)):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "UsageUpdate", "TextDelta"]
    assert exc.value.metadata["upstream_status"] == code_status
    assert exc.value.metadata["upstream_request_id"] == "req_mid"
    await provider.aclose()


async def test_sse_framing_edge_cases_over_the_wire(upstream: FakeUpstream) -> None:
    # Events split across TCP writes (one cut between \r and \n), CRLF line
    # ends, comment lines and pings.
    frames = b"".join(fx.sse_frames(fx.STREAM_TEXT)).replace(b"\n", b"\r\n")
    frames = b": keep-alive\r\n\r\n" + frames
    cr = frames.index(b"\r\n", 200)
    cuts = [0, 5, 60, 61, cr + 1, len(frames) - 3, len(frames)]
    upstream.on("POST", MESSAGES, Stream([frames[a:b] for a, b in itertools.pairwise(cuts)]))
    provider = provider_for(upstream)
    events = await collect(provider, hello())
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == ["Hello", "!"]
    assert events[-1] == StreamDone(FinishReason.STOP, "end_turn", usage=Usage(25, 15))
    await provider.aclose()


async def test_events_are_forwarded_before_the_upstream_finishes(upstream: FakeUpstream) -> None:
    gate = Gate()
    frames = fx.sse_frames(fx.STREAM_TEXT)
    upstream.on("POST", MESSAGES, Stream([*frames[:4], gate, *frames[4:]]))
    provider = provider_for(upstream)
    stream = provider.stream(hello(), ctx(fx.MODEL))
    assert (await stream.__anext__()).id == "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"
    await stream.__anext__()  # usage from message_start
    assert await stream.__anext__() == TextDelta(0, "Hello")  # while the upstream is held
    assert not upstream.wait_for_exchange().finished.is_set()
    gate.open()
    rest = [ev async for ev in stream]
    assert isinstance(rest[-1], StreamDone)
    await provider.aclose()


@pytest.mark.parametrize("frames", [
    fx.sse_frames(fx.STREAM_TEXT[:-1]),  # no message_stop
    fx.sse_frames(fx.STREAM_TEXT[:4]),
    [b"event: message_start\ndata: {not json\n\n"],
    [b"data: [1, 2]\n\n"],
    # An event of an unexpected shape: a protocol error, not a crash.
    fx.sse_frames([*fx.STREAM_TEXT[:3], {"type": "content_block_delta", "index": 0,
                                         "delta": "not an object"}]),
])
async def test_truncated_or_malformed_streams(upstream: FakeUpstream, frames: list) -> None:
    upstream.on("POST", MESSAGES, Stream(frames))
    provider = provider_for(upstream)
    with pytest.raises(e.UpstreamProtocolError):
        await collect(provider, hello())
    await provider.aclose()


async def test_nothing_after_message_stop_is_read(upstream: FakeUpstream) -> None:
    frames = [*fx.sse_frames(fx.STREAM_TEXT), b"data: {garbage\n\n"]
    upstream.on("POST", MESSAGES, Stream(frames))
    provider = provider_for(upstream)
    events = await collect(provider, hello())
    assert isinstance(events[-1], StreamDone)
    await provider.aclose()


async def test_cancelling_a_stream_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Stream(fx.sse_frames(fx.STREAM_TEXT[:4]), hold_open=True))
    provider = provider_for(upstream)

    await assert_cancel_closes_upstream(upstream, provider.stream(hello(), ctx(fx.MODEL)))
    await provider.aclose()


async def test_malformed_unary_responses(upstream: FakeUpstream) -> None:
    provider = provider_for(upstream)
    upstream.on("POST", MESSAGES, Reply(json={"type": "message"}))
    with pytest.raises(e.UpstreamProtocolError):
        await provider.chat(hello(), ctx(fx.MODEL))
    upstream.on("POST", MESSAGES, Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"))
    with pytest.raises(e.UpstreamFailure):
        await provider.chat(hello(), ctx(fx.MODEL))
    await provider.aclose()


async def test_refusals_happen_before_any_request(upstream: FakeUpstream) -> None:
    provider = provider_for(upstream)
    with pytest.raises(e.UnsupportedFeature, match="seed"):
        await provider.chat(hello(generation=GenerationConfig(seed=1)), ctx(fx.MODEL))
    with pytest.raises(e.UnsupportedFeature, match="seed"):
        await collect(provider, hello(generation=GenerationConfig(seed=1)))
    assert upstream.requests() == []
    await provider.aclose()


# --- token counting, models, health --------------------------------------------------------


async def test_count_tokens(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/messages/count_tokens", Reply(json=fx.COUNT_TOKENS))
    provider = provider_for(upstream)
    request = ChatRequest("a/m", (Message(Role.USER, (TextPart("Hello, world"),)),),
                          system=(TextPart("Today's date is 2024-06-01."),), tools=(WEATHER,),
                          generation=GenerationConfig(max_output_tokens=10, temperature=0.5),
                          reasoning=ReasoningConfig(effort=ReasoningEffort.LOW))
    count = await provider.count_tokens(request, ctx("claude-opus-4-6"))
    sent = upstream.wait_for_exchange().request
    assert sent.headers["x-api-key"] == KEY
    assert sent.json() == {
        "model": "claude-opus-4-6",
        "messages": [{"role": "user", "content": "Hello, world"}],
        "system": [{"type": "text", "text": "Today's date is 2024-06-01."}],
        "tools": [{"name": "get_weather", "description": "Weather by city",
                   "input_schema": WEATHER.parameters}],
        "output_config": {"effort": "low"},
        "thinking": {"type": "adaptive"},
    }
    assert count == TokenCount(2095, CountMethod.PROVIDER_ENDPOINT,
                               "anthropic:/v1/messages/count_tokens", model="claude-opus-4-6")
    upstream.on("POST", "/v1/messages/count_tokens", Reply(json={"tokens": 3}))
    with pytest.raises(e.UpstreamProtocolError):
        await provider.count_tokens(request, ctx("claude-opus-4-6"))
    await provider.aclose()


async def test_model_discovery_follows_every_page(upstream: FakeUpstream) -> None:
    def page(request):
        return Reply(json=fx.MODELS_PAGE_2 if request.query.get("after_id") else
                     fx.MODELS_PAGE_1)

    upstream.on("GET", "/v1/models", page)
    provider = provider_for(upstream, discover_models=True, models=["claude-custom"])
    await provider.refresh_models()
    first, second = upstream.requests()
    assert (first.path, first.query) == ("/v1/models", {"limit": ["1000"]})
    assert second.query == {"limit": ["1000"], "after_id": ["claude-sonnet-4-5-20250929"]}
    assert first.headers["x-api-key"] == KEY
    models = {m.id: m for m in provider.listed_models()}
    assert list(models) == ["claude-custom", "claude-opus-4-6", "claude-sonnet-4-5-20250929",
                            "claude-haiku-4-5-20251001"]
    opus = models["claude-opus-4-6"]
    assert (opus.display_name, opus.context_window, opus.max_output_tokens) == (
        "Claude Opus 4.6", 200000, 128000)
    assert opus.capabilities.token_counting and opus.capabilities.vision
    assert not opus.capabilities.embeddings
    await provider.aclose()


async def test_model_discovery_refuses_a_cursor_that_does_not_move(
        upstream: FakeUpstream) -> None:
    upstream.on("GET", "/v1/models", Reply(json={**fx.MODELS_PAGE_1, "last_id": ""}))
    provider = provider_for(upstream, discover_models=True)
    with pytest.raises(e.UpstreamProtocolError):
        await provider.refresh_models()
    await provider.aclose()
    quiet = provider_for(upstream)
    await quiet.refresh_models()  # discovery off: no request
    assert len(upstream.requests()) == 1
    await quiet.aclose()


async def test_health(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/v1/models", Reply(json=fx.MODELS_PAGE_2))
    provider = provider_for(upstream)
    assert (await provider.check_health()).ok
    assert upstream.wait_for_exchange().request.query == {"limit": ["1"]}
    upstream.on("GET", "/v1/models", Reply(401, json=fx.ERROR_AUTH))
    report = await provider.check_health()
    assert not report.ok and "invalid x-api-key" in report.detail
    await provider.aclose()


# --- configuration ---------------------------------------------------------------------------


def test_environment_enables_the_embedded_default() -> None:
    assert "anthropic" not in default_config({})["providers"]
    assert default_config({"ANTHROPIC_API_KEY": "k"})["providers"]["anthropic"] == {
        "type": "anthropic", "api_key": "k"}
    config = load_config(None, {"ANTHROPIC_API_KEY": "k",
                                "ANTHROPIC_BASE_URL": "https://proxy.example.com/"})
    anthropic = config.providers["anthropic"]
    assert anthropic.base_url == "https://proxy.example.com"  # type: ignore[attr-defined]
    assert anthropic.api_key.get_secret_value() == "k"  # type: ignore[attr-defined]
    default = validate({"providers": {"anthropic": {"api_key": "k"}}}, "t")
    assert default.providers["anthropic"].base_url == "https://api.anthropic.com"  # type: ignore[attr-defined]


@pytest.mark.parametrize("settings, problem", [
    ({}, "api_key is required for Anthropic"),
    ({"api_key": "k", "effort_mode": "fast"}, "effort_mode"),
    ({"api_key": "k", "effort_budget_tokens": {"high": 100}}, "effort_budget_tokens.high"),
    ({"api_key": "k", "effort_budget_tokens": {"huge": 5000}}, "unknown setting"),
    ({"api_key": "k", "beta": ["a,b"]}, "beta entries"),
    ({"api_key": "k", "default_max_tokens": 0}, "default_max_tokens"),
])
def test_configuration_errors(settings: dict, problem: str) -> None:
    with pytest.raises(ConfigError) as exc:
        validate({"providers": {"anthropic": settings}}, "test")
    assert problem in str(exc.value)
    assert "k" not in [p for _, p in exc.value.problems]


def test_configured_effort_budgets_are_used() -> None:
    from llm_gateway.providers.registry import build_provider

    config = validate({"providers": {"a": {"type": "anthropic", "api_key": "k",
                                           "effort_mode": "budget",
                                           "effort_budget_tokens": {"high": 20000}}}}, "t")
    provider = build_provider("a", config.providers["a"])
    budgets = provider.settings.thinking.effort_budgets  # type: ignore[attr-defined]
    assert budgets[ReasoningEffort.HIGH] == 20000 and budgets[ReasoningEffort.LOW] == 4096
    assert provider.model_info("text-embedding-like-name").capabilities.chat  # type: ignore[union-attr]


async def test_signed_reasoning_of_another_type_is_not_sent(upstream: FakeUpstream) -> None:
    upstream.on("POST", MESSAGES, Reply(json=fx.MESSAGE_TEXT))
    provider = provider_for(upstream)
    turn = Message(Role.ASSISTANT, (ReasoningPart("t", "sig", provider_type="bedrock"),
                                    TextPart("Hi")))
    await provider.chat(ChatRequest("a/m", (*hello().messages, turn,
                                            Message(Role.USER, (TextPart("?"),)))),
                        ctx(fx.MODEL))
    assert upstream.wait_for_exchange().request.json()["messages"][1] == {
        "role": "assistant", "content": [{"type": "text", "text": "Hi"}]}
    await provider.aclose()
