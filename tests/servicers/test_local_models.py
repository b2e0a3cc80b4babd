"""LocalModelService through a real in-process server and channel, with an
Ollama provider whose upstream is the fake: pull progress streamed as it
arrives, show, delete, their errors, and cancellation of a pull."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from llmgateway.v1 import local_models_pb2 as pb
from llmgateway.v1 import local_models_pb2_grpc

from tests.fixtures import ollama as fx
from tests.support.fake_upstream import FakeUpstream, Gate, Reply, Stream
from tests.support.grpc_helpers import rich_error
from tests.support.inprocess import serving


def config(upstream: FakeUpstream) -> dict[str, Any]:
    return {"server": {"drain_seconds": 0, "grace_seconds": 5},
            "providers": {"echo": {}, "local": {"type": "ollama", "base_url": upstream.url}}}


def stub(channel: grpc.aio.Channel) -> local_models_pb2_grpc.LocalModelServiceStub:
    return local_models_pb2_grpc.LocalModelServiceStub(channel)


async def test_pull_progress_is_forwarded_before_the_pull_finishes(
        upstream: FakeUpstream) -> None:
    gate = Gate()
    lines = fx.ndjson(*fx.PULL)
    upstream.on("POST", "/api/pull", Stream([*lines[:3], gate, *lines[3:]],
                                            headers=fx.NDJSON_HEADERS))
    async with serving(config(upstream)) as channel:
        call = stub(channel).PullModel(pb.PullModelRequest(provider="local", model="gemma3:1b",
                                                           insecure=True))
        first = [await call.read() for _ in range(3)]
        assert first == [
            pb.PullModelResponse(status="pulling manifest"),
            pb.PullModelResponse(status="pulling dde5aa3fc5ff", digest=fx.DIGEST,
                                 total=2019377376),
            pb.PullModelResponse(status="pulling dde5aa3fc5ff", digest=fx.DIGEST,
                                 total=2019377376, completed=241970),
        ]
        exchange = await asyncio.to_thread(upstream.wait_for_exchange)
        assert not exchange.finished.is_set()  # the upstream is still held
        assert exchange.request.json() == {"model": "gemma3:1b", "insecure": True,
                                           "stream": True}
        gate.open()
        rest = []
        while (response := await call.read()) is not grpc.aio.EOF:
            rest.append(response)
        assert [r.status for r in rest] == ["pulling dde5aa3fc5ff", "verifying sha256 digest",
                                           "writing manifest", "success"]
        assert await call.code() == grpc.StatusCode.OK


async def test_pull_of_an_unknown_model_is_not_found(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/pull", Stream(
        fx.ndjson({"status": "pulling manifest"}, fx.ERROR_PULL_UNKNOWN),
        headers=fx.NDJSON_HEADERS))
    async with serving(config(upstream)) as channel:
        call = stub(channel).PullModel(pb.PullModelRequest(provider="local", model="nope"))
        received = []
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            async for response in call:
                received.append(response.status)
    assert received == ["pulling manifest"]
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "UPSTREAM_MODEL_NOT_FOUND")
    assert err.metadata["provider"] == "local" and err.metadata["model"] == "nope"


async def test_cancelling_a_pull_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/pull", Stream(fx.ndjson(*fx.PULL[:2]), headers=fx.NDJSON_HEADERS,
                                            hold_open=True))
    async with serving(config(upstream)) as channel:
        call = stub(channel).PullModel(pb.PullModelRequest(provider="local", model="gemma3:1b"))
        assert (await call.read()).status == "pulling manifest"
        exchange = await asyncio.to_thread(upstream.wait_for_exchange)
        assert not exchange.closed.is_set()
        call.cancel()
        assert await asyncio.to_thread(exchange.closed.wait, 5), \
            "the upstream pull stayed open after the caller cancelled"


async def test_show(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/show", Reply(json=fx.SHOW_GEMMA3))
    async with serving(config(upstream)) as channel:
        reply = await stub(channel).ShowModel(pb.ShowModelRequest(provider="local",
                                                                  model="gemma3"))
    assert upstream.wait_for_exchange().request.json() == {"model": "gemma3"}
    assert reply.license == fx.SHOW_GEMMA3["license"]
    assert reply.modelfile == fx.SHOW_GEMMA3["modelfile"]
    assert reply.parameters == "temperature 0.7\nnum_ctx 2048"
    assert reply.template == fx.SHOW_GEMMA3["template"]
    assert dict(reply.details) == {"parent_model": "", "format": "gguf", "family": "gemma3",
                                   "families": "gemma3", "parameter_size": "4.3B",
                                   "quantization_level": "Q4_K_M"}
    assert list(reply.capabilities) == ["completion", "vision"]
    assert reply.model_info_json.startswith('{"gemma3.attention.head_count":8,')


async def test_delete_and_its_not_found(upstream: FakeUpstream) -> None:
    upstream.on("DELETE", "/api/delete", Reply(body=b""))
    async with serving(config(upstream)) as channel:
        await stub(channel).DeleteModel(pb.DeleteModelRequest(provider="local",
                                                              model="llama3:13b"))
        sent = upstream.wait_for_exchange().request
        assert (sent.method, sent.json()) == ("DELETE", {"model": "llama3:13b"})
        upstream.on("DELETE", "/api/delete", Reply(404, json={
            "error": "model 'llama3:13b' not found"}))
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub(channel).DeleteModel(pb.DeleteModelRequest(provider="local",
                                                                  model="llama3:13b"))
    err = rich_error(exc.value)
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "UPSTREAM_MODEL_NOT_FOUND")
    assert err.metadata["upstream_status"] == "404"


async def test_providers_without_local_models_refuse(upstream: FakeUpstream) -> None:
    async with serving(config(upstream)) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub(channel).ShowModel(pb.ShowModelRequest(provider="echo", model="echo"))
        assert exc.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub(channel).ShowModel(pb.ShowModelRequest(provider="ghost", model="m"))
        assert rich_error(exc.value).reason == "PROVIDER_NOT_FOUND"
    assert upstream.requests() == []
