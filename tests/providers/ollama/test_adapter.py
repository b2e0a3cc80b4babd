"""The Ollama adapter over real HTTP to the fake upstream: the exact request
it sends and the exact neutral result it returns, for chat, streams and
embeddings (the model side is in test_models_adapter.py)."""

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
    UsageUpdate,
)
from llm_gateway.core.types import (
    ChatRequest,
    FinishReason,
    FunctionTool,
    ImagePart,
    JsonSchemaFormat,
    Message,
    ReasoningConfig,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from llm_gateway.providers.base import ProviderBase

from tests.fixtures import ollama as fx
from tests.support.fake_upstream import FakeUpstream, Gate, Raw, Reply, Stream
from tests.support.providers import assert_cancel_closes_upstream, ctx, make_provider

CHAT = "/api/chat"
TOKEN = "proxy-token-5b1d9e0c7a"


def hello(text: str = "Hello", **kwargs: object) -> ChatRequest:
    return ChatRequest("ollama/qwen3:8b", (Message(Role.USER, (TextPart(text),)),),
                       **kwargs)  # type: ignore[arg-type]


def ndjson_stream(lines: list, **kwargs: object) -> Stream:
    return Stream(fx.ndjson(*lines), headers={**fx.NDJSON_HEADERS, "x-request-id": "rid-7"},
                  **kwargs)  # type: ignore[arg-type]


def ollama(upstream: FakeUpstream, **settings: object) -> ProviderBase:
    return make_provider("ollama", upstream, **settings)


async def collect(provider: ProviderBase, request: ChatRequest) -> list:
    return [event async for event in provider.stream(request, ctx("qwen3:8b"))]


# --- chat ---------------------------------------------------------------------


async def test_chat_request_and_result(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Reply(json=fx.CHAT_TEXT, headers={"x-request-id": "rid-1"}))
    provider = ollama(upstream)
    response = await provider.chat(hello(), ctx("gemma3"))
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path, sent.query) == ("POST", CHAT, {})
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers  # a local Ollama takes no credentials
    assert sent.json() == {"model": "gemma3", "stream": False,
                           "messages": [{"role": "user", "content": "Hello"}]}
    assert response.message == Message(Role.ASSISTANT,
                                       (TextPart("Hello! How can I help you today?"),))
    assert (response.finish_reason, response.provider_finish_reason) == (FinishReason.STOP,
                                                                         "stop")
    assert (response.model, response.usage, response.upstream_request_id) == (
        "gemma3", Usage(11, 18), "rid-1")
    await provider.aclose()


async def test_api_key_for_a_proxy_is_a_bearer_token(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Reply(401, json={"error": f"token {TOKEN} is not valid"}))
    provider = ollama(upstream, api_key=TOKEN)
    with pytest.raises(e.UpstreamAuthFailed) as exc:
        await provider.chat(hello(), ctx("gemma3"))
    assert upstream.wait_for_exchange().request.headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in exc.value.message and "[REDACTED]" in exc.value.message
    await provider.aclose()


async def test_multi_turn_with_a_tool_call_its_result_and_parallel_calls(
        upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Reply(json=fx.CHAT_TOOL_CALLS))
    provider = ollama(upstream)
    request = ChatRequest("ollama/qwen3:8b", (
        Message(Role.USER, (TextPart("Temperature in Paris?"),)),
        Message(Role.ASSISTANT, (ToolCallPart("call_x", "get_temperature",
                                              '{"city": "Paris"}'),)),
        Message(Role.TOOL, (ToolResultPart("call_x", (TextPart("18C"),), "get_temperature"),)),
        Message(Role.USER, (TextPart("And New York, with conditions?"),)),
    ), tools=(FunctionTool("get_temperature", "Temperature", {"type": "object"}),
              FunctionTool("get_conditions")))
    response = await provider.chat(request, ctx("qwen3:8b"))
    body = upstream.wait_for_exchange().request.json()
    assert body["messages"] == [
        {"role": "user", "content": "Temperature in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_x", "function": {"index": 0, "name": "get_temperature",
                                          "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "18C", "tool_name": "get_temperature",
         "tool_call_id": "call_x"},
        {"role": "user", "content": "And New York, with conditions?"},
    ]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_temperature",
                                                              "get_conditions"]
    assert response.message.parts == (
        ReasoningPart("The user wants both; call both tools."),
        ToolCallPart("call_h7k2m9qa", "get_temperature", '{"city":"New York"}'),
        ToolCallPart("call_p3x8z1wd", "get_conditions",
                     '{"city":"New York","units":{"system":"metric"}}'))
    assert response.finish_reason is FinishReason.TOOL_CALLS
    await provider.aclose()


