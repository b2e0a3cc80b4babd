"""CompletionService through a real in-process server (echo provider)."""

import grpc
import pytest
from llmgateway.v1 import common_pb2, completions_pb2, completions_pb2_grpc, generation_pb2

from tests.support.grpc_helpers import rich_error
from tests.support.inprocess import serving


def completion_input(*prompts: str, **fields: object) -> completions_pb2.CompletionInput:
    return completions_pb2.CompletionInput(model="echo", prompts=list(prompts),
                                           **fields)  # type: ignore[arg-type]


async def test_complete_several_prompts(channel: grpc.aio.Channel) -> None:
    stub = completions_pb2_grpc.CompletionServiceStub(channel)
    reply = await stub.Complete(completions_pb2.CompleteRequest(input=completion_input(
        "one two", "three four five", echo=True,
        generation=generation_pb2.GenerationConfig(max_output_tokens=2))))
    assert [(c.index, c.text) for c in reply.choices] == [
        (0, "one twoone two"), (1, "three four fivethree four")]
    assert [c.finish_reason for c in reply.choices] == [
        common_pb2.FINISH_REASON_STOP, common_pb2.FINISH_REASON_LENGTH]
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (5, 4)
    assert reply.provider == "echo" and reply.request_id


async def test_stream_complete_rebuilds_the_unary_reply(channel: grpc.aio.Channel) -> None:
    stub = completions_pb2_grpc.CompletionServiceStub(channel)
    inp = completion_input("a b c", "d e")
    unary = await stub.Complete(completions_pb2.CompleteRequest(input=inp))
    events = [e async for e in stub.StreamComplete(completions_pb2.StreamCompleteRequest(
        input=inp))]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("done") == 1
    texts: dict[int, str] = {}
    for e in events:
        if e.HasField("delta"):
            texts[e.delta.index] = texts.get(e.delta.index, "") + e.delta.text
    assert texts == {c.index: c.text for c in unary.choices}
    assert events[-1].done.usage == unary.usage


async def test_validation_and_refusal() -> None:
    config = {"server": {"drain_seconds": 0},
              "providers": {"echo": {}, "groq": {"api_key": "k", "models": ["llama"]}}}
    async with serving(config) as channel:
        stub = completions_pb2_grpc.CompletionServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub.Complete(completions_pb2.CompleteRequest(
                input=completions_pb2.CompletionInput(model="echo", logprobs=99)))
        err = rich_error(exc.value)
        assert {f for f, _ in err.violations} == {"input.prompts", "input.logprobs"}
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub.Complete(completions_pb2.CompleteRequest(
                input=completions_pb2.CompletionInput(model="groq/llama", prompts=["x"])))
        err = rich_error(exc.value)
        assert (err.code, err.reason) == (grpc.StatusCode.UNIMPLEMENTED, "UNSUPPORTED_OPERATION")
        assert err.metadata == {"provider": "groq", "operation": "text completion"}
