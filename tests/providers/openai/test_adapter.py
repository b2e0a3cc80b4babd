"""The OpenAI-family adapter over real HTTP to the fake upstream: the exact
request it sends and the exact neutral result it returns."""

import itertools

import pytest
from llm_gateway.core import errors as e
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest
from llm_gateway.core.events import StreamDone, TextDelta
from llm_gateway.core.types import ChatRequest, FinishReason, Message, Role, TextPart, Usage

from tests.fixtures import openai as fx
from tests.support.fake_upstream import FakeUpstream, Gate, Raw, Reply, Stream, sse
from tests.support.providers import assert_cancel_closes_upstream, ctx, make_provider

KEY = "sk-test-0123456789abcdef"


def hello() -> ChatRequest:
    return ChatRequest("openai/gpt-4.1", (Message(Role.USER, (TextPart("Hello"),)),))


async def test_chat_request_and_result(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/chat/completions",
                Reply(json=fx.CHAT_TEXT, headers={"x-request-id": "req_abc"}))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    response = await provider.chat(hello(), ctx("gpt-4.1"))
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {"model": "gpt-4.1",
                           "messages": [{"role": "user", "content": "Hello"}]}
    assert response.message.parts == (TextPart("Hello! How can I assist you today?"),)
    assert response.upstream_request_id == "req_abc"
    assert response.usage == Usage(19, 10, cached_input_tokens=0, reasoning_tokens=0)
    await provider.aclose()


async def test_stream_equals_the_events_and_rebuilds(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/chat/completions", Stream(sse(*fx.STREAM_TOOL_CALLS)))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    events = [ev async for ev in provider.stream(hello(), ctx("gpt-4.1"))]
    body = upstream.wait_for_exchange().request.json()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    rebuilt = accumulate(events)
    assert [p.name for p in rebuilt.message.parts] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert rebuilt.finish_reason is FinishReason.TOOL_CALLS
    assert rebuilt.usage.total_tokens == 21
    await provider.aclose()


async def test_sse_framing_edge_cases_over_the_wire(upstream: FakeUpstream) -> None:
    # Events split across TCP writes (one of them between \r and \n), CRLF
    # line ends and a comment line. (Multi-line data fields are covered by the
    # framing unit tests: OpenAI never sends them.)
    frames = b"".join(sse(*fx.STREAM_TEXT)).replace(b"\n", b"\r\n")
    frames = b": keep-alive\r\n\r\n" + frames
    cuts = [0, 7, 40, 41, 120, len(frames)]
    chunks: list = [frames[a:b] for a, b in itertools.pairwise(cuts)]
    upstream.on("POST", "/v1/chat/completions", Stream(chunks))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    events = [ev async for ev in provider.stream(hello(), ctx("gpt-4.1"))]
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == ["Hello", " there"]
    assert isinstance(events[-1], StreamDone) and events[-1].finish_reason is FinishReason.STOP
    await provider.aclose()


async def test_events_are_forwarded_before_the_upstream_finishes(upstream: FakeUpstream) -> None:
    gate = Gate()
    frames = sse(*fx.STREAM_TEXT)
    upstream.on("POST", "/v1/chat/completions", Stream([*frames[:2], gate, *frames[2:]]))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    stream = provider.stream(hello(), ctx("gpt-4.1"))
    await stream.__anext__()  # start
    first = await stream.__anext__()
    assert first == TextDelta(0, "Hello")  # arrived while the upstream is held
    assert not upstream.wait_for_exchange().finished.is_set()
    gate.open()
    rest = [ev async for ev in stream]
    assert isinstance(rest[-1], StreamDone)
    await provider.aclose()


async def test_cancelling_a_stream_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/chat/completions",
                Stream(sse(*fx.STREAM_TEXT[:2]), hold_open=True))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)

    await assert_cancel_closes_upstream(upstream, provider.stream(hello(), ctx("gpt-4.1")))
    await provider.aclose()


