import grpc
import pytest
from llmgateway.v1 import embeddings_pb2, embeddings_pb2_grpc

from tests.support.grpc_helpers import rich_error


def embed_request(model: str, *texts: str, **kwargs: object) -> embeddings_pb2.EmbedRequest:
    return embeddings_pb2.EmbedRequest(
        model=model, inputs=[embeddings_pb2.EmbedInput(text=t) for t in texts],
        **kwargs)  # type: ignore[arg-type]


async def test_embed_a_batch(channel: grpc.aio.Channel) -> None:
    stub = embeddings_pb2_grpc.EmbeddingServiceStub(channel)
    reply = await stub.Embed(embed_request("echo-embed", "a b", "c", "a b", dimensions=4))
    assert [e.index for e in reply.embeddings] == [0, 1, 2]
    assert all(len(e.values) == 4 for e in reply.embeddings)
    assert reply.embeddings[0].values == reply.embeddings[2].values
    assert reply.usage.input_tokens == 5
    assert (reply.provider, reply.model) == ("echo", "echo-embed")


async def test_embed_errors(channel: grpc.aio.Channel) -> None:
    stub = embeddings_pb2_grpc.EmbeddingServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Embed(embed_request("", dimensions=0))
    err = rich_error(exc.value)
    assert {f for f, _ in err.violations} == {"model", "inputs", "dimensions"}
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.Embed(embed_request("echo", "text"))
    err = rich_error(exc.value)
    assert (err.code, err.metadata) == (grpc.StatusCode.UNIMPLEMENTED,
                                        {"provider": "echo", "operation": "embeddings"})
