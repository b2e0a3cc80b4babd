"""Neutral embedding request and response (mirrors embeddings.proto)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from .types import JsonObject, RequestMetadata, Usage


class EmbeddingTask(enum.Enum):
    RETRIEVAL_QUERY = "retrieval_query"
    RETRIEVAL_DOCUMENT = "retrieval_document"
    SEMANTIC_SIMILARITY = "semantic_similarity"
    CLASSIFICATION = "classification"
    CLUSTERING = "clustering"


class Truncation(enum.Enum):
    NONE = "none"
    START = "start"
    END = "end"


@dataclass(frozen=True, slots=True)
class EmbedRequest:
    model: str
    inputs: tuple[str, ...]
    dimensions: int | None = None
    task: EmbeddingTask | None = None
    normalize: bool | None = None
    truncation: Truncation | None = None
    provider_options: Mapping[str, JsonObject] = field(default_factory=dict)
    metadata: RequestMetadata = RequestMetadata()


@dataclass(frozen=True, slots=True)
class EmbedResponse:
    model: str
    # One vector per input, in input order.
    vectors: tuple[tuple[float, ...], ...]
    usage: Usage = Usage()
    provider: str = ""
    request_id: str = ""
