"""The Ollama embeddings and model-management codecs alone."""

import pytest
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest, Truncation
from llm_gateway.core.errors import UnsupportedFeature, UpstreamProtocolError
from llm_gateway.core.local_models import LocalModelDetails, PullProgress
from llm_gateway.core.models import Modality
from llm_gateway.core.types import Usage
from llm_gateway.providers.base import ModelSpec
from llm_gateway.providers.ollama.embed_codec import decode_embed, encode_embed
from llm_gateway.providers.ollama.models_codec import (
    decode_progress,
    decode_show,
    encode_pull,
    model_names,
    model_spec,
)

from tests.fixtures import ollama as fx


def test_encode_embed() -> None:
    request = EmbedRequest("x", ("a", "b"), dimensions=256, truncation=Truncation.NONE,
                           normalize=True)
    assert encode_embed(request, "all-minilm", "ollama", {"keep_alive": 0}) == {
        "model": "all-minilm", "input": ["a", "b"], "truncate": False, "dimensions": 256,
        "keep_alive": 0}
    end = encode_embed(EmbedRequest("x", ("a",), truncation=Truncation.END), "m", "ollama")
    assert end == {"model": "m", "input": ["a"], "truncate": True}


@pytest.mark.parametrize("request_, feature", [
    (EmbedRequest("x", ("a",), task=EmbeddingTask.RETRIEVAL_QUERY), "embedding task types"),
    (EmbedRequest("x", ("a",), normalize=False), "unnormalised embeddings"),
    (EmbedRequest("x", ("a",), truncation=Truncation.START), "truncating the start of inputs"),
])
def test_embed_refusals(request_: EmbedRequest, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        encode_embed(request_, "m", "ollama")
    assert exc.value.metadata["feature"] == feature


def test_decode_embed_in_order() -> None:
    response = decode_embed(fx.EMBED, 2, "ollama", "all-minilm")
    assert response.vectors == (
        (0.010071029, -0.0017594862, 0.05007221, 0.04692972, 0.054916814),
        (-0.0098027075, 0.06042469, 0.025257962, -0.006364387, 0.07272725))
    assert (response.model, response.usage) == ("all-minilm", Usage(8, 0))
    with pytest.raises(UpstreamProtocolError, match="2 embeddings for 3 inputs"):
        decode_embed(fx.EMBED, 3, "ollama", "all-minilm")
    with pytest.raises(UpstreamProtocolError):
        decode_embed({"model": "m"}, 1, "ollama", "m")


def test_model_names() -> None:
    assert model_names(fx.TAGS) == ["gemma3:latest", "qwen3:8b", "embeddinggemma:latest"]
    assert model_names({"models": [{"model": "only-model:1b"}, {}, "junk"]}) == ["only-model:1b"]
    assert model_names(None) == []


def test_model_spec_from_capabilities() -> None:
    assert model_spec("gemma3:latest", fx.SHOW_GEMMA3, "chat") == ModelSpec(
        "gemma3:latest", kind="chat", context_window=131072,
        capabilities={"chat": True, "streaming": True, "structured_output": True,
                      "tools": False, "parallel_tool_calls": False, "vision": True,
                      "reasoning": False},
        input_modalities=(Modality.TEXT, Modality.IMAGE))
    qwen = model_spec("qwen3:8b", fx.SHOW_QWEN3, "chat")
    assert qwen.capabilities is not None and qwen.context_window == 40960
    assert {k for k, v in qwen.capabilities.items() if not v} == {"vision"}
    assert qwen.input_modalities == (Modality.TEXT,)
    assert model_spec("embeddinggemma:latest", fx.SHOW_EMBEDDING, "chat") == ModelSpec(
        "embeddinggemma:latest", kind="embedding", context_window=2048,
        embedding_dimensions=768)
    # A server that reports no capabilities: the guessed kind, nothing narrowed.
    old = {"model_info": {"general.architecture": "llama", "llama.context_length": 8192}}
    assert model_spec("llama3:latest", old, "chat") == ModelSpec(
        "llama3:latest", kind="chat", context_window=8192)


def test_decode_show() -> None:
    assert decode_show(fx.SHOW_GEMMA3) == LocalModelDetails(
        license="Gemma Terms of Use \n\nLast modified: February 21, 2024...",
        modelfile=fx.SHOW_GEMMA3["modelfile"],
        parameters="temperature 0.7\nnum_ctx 2048",
        template="{{- range $i, $_ := .Messages }}{{ .Content }}{{ end }}",
        details={"parent_model": "", "format": "gguf", "family": "gemma3",
                 "families": "gemma3", "parameter_size": "4.3B",
                 "quantization_level": "Q4_K_M"},
        capabilities=("completion", "vision"),
        model_info_json='{"gemma3.attention.head_count":8,"gemma3.context_length":131072,'
                        '"gemma3.embedding_length":2560,"general.architecture":"gemma3",'
                        '"general.parameter_count":4299915632,"tokenizer.ggml.model":"llama",'
                        '"tokenizer.ggml.tokens":null}')
    sparse = decode_show({"license": ["MIT", "Apache-2.0"],
                          "details": {"families": None, "x": 1}})
    assert sparse.license == "MIT\n\nApache-2.0"
    assert sparse.details == {"families": "null", "x": "1"}
    assert (sparse.capabilities, sparse.model_info_json) == ((), "")


def test_pull_wire() -> None:
    assert encode_pull("llama3.2:1b", False) == {"model": "llama3.2:1b", "insecure": False,
                                                 "stream": True}
    assert [decode_progress(line) for line in fx.PULL[:3]] == [
        PullProgress("pulling manifest"),
        PullProgress("pulling dde5aa3fc5ff", fx.DIGEST, 2019377376, 0),
        PullProgress("pulling dde5aa3fc5ff", fx.DIGEST, 2019377376, 241970),
    ]
