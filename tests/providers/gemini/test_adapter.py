"""The Gemini API adapter over real HTTP to the fake upstream: the exact
request it sends and the exact neutral result it returns."""

import itertools

import pytest
from llm_gateway.config.loader import load_config
from llm_gateway.core import errors as e
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest
from llm_gateway.core.events import StreamDone, TextDelta
from llm_gateway.core.tokens import CountMethod, TokenCount
from llm_gateway.core.types import (
    ChatRequest,
    FinishReason,
    FunctionTool,
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

from tests.fixtures import gemini as fx
from tests.support.fake_upstream import FakeUpstream, Gate, RecordedRequest, Reply, Stream
from tests.support.providers import assert_cancel_closes_upstream, ctx, make_provider

KEY = "AIzaSyTest-0123456789abcdefghijklmn"
MODEL = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent"


def provider(upstream: FakeUpstream, **settings: object):  # type: ignore[no-untyped-def]
    return make_provider("gemini", upstream, path="/v1beta", api_key=KEY, **settings)


def hello() -> ChatRequest:
    return ChatRequest(f"gemini/{MODEL}", (Message(Role.USER, (TextPart("Hello"),)),))


def assert_key_in_header_only(sent: RecordedRequest) -> None:
    assert sent.headers["x-goog-api-key"] == KEY
    assert KEY not in sent.target and "authorization" not in sent.headers


async def test_chat_request_and_result(upstream: FakeUpstream) -> None:
    upstream.on("POST", GENERATE, Reply(json=fx.TEXT, headers={"x-request-id": "req_g"}))
    gemini = provider(upstream)
    response = await gemini.chat(hello(), ctx(MODEL))
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path, sent.query) == ("POST", GENERATE, {})
    assert_key_in_header_only(sent)
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
    assert response.message.parts == (TextPart("Hello! How can I help you today?"),)
    assert (response.id, response.model) == ("mAitaLmkHPPlz7IPvtfUqQ4", MODEL)
    assert response.upstream_request_id == "req_g"
    assert response.usage == Usage(11, 9)
    assert response.finish_reason is FinishReason.STOP
    await gemini.aclose()


async def test_tool_call_round_trip_keeps_the_thought_signature(upstream: FakeUpstream) -> None:
    """Turn 1 returns parallel function calls (the first signed); turn 2 sends
    them back with the results: the signature must be on the same part."""
    replies = iter([Reply(json=fx.FUNCTION_CALLS), Reply(json=fx.TEXT)])
    upstream.on("POST", GENERATE, lambda _: next(replies))
    gemini = provider(upstream)
    tools = (FunctionTool("get_weather", "Weather", {"type": "object"}),
             FunctionTool("get_time"))
    first = ChatRequest("g", (Message(Role.USER, (TextPart("Weather and time in Paris?"),)),),
                        tools=tools)
    turn1 = await gemini.chat(first, ctx(MODEL))
    assert turn1.finish_reason is FinishReason.TOOL_CALLS
    weather, time = turn1.message.parts
    assert isinstance(weather, ToolCallPart) and isinstance(time, ToolCallPart)
    second = ChatRequest("g", (
        *first.messages,
        turn1.message,
        Message(Role.TOOL, (ToolResultPart(weather.id, (TextPart('{"temp_c": 18}'),)),
                            ToolResultPart(time.id, (TextPart("12:00"),)))),
    ), tools=tools)
    await gemini.chat(second, ctx(MODEL))
    body = upstream.wait_for_exchange(2).request.json()
    assert body["contents"][1:] == [
        {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"location": "Paris"},
                              "id": "call_fc-1_0"}, "thoughtSignature": fx.SIG_B},
            {"functionCall": {"name": "get_time", "args": {"tz": "Europe/Paris"},
                              "id": "call_fc-1_1"}},
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather", "id": "call_fc-1_0",
                                  "response": {"temp_c": 18}}},
            {"functionResponse": {"name": "get_time", "id": "call_fc-1_1",
                                  "response": {"output": "12:00"}}},
        ]},
    ]
    assert body["tools"] == [{"functionDeclarations": [
        {"name": "get_weather", "description": "Weather",
         "parametersJsonSchema": {"type": "object"}}, {"name": "get_time"}]}]
    await gemini.aclose()