@pytest.mark.parametrize("status, body, headers, error, retry", [
    (429, fx.ERROR_RATE_LIMIT, {"retry-after-ms": "1500", "x-request-id": "req_r"},
     e.UpstreamRateLimited, 1.5),
    (429, fx.ERROR_RATE_LIMIT, {"retry-after": "3"}, e.UpstreamRateLimited, 3.0),
    (429, fx.ERROR_QUOTA, {"retry-after": "3"}, e.UpstreamBillingFailed, None),
    # The error type says billing, whatever new code OpenAI puts beside it.
    (429, {"error": {**fx.ERROR_QUOTA["error"], "code": "a_code_from_next_year"}}, {},
     e.UpstreamBillingFailed, None),
    (400, fx.ERROR_CONTEXT, {}, e.ContextLengthExceeded, None),
    (401, fx.ERROR_BAD_KEY, {}, e.UpstreamAuthFailed, None),
    (404, fx.ERROR_MODEL, {}, e.UpstreamModelNotFound, None),
    (500, fx.ERROR_SERVER, {}, e.UpstreamFailure, None),
    (503, {"error": {"message": "overloaded"}}, {}, e.UpstreamUnavailable, 1.0),
    (504, b"<html>gateway timeout</html>", {}, e.UpstreamTimeout, None),
])
async def test_error_statuses(upstream: FakeUpstream, status: int, body: object,
                              headers: dict, error: type, retry: float | None) -> None:
    reply = (Reply(status, body=body, headers={"content-type": "text/html", **headers})
             if isinstance(body, bytes) else Reply(status, json=body, headers=headers))
    upstream.on("POST", "/v1/chat/completions", reply)
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    with pytest.raises(error) as exc:
        await provider.chat(hello(), ctx("gpt-4.1"))
    assert exc.value.retry_after == retry
    assert exc.value.metadata["upstream_status"] == str(status)
    assert exc.value.metadata["provider"] == "openai"
    assert KEY not in exc.value.message
    if "x-request-id" in headers:
        assert exc.value.metadata["upstream_request_id"] == headers["x-request-id"]
    # The same mapping applies before a stream starts.
    with pytest.raises(error):
        async for _ in provider.stream(hello(), ctx("gpt-4.1")):
            pass
    await provider.aclose()


async def test_in_stream_error_after_events(upstream: FakeUpstream) -> None:
    frames = sse(fx.chunk({"content": "Hel"}), {"error": {
        "message": "The server is overloaded", "type": "server_overloaded"}})
    upstream.on("POST", "/v1/chat/completions", Stream(frames))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    seen = []
    with pytest.raises(e.UpstreamUnavailable):
        async for ev in provider.stream(hello(), ctx("gpt-4.1")):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "TextDelta"]
    await provider.aclose()


async def test_a_read_of_many_events(upstream: FakeUpstream) -> None:
    # The whole stream in one read, as a fast upstream sends it.
    upstream.on("POST", "/v1/chat/completions", Stream([b"".join(sse(*fx.STREAM_TOOL_CALLS))]))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    events = [ev async for ev in provider.stream(hello(), ctx("gpt-4.1"))]
    rebuilt = accumulate(events)
    assert [(p.name, p.arguments_json) for p in rebuilt.message.parts] == [  # type: ignore[union-attr]
        ("get_weather", '{"location": "Paris"}'), ("get_time", "{}")]
    assert rebuilt.finish_reason is FinishReason.TOOL_CALLS and rebuilt.usage.total_tokens == 21
    await provider.aclose()


TEXT = fx.chunk({"content": "Hel"})


@pytest.mark.parametrize("frame, error", [
    (sse(TEXT, fx.chunk({"content": "lo"}), {"error": {
        "message": "The server is overloaded", "type": "server_overloaded"}}, TEXT),
     e.UpstreamUnavailable),
    ([*sse(TEXT, fx.chunk({"content": "lo"})), b"data: {not json\n\n", *sse(TEXT)],
     e.UpstreamProtocolError),
    (sse(TEXT, fx.chunk({"content": "lo"}), [1, 2], TEXT), e.UpstreamProtocolError),
    # A chunk of an unexpected shape (choices that are not a list of objects).
    (sse(TEXT, fx.chunk({"content": "lo"}), {"choices": "not a list"}, TEXT),
     e.UpstreamProtocolError),
])
async def test_an_error_within_a_read_comes_after_the_events_before_it(
        upstream: FakeUpstream, frame: list[bytes], error: type) -> None:
    upstream.on("POST", "/v1/chat/completions", Stream([b"".join(frame)]))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    seen = []
    with pytest.raises(error):
        async for ev in provider.stream(hello(), ctx("gpt-4.1")):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "TextDelta", "TextDelta"]
    assert "".join(ev.text for ev in seen if isinstance(ev, TextDelta)) == "Hello"
    await provider.aclose()