async def test_image_input_and_json_schema_output(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Reply(json={**fx.CHAT_TEXT, "message": {
        "role": "assistant", "content": '{"animal": "pig"}'}}))
    provider = ollama(upstream)
    schema = {"type": "object", "properties": {"animal": {"type": "string"}},
              "required": ["animal"]}
    request = ChatRequest("ollama/gemma3", (Message(Role.USER, (
        TextPart("What is in this image?"), ImagePart("image/png", data=b"\x89PNG\r\n")),),),
        response_format=JsonSchemaFormat(schema, name="animal"))
    response = await provider.chat(request, ctx("gemma3"))
    body = upstream.wait_for_exchange().request.json()
    assert body["messages"] == [{"role": "user", "content": "What is in this image?",
                                 "images": ["iVBORw0K"]}]
    assert body["format"] == schema
    assert response.message.parts == (TextPart('{"animal": "pig"}'),)
    await provider.aclose()


async def test_reasoning_is_sent_back_as_thinking(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Reply(json=fx.CHAT_THINKING))
    provider = ollama(upstream)
    first = await provider.chat(hello("How many r in strawberry?",
                                      reasoning=ReasoningConfig(include_thoughts=True)),
                                ctx("qwen3:8b"))
    assert upstream.wait_for_exchange().request.json()["think"] is True
    assert first.usage == Usage(17, 64, cached_input_tokens=12)
    follow_up = ChatRequest("ollama/qwen3:8b", (
        Message(Role.USER, (TextPart("How many r in strawberry?"),)), first.message,
        Message(Role.USER, (TextPart("And in raspberry?"),))))
    await provider.chat(follow_up, ctx("qwen3:8b"))
    assert upstream.wait_for_exchange(2).request.json()["messages"][1] == {
        "role": "assistant", "content": "There are 3 letter r in strawberry.",
        "thinking": "s-t-r-a-w-b-e-r-r-y: r at 3, 8 and 9."}
    await provider.aclose()


async def test_unary_answer_must_be_complete(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Reply(json={**fx.CHAT_TEXT, "done": False}))
    provider = ollama(upstream)
    with pytest.raises(e.UpstreamProtocolError):
        await provider.chat(hello(), ctx("gemma3"))
    await provider.aclose()


# --- streams --------------------------------------------------------------------


async def test_stream_events_and_request(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, ndjson_stream(fx.STREAM_TEXT))
    provider = ollama(upstream)
    events = await collect(provider, hello())
    assert upstream.wait_for_exchange().request.json()["stream"] is True
    usage = Usage(26, 282)
    assert events == [StreamStart("", "qwen3:8b", "rid-7"), TextDelta(0, "The"),
                      TextDelta(0, " sky is"), TextDelta(0, " blue."), UsageUpdate(usage),
                      StreamDone(FinishReason.STOP, "stop", usage=usage)]
    await provider.aclose()


async def test_stream_with_thinking_and_whole_tool_calls(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, ndjson_stream(fx.STREAM_TOOL_CALLS))
    provider = ollama(upstream)
    rebuilt = accumulate(await collect(provider, hello(tools=(FunctionTool("get_temperature"),))))
    assert rebuilt.message.parts == (
        ReasoningPart("Need the temperature in both cities."),
        ToolCallPart("call_a1", "get_temperature", '{"city":"New York"}'),
        ToolCallPart("call_b2", "get_temperature", '{"city":"London"}'))
    assert (rebuilt.finish_reason, rebuilt.usage) == (FinishReason.TOOL_CALLS, Usage(90, 45))
    await provider.aclose()


@pytest.mark.parametrize("raw, reason", [("stop", FinishReason.STOP),
                                         ("length", FinishReason.LENGTH),
                                         ("unload", FinishReason.OTHER)])
