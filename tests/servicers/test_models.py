import grpc
import pytest
from llmgateway.v1 import models_pb2, models_pb2_grpc

from tests.support.grpc_helpers import rich_error
from tests.support.inprocess import serving

MANY = {
    "server": {"drain_seconds": 0},
    "providers": {
        "echo": {},
        "zoo": {"type": "echo", "models": [f"m{i:03d}" for i in range(120)]},
    },
    "aliases": {"fast": "echo/echo", "quick": "echo/echo"},
}


async def list_all(stub: models_pb2_grpc.ModelServiceStub, page_size: int,
                   provider: str = "") -> tuple[list[str], int]:
    names, token, pages = [], "", 0
    while True:
        page = await stub.ListModels(models_pb2.ListModelsRequest(
            page_size=page_size, page_token=token, provider=provider))
        pages += 1
        names += [m.name for m in page.models]
        token = page.next_page_token
        if not token:
            return names, pages


async def test_pages_cover_every_model_once_in_order() -> None:
    async with serving(MANY) as channel:
        stub = models_pb2_grpc.ModelServiceStub(channel)
        names, pages = await list_all(stub, 50)
        assert pages == 3 and len(names) == 122 and names == sorted(names)
        assert len(set(names)) == 122
        default, _ = await list_all(stub, 0)
        assert default == names
        zoo, _ = await list_all(stub, 7, provider="zoo")
        assert len(zoo) == 120 and all(n.startswith("zoo/") for n in zoo)


async def test_page_token_is_bound_to_the_request() -> None:
    async with serving(MANY) as channel:
        stub = models_pb2_grpc.ModelServiceStub(channel)
        first = await stub.ListModels(models_pb2.ListModelsRequest(page_size=5))
        for bad in (models_pb2.ListModelsRequest(page_token=first.next_page_token,
                                                 provider="zoo"),
                    models_pb2.ListModelsRequest(page_token="garbage!")):
            with pytest.raises(grpc.aio.AioRpcError) as exc:
                await stub.ListModels(bad)
            err = rich_error(exc.value)
            assert err.code == grpc.StatusCode.INVALID_ARGUMENT
            assert err.violations[0][0] == "page_token"
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub.ListModels(models_pb2.ListModelsRequest(provider="ghost"))
        assert rich_error(exc.value).reason == "PROVIDER_NOT_FOUND"


async def test_get_model_by_alias_and_name(channel: grpc.aio.Channel) -> None:
    stub = models_pb2_grpc.ModelServiceStub(channel)
    model = (await stub.GetModel(models_pb2.GetModelRequest(name="fast"))).model
    assert model.name == "echo/echo" and list(model.aliases) == ["fast"]
    assert model.provider_type == "echo" and model.context_window == 1_000_000
    caps = model.capabilities
    assert caps.chat and caps.streaming and caps.tools and caps.vision and caps.reasoning
    assert not caps.embeddings
    assert list(model.input_modalities) == [models_pb2.MODALITY_TEXT, models_pb2.MODALITY_IMAGE]
    embed = (await stub.GetModel(models_pb2.GetModelRequest(name="echo/echo-embed"))).model
    assert embed.capabilities.embeddings and embed.embedding_dimensions == 16
    assert list(embed.output_modalities) == [models_pb2.MODALITY_EMBEDDING]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await stub.GetModel(models_pb2.GetModelRequest(name="echo/unknown"))
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND
