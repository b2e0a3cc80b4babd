"""Bedrock embeddings through InvokeModel <-> the neutral model. Pure.

The body is the model's own format, chosen by the model id:
- Amazon Titan Text Embeddings (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
  one text per call. V2 `{inputText, dimensions (256|512|1024), normalize}`
  -> `{embedding, inputTextTokenCount}`; G1 takes `{inputText}` only.
- Cohere Embed v3 / v4 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html,
  .../model-parameters-embed-v4.html): up to 96 texts per call
  `{texts, input_type, truncate, embedding_types: ["float"]}` (v4 adds
  `output_dimension`) -> `{embeddings: {float: [[...]]}}` (or a bare list,
  the `embeddings_floats` response type).
The adapter splits a request into these calls (`plan`), runs them and joins
the vectors in input order (`join`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from ...core.embeddings import EmbeddingTask, EmbedRequest, Truncation
from ...core.errors import UnsupportedFeature, UpstreamProtocolError

COHERE_MAX_TEXTS = 96
TITAN_V2_DIMENSIONS = (256, 512, 1024)
COHERE_V4_DIMENSIONS = (256, 512, 1024, 1536)

# Cohere input_type per task; semantic similarity has no Cohere type.
_INPUT_TYPES = {
    EmbeddingTask.RETRIEVAL_QUERY: "search_query",
    EmbeddingTask.RETRIEVAL_DOCUMENT: "search_document",
    EmbeddingTask.CLASSIFICATION: "classification",
    EmbeddingTask.CLUSTERING: "clustering",
}
# Truncation -> Cohere `truncate`: v3 says START/END, v4 LEFT/RIGHT.
_TRUNCATE_V3 = {Truncation.NONE: "NONE", Truncation.START: "START", Truncation.END: "END"}
_TRUNCATE_V4 = {Truncation.NONE: "NONE", Truncation.START: "LEFT", Truncation.END: "RIGHT"}


@dataclass(frozen=True, slots=True)
class EmbedCall:
    """One InvokeModel call: its body and how many inputs it embeds."""

    body: dict[str, Any]
    count: int


def family(model: str) -> str:
    """"titan-v2", "titan", "cohere-v4", "cohere" or "" from the model id (a
    bare id, a cross-region profile id or an ARN ending in one)."""
    base = model.rsplit("/", 1)[-1]
    if "amazon.titan-embed-text-v2" in base:
        return "titan-v2"
    if "amazon.titan-embed" in base:
        return "titan"
    if "cohere.embed-v4" in base:
        return "cohere-v4"
    if "cohere.embed" in base:
        return "cohere"
    return ""


def plan(request: EmbedRequest, model: str, provider: str,
         options: Mapping[str, Any] | None = None) -> list[EmbedCall]:
    kind = family(model)
    if kind.startswith("titan"):
        calls = _titan(request, kind, provider)
    elif kind.startswith("cohere"):
        calls = _cohere(request, kind, provider)
    else:
        raise UnsupportedFeature(provider, f"embeddings with {model}",
                                 "the gateway speaks the Amazon Titan Text Embeddings and "
                                 "Cohere Embed request formats")
    if options:
        for call in calls:
            call.body.update(options)
    return calls


def _titan(request: EmbedRequest, kind: str, provider: str) -> list[EmbedCall]:
    if request.task is not None:
        raise UnsupportedFeature(provider, "embedding task types", "Titan takes none")
    if request.truncation is not None:
        raise UnsupportedFeature(provider, "embedding truncation control", "Titan takes none")
    extra: dict[str, Any] = {}
    if kind == "titan-v2":
        if request.dimensions is not None:
            if request.dimensions not in TITAN_V2_DIMENSIONS:
                raise UnsupportedFeature(provider, f"{request.dimensions} dimensions",
                                         "Titan Text Embeddings V2 takes 256, 512 or 1024")
            extra["dimensions"] = request.dimensions
        if request.normalize is not None:
            extra["normalize"] = request.normalize
    elif request.dimensions is not None or request.normalize is not None:
        raise UnsupportedFeature(provider, "dimensions or normalize for this Titan model",
                                 "only Titan Text Embeddings V2 takes them")
    return [EmbedCall({"inputText": text, **extra}, 1) for text in request.inputs]


def _cohere(request: EmbedRequest, kind: str, provider: str) -> list[EmbedCall]:
    if request.normalize is not None:
        raise UnsupportedFeature(provider, "embedding normalization control",
                                 "Cohere Embed takes no normalize option")
    if request.task is EmbeddingTask.SEMANTIC_SIMILARITY:
        raise UnsupportedFeature(provider, "the semantic similarity task",
                                 "Cohere Embed has search_query, search_document, "
                                 "classification and clustering")
    # input_type is required: without a task, texts are embedded as documents
    # (what is stored for search).
    input_type = _INPUT_TYPES[request.task] if request.task is not None else "search_document"
    body: dict[str, Any] = {"input_type": input_type, "embedding_types": ["float"]}
    if request.truncation is not None:
        table = _TRUNCATE_V4 if kind == "cohere-v4" else _TRUNCATE_V3
        body["truncate"] = table[request.truncation]
    if request.dimensions is not None:
        if kind != "cohere-v4":
            raise UnsupportedFeature(provider, "embedding dimensions for Cohere Embed v3")
        if request.dimensions not in COHERE_V4_DIMENSIONS:
            raise UnsupportedFeature(provider, f"{request.dimensions} dimensions",
                                     "Cohere Embed v4 takes 256, 512, 1024 or 1536")
        body["output_dimension"] = request.dimensions
    inputs = request.inputs
    return [EmbedCall({"texts": list(inputs[i:i + COHERE_MAX_TEXTS]), **body},
                      len(inputs[i:i + COHERE_MAX_TEXTS]))
            for i in range(0, len(inputs), COHERE_MAX_TEXTS)]


def decode_call(body: Any, call: EmbedCall, provider: str, model: str
                ) -> tuple[list[tuple[float, ...]], int | None]:
    """The vectors of one call, in order, and the input token count when the
    body reports it (Titan's inputTextTokenCount)."""
    if not isinstance(body, dict):
        raise _malformed(provider, model, "the response is not an object")
    if "inputText" in call.body:
        vector = body.get("embedding")
        if not _is_vector(vector):
            raise _malformed(provider, model, "the response has no embedding")
        tokens = body.get("inputTextTokenCount")
        return [tuple(vector)], int(tokens) if isinstance(tokens, int) else None
    embeddings = body.get("embeddings")
    if isinstance(embeddings, dict):  # embeddings_by_type
        embeddings = embeddings.get("float")
    if not isinstance(embeddings, list) or not all(_is_vector(v) for v in embeddings):
        raise _malformed(provider, model, "the response has no float embeddings")
    if len(embeddings) != call.count:
        raise _malformed(provider, model,
                         f"{len(embeddings)} embeddings for {call.count} texts")
    return [tuple(v) for v in embeddings], None


def join(results: Sequence[list[tuple[float, ...]]]) -> tuple[tuple[float, ...], ...]:
    """The calls' vectors, in the order of the calls (= input order)."""
    return tuple(v for vectors in results for v in vectors)


def _is_vector(value: Any) -> TypeGuard[list[float]]:
    return isinstance(value, list) and all(isinstance(x, int | float) for x in value)


def _malformed(provider: str, model: str, what: str) -> UpstreamProtocolError:
    return UpstreamProtocolError(f"malformed embedding response: {what}", provider=provider,
                                 model=model)
