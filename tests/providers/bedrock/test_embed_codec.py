"""The InvokeModel embedding bodies: Titan one text per call, Cohere 96."""

import pytest
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest, Truncation
from llm_gateway.core.errors import UnsupportedFeature, UpstreamProtocolError
from llm_gateway.providers.bedrock.embed_codec import EmbedCall, decode_call, family, plan

from tests.fixtures import bedrock as fx


@pytest.mark.parametrize("model, kind", [
    ("amazon.titan-embed-text-v2:0", "titan-v2"),
    ("amazon.titan-embed-text-v1", "titan"),
    ("amazon.titan-embed-g1-text-02", "titan"),
    ("cohere.embed-english-v3", "cohere"),
    ("us.cohere.embed-v4:0", "cohere-v4"),
    ("arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-multilingual-v3", "cohere"),
    ("anthropic.claude-3-haiku-20240307-v1:0", ""),
])
def test_family_from_the_model_id(model: str, kind: str) -> None:
    assert family(model) == kind


def test_titan_v2_one_text_per_call() -> None:
    calls = plan(EmbedRequest("x", ("a", "b"), dimensions=256, normalize=False),
                 "amazon.titan-embed-text-v2:0", "bedrock", {"embeddingTypes": ["float"]})
    assert calls == [
        EmbedCall({"inputText": "a", "dimensions": 256, "normalize": False,
                   "embeddingTypes": ["float"]}, 1),
        EmbedCall({"inputText": "b", "dimensions": 256, "normalize": False,
                   "embeddingTypes": ["float"]}, 1),
    ]
    assert plan(EmbedRequest("x", ("a",)), "amazon.titan-embed-text-v1", "b") == [
        EmbedCall({"inputText": "a"}, 1)]


def test_cohere_batches_of_96() -> None:
    texts = tuple(f"t{i}" for i in range(200))
    calls = plan(EmbedRequest("x", texts, task=EmbeddingTask.RETRIEVAL_QUERY,
                              truncation=Truncation.END), "cohere.embed-english-v3", "bedrock")
    assert [c.count for c in calls] == [96, 96, 8]
    assert [t for c in calls for t in c.body["texts"]] == list(texts)
    assert {k: v for k, v in calls[0].body.items() if k != "texts"} == {
        "input_type": "search_query", "embedding_types": ["float"], "truncate": "END"}


def test_cohere_v4_dimensions_and_truncation_words() -> None:
    (call,) = plan(EmbedRequest("x", ("a",), dimensions=1536, truncation=Truncation.START),
                   "cohere.embed-v4:0", "bedrock")
    assert call.body == {"texts": ["a"], "input_type": "search_document",
                         "embedding_types": ["float"], "truncate": "LEFT",
                         "output_dimension": 1536}


@pytest.mark.parametrize("request_, model, feature", [
    (EmbedRequest("x", ("a",), dimensions=300), "amazon.titan-embed-text-v2:0",
     "300 dimensions"),
    (EmbedRequest("x", ("a",), task=EmbeddingTask.CLUSTERING), "amazon.titan-embed-text-v2:0",
     "embedding task types"),
    (EmbedRequest("x", ("a",), truncation=Truncation.END), "amazon.titan-embed-text-v2:0",
     "embedding truncation control"),
    (EmbedRequest("x", ("a",), normalize=True), "amazon.titan-embed-text-v1",
     "dimensions or normalize for this Titan model"),
    (EmbedRequest("x", ("a",), normalize=True), "cohere.embed-english-v3",
     "embedding normalization control"),
    (EmbedRequest("x", ("a",), dimensions=512), "cohere.embed-english-v3",
     "embedding dimensions for Cohere Embed v3"),
    (EmbedRequest("x", ("a",), task=EmbeddingTask.SEMANTIC_SIMILARITY),
     "cohere.embed-english-v3", "the semantic similarity task"),
    (EmbedRequest("x", ("a",)), "amazon.nova-2-multimodal-embeddings-v1:0",
     "embeddings with amazon.nova-2-multimodal-embeddings-v1:0"),
])
def test_refusals(request_: EmbedRequest, model: str, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        plan(request_, model, "bedrock")
    assert exc.value.metadata["feature"] == feature


def test_decode_both_cohere_shapes_and_titan() -> None:
    call = EmbedCall({"texts": ["a", "b"]}, 2)
    by_type = fx.cohere_by_type([[0.1, 0.2], [0.3, 0.4]], ["a", "b"])
    floats = {"id": "x", "response_type": "embeddings_floats",
              "embeddings": [[0.1, 0.2], [0.3, 0.4]], "texts": ["a", "b"]}
    for body in (by_type, floats):
        assert decode_call(body, call, "b", "m") == ([(0.1, 0.2), (0.3, 0.4)], None)
    titan = EmbedCall({"inputText": "a"}, 1)
    assert decode_call(fx.titan_v2([0.5, -1], 3), titan, "b", "m") == ([(0.5, -1)], 3)


@pytest.mark.parametrize("body, call", [
    ({"embeddings": {"float": [[0.1]]}}, EmbedCall({"texts": ["a", "b"]}, 2)),
    ({"embeddings": {"int8": [[1]]}}, EmbedCall({"texts": ["a"]}, 1)),
    ({"embedding": "nope"}, EmbedCall({"inputText": "a"}, 1)),
    ([], EmbedCall({"inputText": "a"}, 1)),
])
def test_malformed_responses(body: object, call: EmbedCall) -> None:
    with pytest.raises(UpstreamProtocolError):
        decode_call(body, call, "b", "m")
