"""The scenarios of clients/TESTING.md against the live gateway."""

import asyncio
import time

import grpc
import pytest
from llm_gateway_client import (
    GatewayClient,
    GatewayError,
    areassemble,
    areassemble_completion,
    chat_input,
    user,
)
from llmgateway.v1 import chat_pb2, common_pb2, completions_pb2, generation_pb2

TOOLS = [generation_pb2.Tool(function=generation_pb2.FunctionTool(name="get_weather")),
         generation_pb2.Tool(function=generation_pb2.FunctionTool(name="get_time"))]
REQUIRED = generation_pb2.ToolChoice(mode=generation_pb2.ToolChoice.MODE_REQUIRED)


def options(json: str) -> common_pb2.ProviderOptions:
    return common_pb2.ProviderOptions(json_by_provider={"echo": json})


async def test_1_unary_chat(gw: GatewayClient) -> None:
    reply = await gw.chat(chat_input("fast", user("hello from python")))
    assert reply.message.parts[0].text == "hello from python"
    assert reply.finish_reason == common_pb2.FINISH_REASON_STOP
    assert reply.provider == "echo" and reply.request_id
    assert reply.usage.total_tokens == 6


async def test_2a_stream_reassembled_equals_unary(gw: GatewayClient) -> None:
    inp = chat_input("echo", user("stream test"), tools=TOOLS, tool_choice=REQUIRED)
    events = [e async for e in gw.stream(inp)]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("done") == 1

    async def replay():  # type: ignore[no-untyped-def]
        for e in events:
            yield e

    rebuilt = await areassemble(replay())
    calls = [p.tool_call for p in rebuilt.message.parts]
    assert [(c.name, c.arguments_json) for c in calls] == [
        ("get_weather", '{"text":"stream test"}'), ("get_time", '{"text":"stream test"}')]
    assert rebuilt.finish_reason == common_pb2.FINISH_REASON_TOOL_CALLS
    unary = await gw.chat(inp)
    for r in (rebuilt, unary):
        r.request_id = r.upstream_request_id = ""
    assert rebuilt == unary


async def test_2b_stream_from_an_upstream(gw: GatewayClient) -> None:
    rebuilt = await areassemble(gw.stream(chat_input("smart", user("weather?"))))
    calls = [(p.tool_call.name, p.tool_call.arguments_json) for p in rebuilt.message.parts]
    assert calls == [("get_weather", '{"location": "Paris"}'), ("get_time", "{}")]
    assert rebuilt.finish_reason == common_pb2.FINISH_REASON_TOOL_CALLS
    assert (rebuilt.usage.input_tokens, rebuilt.usage.output_tokens) == (9, 12)
    assert rebuilt.provider == "fake"


async def test_3_embed(gw: GatewayClient) -> None:
    reply = await gw.embed("echo/echo-embed", ["a", "b", "a"])
    vectors = [list(e.values) for e in reply.embeddings]
    assert len(vectors) == 3 and all(len(v) == 16 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]


async def test_4_list_models_across_pages(gw: GatewayClient) -> None:
    names = [m.name async for m in gw.list_models(page_size=1)]
    assert names == ["echo/echo", "echo/echo-embed", "fake/gpt-4.1-mini",
                     "fake/text-embedding-3-small"]
    model = await gw.get_model("fast")
    assert model.name == "echo/echo" and list(model.aliases) == ["fast"]


async def test_5_health(gw: GatewayClient) -> None:
    assert await gw.health() and await gw.health("readiness")


async def test_6_not_found_with_details(gw: GatewayClient) -> None:
    with pytest.raises(GatewayError) as exc:
        await gw.chat(chat_input("no-such-model", user("hi")))
    err = exc.value
    assert (err.code, err.reason, err.domain) == (grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND",
                                                  "llmgateway")
    assert err.metadata["model"] == "no-such-model" and err.request_id


async def test_7_retry_delay(gw: GatewayClient) -> None:
    with pytest.raises(GatewayError) as exc:
        await gw.chat(chat_input("echo", user("hi"),
                                 provider_options=options('{"fail": "rate_limited"}')))
    err = exc.value
    assert (err.code, err.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "UPSTREAM_RATE_LIMITED")
    assert err.retry_delay == 2.0


