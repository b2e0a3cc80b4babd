"""OpenAI embeddings and model listing <-> the neutral model. Pure.

Wire: POST /embeddings {model, input: [str], dimensions?, encoding_format}
-> {data: [{index, embedding}], model, usage: {prompt_tokens}};
GET /models -> {data: [{id, owned_by, created}]}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.embeddings import EmbedRequest, EmbedResponse
from ...core.errors import UnsupportedFeature, UpstreamProtocolError
from ...core.types import Usage

MAX_INPUTS_PER_CALL = 2048


def encode_embed(request: EmbedRequest, model: str, provider: str,
                 options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if request.task is not None:
        raise UnsupportedFeature(provider, "embedding task types")
    if request.truncation is not None:
        raise UnsupportedFeature(provider, "embedding truncation control")
    if request.normalize is False:
        raise UnsupportedFeature(provider, "unnormalised embeddings",
                                 "its vectors are always unit length")
    body: dict[str, Any] = {"model": model, "input": list(request.inputs),
                            "encoding_format": "float"}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.metadata.end_user_id:
        body["user"] = request.metadata.end_user_id
    if options:
        body.update(options)
    return body


def decode_embed(body: Mapping[str, Any], expected: int, provider: str, model: str
                 ) -> EmbedResponse:
    items = body.get("data") or []
    vectors: list[tuple[float, ...] | None] = [None] * expected
    for position, item in enumerate(items):
        index = item.get("index", position)
        embedding = item.get("embedding")
        if not isinstance(embedding, list) or not 0 <= index < expected:
            raise UpstreamProtocolError("malformed embedding in the response",
                                        provider=provider, model=model)
        vectors[index] = tuple(embedding)
    if any(v is None for v in vectors):
        raise UpstreamProtocolError(f"{len(items)} embeddings for {expected} inputs",
                                    provider=provider, model=model)
    usage = body.get("usage") or {}
    return EmbedResponse(model=body.get("model") or model,
                         vectors=tuple(v for v in vectors if v is not None),
                         usage=Usage(input_tokens=int(usage.get("prompt_tokens") or 0)))


def decode_model_ids(body: Mapping[str, Any]) -> list[str]:
    return [str(m["id"]) for m in body.get("data") or [] if isinstance(m, dict) and "id" in m]