async def test_reasoning_signature_round_trip_from_a_stream(upstream: FakeUpstream) -> None:
    """Thoughts and a signed answer streamed in turn 1 go back in turn 2 as a
    thought part and the signed text part."""
    frames = [fx.frame([{"text": "Two and two", "thought": True}]),
              fx.frame([{"text": "4"}]),
              fx.frame([{"text": "", "thoughtSignature": fx.SIG_A}], "STOP")]
    upstream.on("POST", STREAM, Stream(fx.sse_frames(frames)))
    upstream.on("POST", GENERATE, Reply(json=fx.TEXT))
    gemini = provider(upstream)
    first = ChatRequest("g", (Message(Role.USER, (TextPart("2+2?"),)),),
                        reasoning=ReasoningConfig(effort=ReasoningEffort.LOW,
                                                  include_thoughts=True))
    turn1 = accumulate([ev async for ev in gemini.stream(first, ctx(MODEL))])
    assert turn1.message.parts == (ReasoningPart("Two and two", provider_type="gemini"),
                                   TextPart("4", thought_signature=fx.SIG_A))
    sent1 = upstream.wait_for_exchange().request
    assert sent1.query == {"alt": ["sse"]}
    # (a Gemini 2.5 model: the effort goes as a thinking budget)
    assert sent1.json()["generationConfig"] == {
        "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True}}
    await gemini.chat(ChatRequest("g", (*first.messages, turn1.message,
                                        Message(Role.USER, (TextPart("And 3+3?"),)))),
                      ctx(MODEL))
    assert upstream.wait_for_exchange(2).request.json()["contents"] == [
        {"role": "user", "parts": [{"text": "2+2?"}]},
        {"role": "model", "parts": [{"text": "Two and two", "thought": True},
                                    {"text": "4", "thoughtSignature": fx.SIG_A}]},
        {"role": "user", "parts": [{"text": "And 3+3?"}]},
    ]
    await gemini.aclose()


async def test_image_input_and_json_schema_output(upstream: FakeUpstream) -> None:
    answer = {**fx.TEXT, "candidates": [{"content": {"parts": [{"text": '{"count": 2}'}],
                                                     "role": "model"},
                                         "finishReason": "STOP"}]}
    upstream.on("POST", GENERATE, Reply(json=answer))
    gemini = provider(upstream)
    schema = {"type": "object", "properties": {"count": {"type": "integer"}}}
    request = ChatRequest("g", (Message(Role.USER, (
        TextPart("How many cats?"), ImagePart("image/jpeg", data=b"\xff\xd8\xff"),
        ImagePart("image/png", uri="gs://cats/two.png"))),),
        response_format=JsonSchemaFormat(schema, name="count"))
    response = await gemini.chat(request, ctx(MODEL))
    assert upstream.wait_for_exchange().request.json() == {
        "contents": [{"role": "user", "parts": [
            {"text": "How many cats?"},
            {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}},
            {"fileData": {"fileUri": "gs://cats/two.png", "mimeType": "image/png"}}]}],
        "generationConfig": {"responseMimeType": "application/json",
                             "responseJsonSchema": schema}}
    assert response.message.text() == '{"count": 2}'
    await gemini.aclose()


async def test_provider_options_merge(upstream: FakeUpstream) -> None:
    upstream.on("POST", GENERATE, Reply(json=fx.TEXT))
    gemini = provider(upstream, name="gem-prod")
    request = ChatRequest("g", hello().messages, reasoning=ReasoningConfig(budget_tokens=0),
                          provider_options={
                              "gemini": {"generationConfig": {"candidateCount": 1},
                                         "cachedContent": "cachedContents/abc"},
                              "gem-prod": {"cachedContent": "cachedContents/prod"},
                              "openai": {"store": True}})
    await gemini.chat(request, ctx(MODEL))
    assert upstream.wait_for_exchange().request.json() == {
        "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}, "candidateCount": 1},
        "cachedContent": "cachedContents/prod"}
    await gemini.aclose()


