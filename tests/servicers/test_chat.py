"""ChatService through a real in-process server and channel (echo provider)."""

import grpc
import pytest
from llm_gateway_client import reassemble as rebuild
from llmgateway.v1 import chat_pb2, chat_pb2_grpc, common_pb2, generation_pb2

from tests.support.grpc_helpers import chat_input, rich_error

REQUIRED = generation_pb2.ToolChoice(mode=generation_pb2.ToolChoice.MODE_REQUIRED)
TOOLS = [generation_pb2.Tool(function=generation_pb2.FunctionTool(name="get_weather")),
         generation_pb2.Tool(function=generation_pb2.FunctionTool(name="get_time"))]


async def test_chat_via_alias(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    reply = await stub.Chat(chat_pb2.ChatRequest(
        input=chat_input("fast", "hi there"),
        metadata=common_pb2.RequestMetadata(request_id="my-request")))
    assert reply.message.parts[0].text == "hi there"
    assert (reply.provider, reply.model, reply.request_id) == ("echo", "echo", "my-request")
    assert reply.finish_reason == common_pb2.FINISH_REASON_STOP
    assert reply.usage.total_tokens == 4


async def test_stream_rebuilds_exactly_the_unary_reply(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    for extra in ({}, {"tools": TOOLS, "tool_choice": REQUIRED},
                  {"reasoning": generation_pb2.ReasoningConfig(budget_tokens=10)}):
        inp = chat_input("echo", "one two three four", **extra)
        meta = common_pb2.RequestMetadata(request_id="same")
        unary = await stub.Chat(chat_pb2.ChatRequest(input=inp, metadata=meta))
        events = [e async for e in stub.StreamChat(
            chat_pb2.StreamChatRequest(input=inp, metadata=meta))]
        kinds = [e.WhichOneof("event") for e in events]
        assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("done") == 1
        assert rebuild(events) == unary


async def test_stream_failure_after_events_ends_with_status(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    inp = chat_input("echo", "a b c d e f", provider_options=common_pb2.ProviderOptions(
        json_by_provider={"echo": '{"fail": "unavailable", "fail_after_events": 3}'}))
    received, text = [], ""
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        async for event in stub.StreamChat(chat_pb2.StreamChatRequest(input=inp)):
            received.append(event.WhichOneof("event"))
            text += event.text_delta.text
    # The two deltas sent before the failure arrive (possibly as one message:
    # deltas ready together are coalesced), then the error status.
    assert received[0] == "start" and set(received[1:]) == {"text_delta"}
    assert text == "a b "
    err = rich_error(exc.value)
    assert err.code == grpc.StatusCode.UNAVAILABLE
    assert err.reason == "UPSTREAM_UNAVAILABLE" and err.metadata["provider"] == "echo"
    assert err.retry_delay == 1.0


async def test_errors_carry_rich_details(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Chat(chat_pb2.ChatRequest(input=chat_input("nope/model")))
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND")
    assert err.metadata == {"model": "nope/model"} and err.request_id

    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Chat(chat_pb2.ChatRequest(input=chat_pb2.ChatInput(model="echo")))
    err = rich_error(exc.value)
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert err.violations == [("input.messages", "at least one message is required")]

    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Chat(chat_pb2.ChatRequest(input=chat_input("echo/echo-embed")))
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.UNIMPLEMENTED, "UNSUPPORTED_OPERATION")
    assert err.metadata == {"provider": "echo", "operation": "chat"}

    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Chat(chat_pb2.ChatRequest(input=chat_input(
            "echo", provider_options=common_pb2.ProviderOptions(
                json_by_provider={"echo": '{"fail": "rate_limited"}'}))))
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED,
                                      "UPSTREAM_RATE_LIMITED")
    assert err.retry_delay == 2.0 and err.metadata["upstream_status"] == "429"


async def test_count_tokens(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    reply = await stub.CountTokens(chat_pb2.CountTokensRequest(
        input=chat_input("echo", "count these four words")))
    assert reply.input_tokens == 4
    assert reply.method == chat_pb2.CountTokensResponse.METHOD_BUILTIN
    assert (reply.provider, reply.model) == ("echo", "echo")


async def test_batch_isolates_failures_and_tags_results(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    items = [chat_pb2.BatchChatItem(id=f"ok-{i}", input=chat_input("echo", f"item {i}"))
             for i in range(5)]
    items.insert(2, chat_pb2.BatchChatItem(id="missing", input=chat_input("ghost")))
    items.insert(4, chat_pb2.BatchChatItem(id="invalid", input=chat_pb2.ChatInput(model="echo")))
    results = [r async for r in stub.BatchChat(chat_pb2.BatchChatRequest(
        items=items, max_concurrency=2, metadata=common_pb2.RequestMetadata(request_id="b1")))]
    by_id = {r.id: r for r in results}
    assert len(results) == len(by_id) == 7
    for i in range(5):
        assert by_id[f"ok-{i}"].response.message.parts[0].text == f"item {i}"
    assert by_id["ok-0"].response.request_id == "b1.0"
    missing, invalid = by_id["missing"].error, by_id["invalid"].error
    assert (missing.code, missing.reason, missing.request_id) == (
        grpc.StatusCode.NOT_FOUND.value[0], "MODEL_NOT_FOUND", "b1.2")
    assert not missing.field_violations
    # An invalid item carries its field violations, as a failed call's BadRequest would.
    assert (invalid.code, invalid.reason, invalid.request_id) == (
        grpc.StatusCode.INVALID_ARGUMENT.value[0], "INVALID_REQUEST", "b1.4")
    assert [(v.field, v.description) for v in invalid.field_violations] == [
        ("items[4].input.messages", "at least one message is required")]


async def test_batch_level_validation(channel: grpc.aio.Channel) -> None:
    stub = chat_pb2_grpc.ChatServiceStub(channel)
    item = chat_pb2.BatchChatItem(id="same", input=chat_input("echo"))
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        async for _ in stub.BatchChat(chat_pb2.BatchChatRequest(items=[item, item],
                                                               max_concurrency=500)):
            pass
    err = rich_error(exc.value)
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {f for f, _ in err.violations} == {"items[1].id", "max_concurrency"}
