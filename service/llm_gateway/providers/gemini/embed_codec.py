"""Embeddings, model listing and token counts <-> the neutral model. Pure.

Gemini API (https://ai.google.dev/api/embeddings, /api/models, /api/tokens):
- one input: POST models/{m}:embedContent {content, taskType,
  outputDimensionality} -> {embedding: {values}};
- several: POST models/{m}:batchEmbedContents {requests: [...]} ->
  {embeddings: [{values}]} in request order, at most 100 requests a call
  (the API answers 400 "at most 100 requests can be in one batch");
- GET models?pageSize&pageToken -> {models: [...], nextPageToken};
- countTokens -> {totalTokens}.
Vertex AI text embeddings (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api):
POST ...:predict {instances: [{content, task_type}], parameters:
{autoTruncate, outputDimensionality}} -> {predictions: [{embeddings: {values,
statistics: {token_count}}}]}, at most 250 instances a call and one for the
gemini-embedding models.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...core.embeddings import EmbeddingTask, EmbedRequest, Truncation
from ...core.errors import UnsupportedFeature, UpstreamProtocolError

GEMINI_BATCH_LIMIT = 100
VERTEX_BATCH_LIMIT = 250
_TASKS = {t: t.name for t in EmbeddingTask}  # RETRIEVAL_QUERY, ... as Google spells them


def batches(inputs: Sequence[str], size: int) -> Iterator[tuple[int, Sequence[str]]]:
    """(offset, slice) pairs covering the inputs in order."""
    for start in range(0, len(inputs), size):
        yield start, inputs[start:start + size]


def _check_common(request: EmbedRequest, provider: str) -> None:
    if request.normalize is False:
        raise UnsupportedFeature(provider, "unnormalised embeddings",
                                 "full-size Gemini vectors are always unit length")


def normalized(vector: Sequence[float]) -> tuple[float, ...]:
    """Unit length: Gemini normalises only full-size vectors (with a smaller
    outputDimensionality the caller must), so `normalize` is done here."""
    norm = math.sqrt(math.fsum(v * v for v in vector))
    return tuple(vector) if norm == 0 else tuple(v / norm for v in vector)


# --- Gemini API ------------------------------------------------------------------


def embed_request(text: str, request: EmbedRequest, provider: str) -> dict[str, Any]:
    """The body of embedContent (the model is in the URL)."""
    _check_common(request, provider)
    if request.truncation is not None:
        raise UnsupportedFeature(provider, "embedding truncation control",
                                 "the Gemini API has no truncation setting")
    body: dict[str, Any] = {"content": {"parts": [{"text": text}]}}
    if request.task is not None:
        body["taskType"] = _TASKS[request.task]
    if request.dimensions is not None:
        body["outputDimensionality"] = request.dimensions
    return body


def batch_request(texts: Sequence[str], request: EmbedRequest, model: str,
                  provider: str) -> dict[str, Any]:
    """A batchEmbedContents body: each entry names the model again."""
    return {"requests": [{"model": f"models/{model}", **embed_request(t, request, provider)}
                         for t in texts]}


def _values(embedding: Any, provider: str, model: str) -> list[float]:
    values = embedding.get("values") if isinstance(embedding, dict) else None
    if not isinstance(values, list):
        raise UpstreamProtocolError("malformed embedding in the response", provider=provider,
                                    model=model)
    return values


def decode_embed_one(body: Mapping[str, Any], provider: str, model: str) -> list[float]:
    return _values(body.get("embedding"), provider, model)


def decode_embed_batch(body: Mapping[str, Any], expected: int, provider: str,
                       model: str) -> list[list[float]]:
    embeddings = body.get("embeddings")
    if not isinstance(embeddings, list) or len(embeddings) != expected:
        count = len(embeddings) if isinstance(embeddings, list) else 0
        raise UpstreamProtocolError(f"{count} embeddings for {expected} inputs",
                                    provider=provider, model=model)
    return [_values(e, provider, model) for e in embeddings]


# --- Vertex AI ------------------------------------------------------------------


def vertex_batch_limit(model: str) -> int:
    return 1 if model.startswith("gemini-embedding") else VERTEX_BATCH_LIMIT


def vertex_predict_request(texts: Sequence[str], request: EmbedRequest,
                           provider: str) -> dict[str, Any]:
    _check_common(request, provider)
    instances = []
    for text in texts:
        instance: dict[str, Any] = {"content": text}
        if request.task is not None:
            instance["task_type"] = _TASKS[request.task]
        instances.append(instance)
    parameters: dict[str, Any] = {}
    if request.truncation is Truncation.START:
        raise UnsupportedFeature(provider, "truncating embedding inputs at the start",
                                 "Vertex AI truncates at the end")
    if request.truncation is not None:
        parameters["autoTruncate"] = request.truncation is Truncation.END
    if request.dimensions is not None:
        parameters["outputDimensionality"] = request.dimensions
    body: dict[str, Any] = {"instances": instances}
    if parameters:
        body["parameters"] = parameters
    return body


def decode_vertex_predict(body: Mapping[str, Any], expected: int, provider: str,
                          model: str) -> tuple[list[list[float]], int]:
    """The vectors in input order, and the input tokens counted."""
    predictions = body.get("predictions")
    if not isinstance(predictions, list) or len(predictions) != expected:
        count = len(predictions) if isinstance(predictions, list) else 0
        raise UpstreamProtocolError(f"{count} embeddings for {expected} inputs",
                                    provider=provider, model=model)
    vectors, tokens = [], 0
    for prediction in predictions:
        embeddings = prediction.get("embeddings") if isinstance(prediction, dict) else None
        vectors.append(_values(embeddings, provider, model))
        statistics = (embeddings or {}).get("statistics") or {}
        tokens += int(statistics.get("token_count") or 0)
    return vectors, tokens


# --- models and token counts -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedModel:
    id: str
    kind: str  # "chat" | "embedding"
    display_name: str = ""
    context_window: int | None = None
    max_output_tokens: int | None = None
    counts_tokens: bool = False


def decode_models(body: Mapping[str, Any]) -> tuple[list[ListedModel], str]:
    """One page of models.list: the chat and embedding models, and the next
    page token ("" on the last page). Models offering neither
    generateContent nor embedContent (aqa, imagen, ...) are left out."""
    out = []
    for raw in body.get("models") or ():
        if not isinstance(raw, dict) or not raw.get("name"):
            continue
        methods = set(raw.get("supportedGenerationMethods") or ())
        if "generateContent" in methods:
            kind = "chat"
        elif "embedContent" in methods:
            kind = "embedding"
        else:
            continue
        out.append(ListedModel(
            id=str(raw["name"]).removeprefix("models/"), kind=kind,
            display_name=str(raw.get("displayName") or ""),
            context_window=_positive(raw.get("inputTokenLimit")),
            max_output_tokens=_positive(raw.get("outputTokenLimit")) if kind == "chat" else None,
            counts_tokens="countTokens" in methods))
    return out, str(body.get("nextPageToken") or "")


def _positive(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and value > 0 else None


def decode_token_count(body: Mapping[str, Any], provider: str, model: str) -> int:
    total = body.get("totalTokens")
    if not isinstance(total, int):
        raise UpstreamProtocolError("the countTokens response has no totalTokens",
                                    provider=provider, model=model)
    return total