async def test_stream_text_and_usage(upstream: FakeUpstream) -> None:
    upstream.on("POST", STREAM, Stream(fx.sse_frames(fx.STREAM_TEXT),
                                       headers={"content-type": "text/event-stream",
                                                "x-request-id": "req_s"}))
    gemini = provider(upstream)
    events = [ev async for ev in gemini.stream(hello(), ctx(MODEL))]
    sent = upstream.wait_for_exchange().request
    assert (sent.path, sent.query) == (STREAM, {"alt": ["sse"]})
    assert_key_in_header_only(sent)
    assert sent.json() == {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
    rebuilt = accumulate(events)
    assert rebuilt.message.parts == (TextPart("Hello there!"),)
    assert (rebuilt.id, rebuilt.upstream_request_id) == ("stream-1", "req_s")
    assert rebuilt.usage == Usage(9, 3)
    assert events[-1] == StreamDone(FinishReason.STOP, "STOP", usage=Usage(9, 3))
    await gemini.aclose()


async def test_stream_parallel_whole_tool_calls(upstream: FakeUpstream) -> None:
    upstream.on("POST", STREAM, Stream(fx.sse_frames(fx.STREAM_THINKING_TOOLS)))
    gemini = provider(upstream)
    events = [ev async for ev in gemini.stream(hello(), ctx(MODEL))]
    kinds = [type(ev).__name__ for ev in events]
    # Each call arrives whole: start, one delta, end, back to back.
    assert kinds[kinds.index("ToolCallStart"):kinds.index("ToolCallStart") + 6] == [
        "ToolCallStart", "ToolCallDelta", "ToolCallEnd"] * 2
    rebuilt = accumulate(events)
    assert rebuilt.finish_reason is FinishReason.TOOL_CALLS
    assert rebuilt.message.parts[1:] == (
        ToolCallPart("call_stream-1_0", "get_weather", '{"location":"Paris"}',
                     thought_signature=fx.SIG_B),
        ToolCallPart("call_stream-1_1", "get_time", "{}"))
    await gemini.aclose()


async def test_sse_framing_edge_cases_over_the_wire(upstream: FakeUpstream) -> None:
    # Google frames with CRLF; events split across writes (once between \r and
    # \n), a comment line, and a data field split over two lines.
    frames = b"".join(fx.sse_frames(fx.STREAM_TEXT))
    first_end = frames.index(b"\r\n\r\n") + 4
    head = frames[:first_end].replace(b'{"text": "Hello"}]', b'{"text": "Hello"}\r\ndata: ]')
    frames = b": keep-alive\r\n\r\n" + head + frames[first_end:]
    cut = frames.index(b"\r\n", 30) + 1
    cuts = [0, 5, cut, cut + 1, len(frames) - 3, len(frames)]
    upstream.on("POST", STREAM, Stream([frames[a:b] for a, b in itertools.pairwise(cuts)]))
    gemini = provider(upstream)
    events = [ev async for ev in gemini.stream(hello(), ctx(MODEL))]
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == ["Hello", " there", "!"]
    assert isinstance(events[-1], StreamDone) and events[-1].finish_reason is FinishReason.STOP
    await gemini.aclose()


async def test_events_are_forwarded_before_the_upstream_finishes(upstream: FakeUpstream) -> None:
    gate = Gate()
    frames = fx.sse_frames(fx.STREAM_TEXT)
    upstream.on("POST", STREAM, Stream([frames[0], gate, *frames[1:]]))
    gemini = provider(upstream)
    stream = gemini.stream(hello(), ctx(MODEL))
    await stream.__anext__()  # start
    assert await stream.__anext__() == TextDelta(0, "Hello")
    assert not upstream.wait_for_exchange().finished.is_set()
    gate.open()
    rest = [ev async for ev in stream]
    assert isinstance(rest[-1], StreamDone)
    await gemini.aclose()


async def test_cancelling_a_stream_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", STREAM, Stream(fx.sse_frames(fx.STREAM_TEXT[:1]), hold_open=True))
    gemini = provider(upstream)

    await assert_cancel_closes_upstream(upstream, gemini.stream(hello(), ctx(MODEL)))
    await gemini.aclose()


@pytest.mark.parametrize("status, body, headers, error, retry", [
    (429, fx.ERROR_RATE_LIMIT, {}, e.UpstreamRateLimited, 37.0),
    (429, fx.ERROR_RATE_LIMIT, {"retry-after": "3"}, e.UpstreamRateLimited, 3.0),
    (429, {"error": {"code": 429, "message": "busy", "status": "RESOURCE_EXHAUSTED"}}, {},
     e.UpstreamRateLimited, 1.0),
    (503, fx.ERROR_UNAVAILABLE, {}, e.UpstreamUnavailable, 1.0),
    (400, fx.ERROR_CONTEXT, {}, e.ContextLengthExceeded, None),
    (400, fx.ERROR_INVALID, {}, e.UpstreamInvalidRequest, None),
    (400, fx.ERROR_BAD_KEY, {}, e.UpstreamAuthFailed, None),
    (401, fx.ERROR_UNAUTHENTICATED, {}, e.UpstreamAuthFailed, None),
    (403, fx.ERROR_PERMISSION, {}, e.UpstreamAuthFailed, None),
    (404, fx.ERROR_NOT_FOUND, {}, e.UpstreamModelNotFound, None),
    (500, fx.ERROR_INTERNAL, {}, e.UpstreamFailure, None),
    (504, b"<html>gateway timeout</html>", {}, e.UpstreamTimeout, None),
])
async def test_error_statuses(upstream: FakeUpstream, status: int, body: object,
                              headers: dict, error: type, retry: float | None) -> None:
    reply = (Reply(status, body=body, headers={"content-type": "text/html", **headers})
             if isinstance(body, bytes) else Reply(status, json=body, headers=headers))
    upstream.on("POST", GENERATE, reply)
    upstream.on("POST", STREAM, reply)
    gemini = provider(upstream)
    with pytest.raises(error) as exc:
        await gemini.chat(hello(), ctx(MODEL))
    assert type(exc.value) is error
    assert exc.value.retry_after == retry
    assert exc.value.metadata["upstream_status"] == str(status)
    assert exc.value.metadata["provider"] == "gemini"
    assert KEY not in exc.value.message
    if isinstance(body, dict):
        assert body["error"]["message"].strip() in exc.value.message
    # The same mapping applies before a stream starts.
    with pytest.raises(error):
        async for _ in gemini.stream(hello(), ctx(MODEL)):
            pass
    await gemini.aclose()


async def test_an_echoed_key_is_redacted(upstream: FakeUpstream) -> None:
    upstream.on("POST", GENERATE, Reply(400, json={"error": {
        "code": 400, "message": f"API key {KEY} not valid.", "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": "API_KEY_INVALID"}]}}))
    gemini = provider(upstream)
    with pytest.raises(e.UpstreamAuthFailed) as exc:
        await gemini.chat(hello(), ctx(MODEL))
    assert KEY not in exc.value.message and "[REDACTED]" in exc.value.message
    await gemini.aclose()