async def test_stream_finish_reasons(upstream: FakeUpstream, raw: str,
                                     reason: FinishReason) -> None:
    upstream.on("POST", CHAT, ndjson_stream([fx.chunk("a"), fx.last(raw)]))
    provider = ollama(upstream)
    done = (await collect(provider, hello()))[-1]
    assert isinstance(done, StreamDone)
    assert (done.finish_reason, done.provider_finish_reason) == (reason, raw)
    await provider.aclose()


async def test_ndjson_framing_over_the_wire(upstream: FakeUpstream) -> None:
    # Lines split across writes (one inside a multi-byte character), several
    # lines in one write, CRLF line ends, a blank line, and a last line
    # without its newline.
    lines = [fx.chunk("Gr\u00fc\u00df"), fx.chunk(" dich"), fx.last("stop", prompt=3, output=2)]
    data = ("\r\n".join(json.dumps(line, ensure_ascii=False) for line in lines)).encode()
    data = data.replace(b"\r\n", b"\r\n\r\n", 1)
    cut = data.index("\u00fc".encode()) + 1
    cuts = [0, 5, cut, cut + 40, len(data) - 10, len(data)]
    chunks: list = [data[a:b] for a, b in itertools.pairwise(cuts)]
    upstream.on("POST", CHAT, Stream(chunks, headers=fx.NDJSON_HEADERS))
    provider = ollama(upstream)
    events = await collect(provider, hello())
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == ["Gr\u00fc\u00df", " dich"]
    assert events[-1] == StreamDone(FinishReason.STOP, "stop", usage=Usage(3, 2))
    await provider.aclose()


async def test_events_are_forwarded_before_the_upstream_finishes(upstream: FakeUpstream) -> None:
    gate = Gate()
    lines = fx.ndjson(*fx.STREAM_TEXT)
    upstream.on("POST", CHAT, Stream([*lines[:1], gate, *lines[1:]],
                                     headers=fx.NDJSON_HEADERS))
    provider = ollama(upstream)
    stream = provider.stream(hello(), ctx("qwen3:8b"))
    assert isinstance(await stream.__anext__(), StreamStart)
    assert await stream.__anext__() == TextDelta(0, "The")  # while the upstream is held
    assert not upstream.wait_for_exchange().finished.is_set()
    gate.open()
    rest = [ev async for ev in stream]
    assert isinstance(rest[-1], StreamDone)
    await provider.aclose()


async def test_cancelling_a_stream_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, ndjson_stream(fx.STREAM_TEXT[:1], hold_open=True))
    provider = ollama(upstream)

    await assert_cancel_closes_upstream(upstream, provider.stream(hello(), ctx("qwen3:8b")))
    await provider.aclose()


@pytest.mark.parametrize("chunks", [
    fx.ndjson(fx.chunk("The"), fx.chunk(" sky")),  # EOF without done: true
    [b'{"model": "qwen3:8b", "message": {"content": "x"}, "done": fal'],  # cut mid-line
    [b"{not json\n"],
    [b"[1, 2]\n"],
])
async def test_truncated_or_malformed_streams(upstream: FakeUpstream, chunks: list) -> None:
    upstream.on("POST", CHAT, Stream(chunks, headers=fx.NDJSON_HEADERS))
    provider = ollama(upstream)
    with pytest.raises(e.UpstreamProtocolError):
        await collect(provider, hello())
    await provider.aclose()


async def test_in_stream_error_after_events(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, ndjson_stream([fx.chunk("Hel"), fx.ERROR_IN_STREAM]))
    provider = ollama(upstream)
    seen = []
    with pytest.raises(e.UpstreamFailure) as exc:
        async for ev in provider.stream(hello(), ctx("qwen3:8b")):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "TextDelta"]
    assert exc.value.message == "ollama: an error was encountered while running the model"
    assert exc.value.metadata["upstream_request_id"] == "rid-7"
    await provider.aclose()