async def test_8_deadline_exceeded(gw: GatewayClient) -> None:
    started = time.monotonic()
    with pytest.raises(GatewayError) as exc:
        await gw.chat(chat_input("echo", user("hi"),
                                 provider_options=options('{"delay_ms": 5000}')), timeout=0.2)
    assert exc.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 2


async def test_9_cancel_mid_stream(gw: GatewayClient) -> None:
    words = " ".join(f"w{i}" for i in range(50))
    inp = chat_input("echo", user(words), provider_options=options('{"chunk_delay_ms": 100}'))
    received = 0

    async def consume() -> None:
        nonlocal received
        async for _ in gw.stream(inp):
            received += 1
            if received == 3:
                started.set()

    started = asyncio.Event()
    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    begin = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - begin < 2 and received == 3
    assert (await gw.chat(chat_input("fast", user("still here")))).message.parts[0].text


async def test_10_invalid_request(gw: GatewayClient) -> None:
    with pytest.raises(GatewayError) as exc:
        await gw.chat(chat_input("echo"))
    err = exc.value
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in err.field_violations] == ["input.messages"]


async def test_11_count_tokens(gw: GatewayClient) -> None:
    reply = await gw.count_tokens(chat_input("echo", user("count these four words")))
    assert reply.input_tokens == 4
    assert reply.method == chat_pb2.CountTokensResponse.METHOD_BUILTIN
    assert (reply.provider, reply.model) == ("echo", "echo")


async def test_12_text_completion(gw: GatewayClient) -> None:
    inp = completions_pb2.CompletionInput(
        model="echo", prompts=["one two", "three four five"], echo=True,
        generation=generation_pb2.GenerationConfig(max_output_tokens=2))
    unary = await gw.complete(inp)
    assert [(c.index, c.text, c.finish_reason) for c in unary.choices] == [
        (0, "one twoone two", common_pb2.FINISH_REASON_STOP),
        (1, "three four fivethree four", common_pb2.FINISH_REASON_LENGTH)]
    assert (unary.usage.input_tokens, unary.usage.output_tokens) == (5, 4)
    assert unary.provider == "echo"
    events = [e async for e in gw.stream_complete(inp)]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("done") == 1

    async def replay():  # type: ignore[no-untyped-def]
        for e in events:
            yield e

    rebuilt = await areassemble_completion(replay())
    assert [(c.index, c.text, c.finish_reason) for c in rebuilt.choices] == [
        (c.index, c.text, c.finish_reason) for c in unary.choices]
    assert rebuilt.usage == unary.usage


async def test_13_batch(gw: GatewayClient) -> None:
    items = [("a", chat_input("echo", user("alpha"))),
             ("b", chat_input("no-such-model", user("beta"))),
             ("c", chat_input("fast", user("gamma")))]
    results = {item_id: result async for item_id, result in gw.batch_chat(
        items, max_concurrency=2)}
    assert set(results) == {"a", "b", "c"}
    a, b, c = results["a"], results["b"], results["c"]
    assert isinstance(a, chat_pb2.ChatResponse) and a.message.parts[0].text == "alpha"
    assert isinstance(c, chat_pb2.ChatResponse) and c.message.parts[0].text == "gamma"
    assert isinstance(b, GatewayError)
    assert (b.code, b.reason) == (grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND")
    # The item's request id: the call's, then the item's index.
    assert len(b.request_id) > 2 and b.request_id.endswith(".1")


async def test_14_connection_rotation(rotating_address: str) -> None:
    words = " ".join(f"w{i}" for i in range(50))
    inp = chat_input("echo", user(words), provider_options=options('{"chunk_delay_ms": 10}'))
    async with GatewayClient(rotating_address, api_key="test-key", timeout=30) as client:
        for n in (1, 2):
            # 40 events, 10 ms apart: past the GOAWAY; leaving the loop then
            # cancels the call, the connection's last.
            received = 0
            stream = client.stream(inp)
            async for _ in stream:
                received += 1
                if received == 40:
                    break
            await stream.aclose()
            assert received == 40
            reply = await client.chat(chat_input("echo", user(f"after rotation {n}")))
            assert reply.message.parts[0].text == f"after rotation {n}"
