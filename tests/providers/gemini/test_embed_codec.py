"""Embedding, model-listing and token-count codecs alone."""

import math

import pytest
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest, Truncation
from llm_gateway.core.errors import UnsupportedFeature, UpstreamProtocolError
from llm_gateway.providers.gemini.embed_codec import (
    ListedModel,
    batch_request,
    batches,
    decode_embed_batch,
    decode_models,
    decode_token_count,
    decode_vertex_predict,
    embed_request,
    normalized,
    vertex_batch_limit,
    vertex_predict_request,
)

from tests.fixtures import gemini as fx


def test_embed_request_fields() -> None:
    request = EmbedRequest("x", ("a", "b"), dimensions=768,
                           task=EmbeddingTask.RETRIEVAL_DOCUMENT)
    assert embed_request("a", request, "gemini") == {
        "content": {"parts": [{"text": "a"}]}, "taskType": "RETRIEVAL_DOCUMENT",
        "outputDimensionality": 768}
    assert batch_request(("a", "b"), request, "gemini-embedding-001", "gemini") == {
        "requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]},
             "taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 768}
            for t in ("a", "b")]}


@pytest.mark.parametrize("task", list(EmbeddingTask))
def test_every_task_type_has_google_spelling(task: EmbeddingTask) -> None:
    body = embed_request("a", EmbedRequest("x", ("a",), task=task), "gemini")
    assert body["taskType"] == task.value.upper()


def test_refusals() -> None:
    with pytest.raises(UnsupportedFeature, match="truncation"):
        embed_request("a", EmbedRequest("x", ("a",), truncation=Truncation.END), "gemini")
    with pytest.raises(UnsupportedFeature, match="unnormalised"):
        embed_request("a", EmbedRequest("x", ("a",), normalize=False), "gemini")
    with pytest.raises(UnsupportedFeature, match="at the start"):
        vertex_predict_request(("a",), EmbedRequest("x", ("a",), truncation=Truncation.START),
                               "vertex")


def test_batches_cover_the_inputs_in_order() -> None:
    inputs = tuple(str(i) for i in range(250))
    got = list(batches(inputs, 100))
    assert [(offset, len(texts)) for offset, texts in got] == [(0, 100), (100, 100),
                                                               (200, 50)]
    assert tuple(t for _, texts in got for t in texts) == inputs


def test_batch_decode_checks_the_count() -> None:
    assert decode_embed_batch(fx.embed_batch(2), 2, "g", "m") == [[0.0, 1.0], [1.0, 1.0]]
    with pytest.raises(UpstreamProtocolError, match="2 embeddings for 3 inputs"):
        decode_embed_batch(fx.embed_batch(2), 3, "g", "m")
    with pytest.raises(UpstreamProtocolError):
        decode_embed_batch({"embeddings": [{"vals": []}]}, 1, "g", "m")


def test_normalize() -> None:
    vector = normalized([3.0, 4.0])
    assert vector == (0.6, 0.8)
    assert math.isclose(math.hypot(*vector), 1.0)
    assert normalized([0.0, 0.0]) == (0.0, 0.0)


def test_vertex_predict() -> None:
    request = EmbedRequest("x", ("a", "b"), dimensions=256, task=EmbeddingTask.CLUSTERING,
                           truncation=Truncation.NONE)
    assert vertex_predict_request(("a", "b"), request, "vertex") == {
        "instances": [{"content": "a", "task_type": "CLUSTERING"},
                      {"content": "b", "task_type": "CLUSTERING"}],
        "parameters": {"autoTruncate": False, "outputDimensionality": 256}}
    assert vertex_predict_request(("a",), EmbedRequest("x", ("a",), truncation=Truncation.END),
                                  "vertex")["parameters"] == {"autoTruncate": True}
    vectors, tokens = decode_vertex_predict(fx.VERTEX_PREDICT, 2, "vertex", "m")
    assert vectors == [[0.0123, -0.045, 0.5], [0.25, 0.5, -0.125]] and tokens == 10
    with pytest.raises(UpstreamProtocolError):
        decode_vertex_predict(fx.VERTEX_PREDICT, 3, "vertex", "m")
    assert vertex_batch_limit("gemini-embedding-001") == 1
    assert vertex_batch_limit("text-embedding-005") == 250


def test_models_pages() -> None:
    models, token = decode_models(fx.MODELS_PAGE_1)
    assert models == [ListedModel("gemini-2.5-flash", "chat", "Gemini 2.5 Flash", 1048576,
                                  65536, counts_tokens=True)]  # imagen (predict) is left out
    assert token == fx.MODELS_PAGE_1["nextPageToken"]
    models, token = decode_models(fx.MODELS_PAGE_2)
    assert models == [
        ListedModel("gemini-embedding-001", "embedding", "Gemini Embedding 001", 2048, None,
                    counts_tokens=True),
        ListedModel("gemma-3-27b-it", "chat", "Gemma 3 27B", 131072, 8192)]
    assert token == ""


def test_token_count() -> None:
    assert decode_token_count(fx.COUNT_TOKENS, "g", "m") == 31
    with pytest.raises(UpstreamProtocolError):
        decode_token_count({}, "g", "m")