async def test_in_stream_context_length_error(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, ndjson_stream([fx.ERROR_CONTEXT]))
    provider = ollama(upstream)
    with pytest.raises(e.ContextLengthExceeded):
        await collect(provider, hello())
    await provider.aclose()


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize("status, body, headers, error, retry", [
    (404, fx.ERROR_MODEL_NOT_FOUND, {}, e.UpstreamModelNotFound, None),
    (400, fx.ERROR_BAD_REQUEST, {}, e.UpstreamInvalidRequest, None),
    (400, fx.ERROR_CONTEXT, {}, e.ContextLengthExceeded, None),
    # Older servers answer an over-long input with 500.
    (500, fx.ERROR_CONTEXT, {}, e.ContextLengthExceeded, None),
    (500, fx.ERROR_SERVER, {"x-request-id": "rid-500"}, e.UpstreamFailure, None),
    # ErrMaxQueue (OLLAMA_MAX_QUEUE reached).
    (503, {"error": "server busy, please try again.  maximum pending requests exceeded"}, {},
     e.UpstreamUnavailable, 1.0),
    # Behind a proxy, or Ollama's cloud.
    (429, {"error": "too many requests"}, {"retry-after": "3"}, e.UpstreamRateLimited, 3.0),
    (401, {"error": "unauthorized"}, {}, e.UpstreamAuthFailed, None),
    (502, b"<html>bad gateway</html>", {}, e.UpstreamUnavailable, 1.0),
])
async def test_error_statuses(upstream: FakeUpstream, status: int, body: object,
                              headers: dict, error: type, retry: float | None) -> None:
    reply = (Reply(status, body=body, headers={"content-type": "text/html", **headers})
             if isinstance(body, bytes) else Reply(status, json=body, headers=headers))
    upstream.on("POST", CHAT, reply)
    provider = ollama(upstream)
    with pytest.raises(error) as exc:
        await provider.chat(hello(), ctx("llama9"))
    assert type(exc.value) is error
    assert exc.value.retry_after == retry
    assert exc.value.metadata["upstream_status"] == str(status)
    assert exc.value.metadata["provider"] == "ollama"
    assert exc.value.metadata["model"] == "llama9"
    if isinstance(body, dict):
        assert exc.value.message == f"ollama: {body['error']}"
    if "x-request-id" in headers:
        assert exc.value.metadata["upstream_request_id"] == headers["x-request-id"]
    # The same mapping applies before a stream starts.
    with pytest.raises(error):
        await collect(provider, hello())
    await provider.aclose()


async def test_connection_failures(upstream: FakeUpstream) -> None:
    upstream.on("POST", CHAT, Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"))
    provider = ollama(upstream)
    with pytest.raises(e.UpstreamFailure):
        await provider.chat(hello(), ctx("gemma3"))
    await provider.aclose()
    closed = make_provider("ollama", upstream, base_url="http://127.0.0.1:9")
    with pytest.raises(e.UpstreamUnreachable):
        await closed.chat(hello(), ctx("gemma3"))
    await closed.aclose()


# --- embeddings -------------------------------------------------------------------


async def test_embeddings_in_order(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/embed", Reply(json=fx.EMBED))
    provider = ollama(upstream)
    response = await provider.embed(
        EmbedRequest("x", ("Why is the sky blue?", "Why is the grass green?"), dimensions=5,
                     provider_options={"ollama": {"keep_alive": "1m"}}), ctx("all-minilm"))
    assert upstream.wait_for_exchange().request.json() == {
        "model": "all-minilm", "input": ["Why is the sky blue?", "Why is the grass green?"],
        "dimensions": 5, "keep_alive": "1m"}
    assert response.vectors == tuple(tuple(v) for v in fx.EMBED["embeddings"])
    assert response.usage.input_tokens == 8
    with pytest.raises(e.UnsupportedFeature, match="task types"):
        await provider.embed(EmbedRequest("x", ("a",), task=EmbeddingTask.CLUSTERING),
                             ctx("all-minilm"))
    await provider.aclose()


async def test_embedding_context_error(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/embed", Reply(500, json=fx.ERROR_CONTEXT))
    provider = ollama(upstream)
    with pytest.raises(e.ContextLengthExceeded) as exc:
        await provider.embed(EmbedRequest("x", ("long",)), ctx("all-minilm"))
    assert exc.value.metadata["upstream_status"] == "500"
    await provider.aclose()