async def test_a_connection_lost_mid_stream_is_an_upstream_failure(
        upstream: FakeUpstream) -> None:
    event = sse(TEXT)[0]
    head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n")
    upstream.on("POST", "/v1/chat/completions",
                Raw(head + b"%x\r\n%s\r\n" % (len(event), event)))  # then the connection closes
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    seen = []
    with pytest.raises(e.UpstreamFailure, match="mid-response"):
        async for ev in provider.stream(hello(), ctx("gpt-4.1")):
            seen.append(ev)
    assert [type(ev).__name__ for ev in seen] == ["StreamStart", "TextDelta"]
    await provider.aclose()


async def test_nothing_after_done_within_a_read(upstream: FakeUpstream) -> None:
    frame = b"".join(sse(*fx.STREAM_TEXT, fx.chunk({"content": "after the end"})))
    upstream.on("POST", "/v1/chat/completions", Stream([frame]))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    events = [ev async for ev in provider.stream(hello(), ctx("gpt-4.1"))]
    assert "".join(ev.text for ev in events if isinstance(ev, TextDelta)) == "Hello there"
    assert isinstance(events[-1], StreamDone) and events[-1].usage.total_tokens == 21
    await provider.aclose()


@pytest.mark.parametrize("frames, error", [
    (sse(fx.chunk({"content": "Hel"})), e.UpstreamProtocolError),  # no finish, no [DONE]
    ([b"data: {not json\n\n"], e.UpstreamProtocolError),
])
async def test_truncated_or_malformed_streams(upstream: FakeUpstream, frames: list,
                                              error: type) -> None:
    upstream.on("POST", "/v1/chat/completions", Stream(frames))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    with pytest.raises(error):
        async for _ in provider.stream(hello(), ctx("gpt-4.1")):
            pass
    await provider.aclose()


async def test_connection_failures(upstream: FakeUpstream) -> None:
    truncated = b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"
    upstream.on("POST", "/v1/chat/completions", Raw(truncated))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    with pytest.raises(e.UpstreamFailure):
        await provider.chat(hello(), ctx("gpt-4.1"))
    await provider.aclose()
    # Nothing listens on port 9 (discard) on loopback.
    closed = make_provider("vllm", upstream, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(e.UpstreamUnreachable):
        await closed.chat(hello(), ctx("m"))
    await closed.aclose()


async def test_azure_deployments(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/openai/deployments/prod-gpt4o/chat/completions",
                Reply(json=fx.CHAT_TEXT, headers={"apim-request-id": "az-1"}))
    provider = make_provider("azure_openai", upstream, api_key=KEY, api_version="2024-10-21",
                             deployments={"gpt-4o": "prod-gpt4o"})
    response = await provider.chat(hello(), ctx("gpt-4o"))
    sent = upstream.wait_for_exchange().request
    assert sent.query == {"api-version": ["2024-10-21"]}
    assert sent.headers["api-key"] == KEY and "authorization" not in sent.headers
    assert response.upstream_request_id == "az-1"
    await provider.aclose()


async def test_embeddings_in_order(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/embeddings", Reply(json=fx.EMBEDDINGS))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY)
    response = await provider.embed(EmbedRequest("x", ("first", "second"), dimensions=3),
                                    ctx("text-embedding-3-small"))
    assert upstream.wait_for_exchange().request.json() == {
        "model": "text-embedding-3-small", "input": ["first", "second"],
        "encoding_format": "float", "dimensions": 3}
    assert response.vectors == ((0.0023064255, -0.009327292, 0.1), (0.5, -0.25, 0.125))
    assert response.usage.input_tokens == 8
    with pytest.raises(e.UnsupportedFeature, match="task types"):
        await provider.embed(EmbedRequest("x", ("a",), task=EmbeddingTask.CLUSTERING),
                             ctx("text-embedding-3-small"))
    await provider.aclose()


async def test_model_discovery(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/v1/models", Reply(json=fx.MODELS))
    provider = make_provider("openai", upstream, path="/v1", api_key=KEY, discover_models=True)
    await provider.refresh_models()
    models = {m.id: m for m in provider.listed_models()}
    assert set(models) == {"gpt-4.1-mini", "text-embedding-3-small"}
    assert models["text-embedding-3-small"].capabilities.embeddings
    assert models["gpt-4.1-mini"].capabilities.tools
    await provider.aclose()