async def test_a_blocked_prompt_is_content_filtered(upstream: FakeUpstream) -> None:
    upstream.on("POST", GENERATE, Reply(json=fx.BLOCKED_PROMPT))
    upstream.on("POST", STREAM, Stream(fx.sse_frames([fx.BLOCKED_PROMPT])))
    gemini = provider(upstream)
    with pytest.raises(e.ContentFiltered):
        await gemini.chat(hello(), ctx(MODEL))
    with pytest.raises(e.ContentFiltered):
        async for _ in gemini.stream(hello(), ctx(MODEL)):
            pass
    await gemini.aclose()


async def test_in_stream_error_after_events(upstream: FakeUpstream) -> None:
    frames = fx.sse_frames([fx.STREAM_TEXT[0], fx.ERROR_UNAVAILABLE])
    upstream.on("POST", STREAM, Stream(frames))
    gemini = provider(upstream)
    seen = []
    with pytest.raises(e.UpstreamUnavailable) as exc:
        async for ev in gemini.stream(hello(), ctx(MODEL)):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "TextDelta", "UsageUpdate"]
    assert exc.value.metadata["upstream_status"] == "503"
    await gemini.aclose()


@pytest.mark.parametrize("frames", [
    fx.sse_frames(fx.STREAM_TEXT[:2]),  # no finishReason before EOF
    [b"data: {not json\r\n\r\n"],
    [b'data: [1, 2]\r\n\r\n'],
    [],
])
async def test_truncated_or_malformed_streams(upstream: FakeUpstream, frames: list) -> None:
    upstream.on("POST", STREAM, Stream(frames))
    gemini = provider(upstream)
    with pytest.raises(e.UpstreamProtocolError):
        async for _ in gemini.stream(hello(), ctx(MODEL)):
            pass
    await gemini.aclose()


