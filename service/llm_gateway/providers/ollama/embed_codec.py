"""Ollama embeddings (POST /api/embed) <-> the neutral model. Pure.

Wire (https://docs.ollama.com/api/embed, api.EmbedRequest/EmbedResponse):
{model, input: [str], truncate?, dimensions?, keep_alive?, options?} ->
{model, embeddings: [[float]] in input order, prompt_eval_count}.
The server always returns unit-length vectors (it re-normalises after
cutting to `dimensions`), and `truncate` (default true) keeps the start of
an over-long input, cutting its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.embeddings import EmbedRequest, EmbedResponse, Truncation
from ...core.errors import UnsupportedFeature, UpstreamProtocolError
from ...core.types import Usage
from .chat_codec import merge_pass_through


def encode_embed(request: EmbedRequest, model: str, provider: str,
                 options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if request.task is not None:
        raise UnsupportedFeature(provider, "embedding task types",
                                 "Ollama embeds text the same way for every task")
    if request.normalize is False:
        raise UnsupportedFeature(provider, "unnormalised embeddings",
                                 "its vectors are always unit length")
    body: dict[str, Any] = {"model": model, "input": list(request.inputs)}
    if request.truncation is Truncation.START:
        raise UnsupportedFeature(provider, "truncating the start of inputs",
                                 "Ollama cuts the end of an over-long input")
    if request.truncation is not None:
        body["truncate"] = request.truncation is Truncation.END
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if options:
        merge_pass_through(body, options)
    return body


def decode_embed(body: Mapping[str, Any], expected: int, provider: str, model: str
                 ) -> EmbedResponse:
    vectors = body.get("embeddings")
    if not isinstance(vectors, list) or not all(isinstance(v, list) for v in vectors):
        raise UpstreamProtocolError("the response has no embeddings list",
                                    provider=provider, model=model)
    if len(vectors) != expected:
        raise UpstreamProtocolError(f"{len(vectors)} embeddings for {expected} inputs",
                                    provider=provider, model=model)
    return EmbedResponse(model=str(body.get("model") or model),
                         vectors=tuple(tuple(float(x) for x in v) for v in vectors),
                         usage=Usage(input_tokens=int(body.get("prompt_eval_count") or 0)))
