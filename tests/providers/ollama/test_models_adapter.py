"""The Ollama adapter's model side over real HTTP to the fake upstream:
discovery from /api/tags and /api/show, health, and local model management
(pull progress as it arrives, show, delete, their errors, cancellation)."""


import pytest
from llm_gateway.core import errors as e
from llm_gateway.core.local_models import LocalModelDetails, PullProgress
from llm_gateway.core.models import Modality
from llm_gateway.providers.base import ProviderBase

from tests.fixtures import ollama as fx
from tests.support.fake_upstream import FakeUpstream, Gate, RecordedRequest, Reply, Stream
from tests.support.providers import assert_cancel_closes_upstream, make_provider


def ollama(upstream: FakeUpstream, **settings: object) -> ProviderBase:
    return make_provider("ollama", upstream, **settings)


# --- discovery and health ------------------------------------------------------------

SHOWS = {"gemma3:latest": fx.SHOW_GEMMA3, "qwen3:8b": fx.SHOW_QWEN3,
         "embeddinggemma:latest": fx.SHOW_EMBEDDING}


def show_route(request: RecordedRequest) -> Reply:
    body = SHOWS.get(request.json()["model"])
    return Reply(json=body) if body else Reply(404, json={"error": "model not found"})


async def test_discovery_reads_each_models_capabilities(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/api/tags", Reply(json={"models": [
        *fx.TAGS["models"], {"name": "gone:latest", "model": "gone:latest"}]}))
    upstream.on("POST", "/api/show", show_route)
    provider = ollama(upstream, discover_models=True)
    await provider.refresh_models()
    models = {m.id: m for m in provider.listed_models()}
    assert set(models) == {"gemma3:latest", "qwen3:8b", "embeddinggemma:latest",
                           "gone:latest"}
    gemma, qwen, embed = (models["gemma3:latest"], models["qwen3:8b"],
                          models["embeddinggemma:latest"])
    assert gemma.capabilities.vision and not gemma.capabilities.tools
    assert not gemma.capabilities.reasoning and gemma.capabilities.structured_output
    assert gemma.input_modalities == (Modality.TEXT, Modality.IMAGE)
    assert gemma.context_window == 131072
    assert qwen.capabilities.tools and qwen.capabilities.parallel_tool_calls
    assert qwen.capabilities.reasoning and not qwen.capabilities.vision
    assert qwen.input_modalities == (Modality.TEXT,)
    assert embed.capabilities.embeddings and not embed.capabilities.chat
    assert (embed.embedding_dimensions, embed.output_modalities) == (768, (Modality.EMBEDDING,))
    # A model whose details could not be read stays listed, with defaults.
    assert models["gone:latest"].capabilities.chat
    shown = sorted(r.json()["model"] for r in upstream.requests() if r.path == "/api/show")
    assert shown == sorted([*SHOWS, "gone:latest"])
    await provider.aclose()


async def test_no_discovery_unless_configured(upstream: FakeUpstream) -> None:
    provider = ollama(upstream)
    await provider.refresh_models()
    assert upstream.requests() == [] and provider.listed_models() == []
    await provider.aclose()


async def test_health(upstream: FakeUpstream) -> None:
    upstream.on("GET", "/api/version", Reply(json={"version": "0.12.6"}))
    provider = ollama(upstream)
    assert (await provider.check_health()).ok
    await provider.aclose()
    down = make_provider("ollama", upstream, base_url="http://127.0.0.1:9")
    report = await down.check_health()
    assert not report.ok and "cannot connect" in report.detail
    await down.aclose()


# --- local model management -------------------------------------------------------------


async def test_pull_streams_progress_as_it_arrives(upstream: FakeUpstream) -> None:
    gate = Gate()
    lines = fx.ndjson(*fx.PULL)
    upstream.on("POST", "/api/pull", Stream([*lines[:2], gate, *lines[2:]],
                                            headers=fx.NDJSON_HEADERS))
    provider = ollama(upstream)
    pull = provider.pull_model("gemma3:1b", True)
    assert await pull.__anext__() == PullProgress("pulling manifest")
    assert await pull.__anext__() == PullProgress("pulling dde5aa3fc5ff", fx.DIGEST,
                                                  2019377376, 0)
    exchange = upstream.wait_for_exchange()
    assert not exchange.finished.is_set()  # forwarded while the upstream is held
    assert exchange.request.json() == {"model": "gemma3:1b", "insecure": True, "stream": True}
    gate.open()
    rest = [p async for p in pull]
    assert [p.status for p in rest] == [line["status"] for line in fx.PULL[2:]]
    assert rest[1].completed == 2019377376
    await provider.aclose()


@pytest.mark.parametrize("reply", [
    Stream(fx.ndjson({"status": "pulling manifest"}, fx.ERROR_PULL_UNKNOWN),
           headers=fx.NDJSON_HEADERS),
    Reply(500, json=fx.ERROR_PULL_UNKNOWN),  # nothing written yet: a status
])
async def test_pull_of_an_unknown_model(upstream: FakeUpstream, reply: object) -> None:
    upstream.on("POST", "/api/pull", reply)  # type: ignore[arg-type]
    provider = ollama(upstream)
    with pytest.raises(e.UpstreamModelNotFound) as exc:
        async for _ in provider.pull_model("nope", False):
            pass
    assert exc.value.message == "ollama: pull model manifest: file does not exist"
    await provider.aclose()


async def test_pull_that_ends_before_success(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/pull", Stream(fx.ndjson(*fx.PULL[:3]), headers=fx.NDJSON_HEADERS))
    provider = ollama(upstream)
    seen = []
    with pytest.raises(e.UpstreamProtocolError):
        async for progress in provider.pull_model("gemma3:1b", False):
            seen.append(progress)
    assert len(seen) == 3
    await provider.aclose()


async def test_cancelling_a_pull_closes_the_upstream_connection(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/pull", Stream(fx.ndjson(*fx.PULL[:2]), headers=fx.NDJSON_HEADERS,
                                            hold_open=True))
    provider = ollama(upstream)
    await assert_cancel_closes_upstream(upstream, provider.pull_model("gemma3:1b", False))
    await provider.aclose()


async def test_show(upstream: FakeUpstream) -> None:
    upstream.on("POST", "/api/show", Reply(json=fx.SHOW_QWEN3))
    provider = ollama(upstream)
    details = await provider.show_model("qwen3:8b")
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path, sent.json()) == ("POST", "/api/show", {"model": "qwen3:8b"})
    assert details == LocalModelDetails(
        license="Apache License 2.0", parameters="top_k 20\ntop_p 0.95\ntemperature 0.6",
        template="{{- if .Messages }}...{{ end }}",
        details={"parent_model": "", "format": "gguf", "family": "qwen3",
                 "families": "qwen3", "parameter_size": "8.2B",
                 "quantization_level": "Q4_K_M"},
        capabilities=("completion", "tools", "thinking"),
        model_info_json='{"general.architecture":"qwen3","qwen3.context_length":40960,'
                        '"qwen3.embedding_length":4096}')
    await provider.aclose()


async def test_delete(upstream: FakeUpstream) -> None:
    upstream.on("DELETE", "/api/delete", Reply(body=b""))
    provider = ollama(upstream)
    await provider.delete_model("llama3:13b")
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.path, sent.json()) == ("DELETE", "/api/delete",
                                                     {"model": "llama3:13b"})
    upstream.on("DELETE", "/api/delete", Reply(404, json={"error": "model 'x' not found"}))
    with pytest.raises(e.UpstreamModelNotFound):
        await provider.delete_model("x")
    await provider.aclose()