async def test_embeddings_one_and_batched_in_order(upstream: FakeUpstream) -> None:
    model = "gemini-embedding-001"
    upstream.on("POST", f"/v1beta/models/{model}:embedContent", Reply(json=fx.EMBED_ONE))
    starts = iter([0, 100])
    upstream.on("POST", f"/v1beta/models/{model}:batchEmbedContents",
                lambda r: Reply(json=fx.embed_batch(len(r.json()["requests"]), next(starts))))
    gemini = provider(upstream)
    one = await gemini.embed(EmbedRequest("x", ("hello",), dimensions=3,
                                          task=EmbeddingTask.RETRIEVAL_QUERY), ctx(model))
    assert upstream.wait_for_exchange().request.json() == {
        "content": {"parts": [{"text": "hello"}]}, "taskType": "RETRIEVAL_QUERY",
        "outputDimensionality": 3}
    assert one.vectors == ((0.6, 0.0, -0.8),)
    inputs = tuple(f"text {i}" for i in range(150))
    many = await gemini.embed(EmbedRequest("x", inputs, normalize=True), ctx(model))
    first, second = (upstream.wait_for_exchange(n).request.json() for n in (2, 3))
    assert [len(first["requests"]), len(second["requests"])] == [100, 50]
    assert first["requests"][0] == {"model": f"models/{model}",
                                    "content": {"parts": [{"text": "text 0"}]}}
    assert second["requests"][-1]["content"] == {"parts": [{"text": "text 149"}]}
    # Order kept across batches; normalised here since Gemini may not be.
    assert len(many.vectors) == 150
    assert many.vectors[0] == (0.0, 1.0)
    assert many.vectors[149] == pytest.approx((149 / (149**2 + 1) ** 0.5,
                                               1 / (149**2 + 1) ** 0.5))
    await gemini.aclose()


async def test_model_discovery_follows_every_page(upstream: FakeUpstream) -> None:
    pages = {"": fx.MODELS_PAGE_1, fx.MODELS_PAGE_1["nextPageToken"]: fx.MODELS_PAGE_2}
    upstream.on("GET", "/v1beta/models",
                lambda r: Reply(json=pages[r.query.get("pageToken", [""])[0]]))
    gemini = provider(upstream, discover_models=True)
    await gemini.refresh_models()
    assert [r.query for r in upstream.requests()] == [
        {"pageSize": ["1000"]},
        {"pageSize": ["1000"], "pageToken": [fx.MODELS_PAGE_1["nextPageToken"]]}]
    assert_key_in_header_only(upstream.requests()[0])
    models = {m.id: m for m in gemini.listed_models()}
    assert set(models) == {"gemini-2.5-flash", "gemini-embedding-001", "gemma-3-27b-it"}
    flash = models["gemini-2.5-flash"]
    assert (flash.context_window, flash.max_output_tokens, flash.display_name) == (
        1048576, 65536, "Gemini 2.5 Flash")
    assert flash.capabilities.tools and flash.capabilities.token_counting
    assert models["gemini-embedding-001"].capabilities.embeddings
    assert not models["gemini-embedding-001"].capabilities.chat
    assert not models["gemma-3-27b-it"].capabilities.token_counting
    await gemini.aclose()


async def test_count_tokens(upstream: FakeUpstream) -> None:
    upstream.on("POST", f"/v1beta/models/{MODEL}:countTokens", Reply(json=fx.COUNT_TOKENS))
    gemini = provider(upstream)
    request = ChatRequest("g", hello().messages, system=(TextPart("Be brief."),),
                          tools=(FunctionTool("get_time"),))
    count = await gemini.count_tokens(request, ctx(MODEL))
    assert count == TokenCount(31, CountMethod.PROVIDER_ENDPOINT, "gemini:countTokens",
                               model=MODEL)
    assert upstream.wait_for_exchange().request.json() == {"generateContentRequest": {
        "model": f"models/{MODEL}",
        "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "get_time"}]}]}}
    assert gemini.model_info(MODEL).capabilities.token_counting  # type: ignore[union-attr]
    await gemini.aclose()


async def test_health(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/v1beta/models", Reply(json=fx.MODELS_PAGE_2))
    gemini = provider(upstream)
    assert (await gemini.check_health()).ok
    assert upstream.wait_for_exchange().request.query == {"pageSize": ["1"]}
    upstream.on("GET", "/v1beta/models", Reply(400, json=fx.ERROR_BAD_KEY))
    report = await gemini.check_health()
    assert not report.ok and "API key not valid" in report.detail
    await gemini.aclose()


def test_environment_enables_gemini() -> None:
    assert "gemini" not in load_config(None, {}).providers
    config = load_config(None, {"GEMINI_API_KEY": "k1", "GOOGLE_API_KEY": "k2"})
    assert config.providers["gemini"].api_key.get_secret_value() == "k1"  # type: ignore[attr-defined]
    config = load_config(None, {"GOOGLE_API_KEY": "k2"})
    assert config.providers["gemini"].base_url == (  # type: ignore[attr-defined]
        "https://generativelanguage.googleapis.com/v1beta")


def test_a_key_is_required() -> None:
    from llm_gateway.config.loader import ConfigError, validate
    with pytest.raises(ConfigError, match="api_key is required"):
        validate({"providers": {"g": {"type": "gemini"}}}, "test")
