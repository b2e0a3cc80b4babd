"""Protobuf <-> core translation for ModelService, with AIP-132 paging."""

from __future__ import annotations

import base64

import orjson
from llmgateway.v1 import models_pb2

from ..core.errors import InvalidRequest
from ..core.models import Modality, ModelInfo

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

_MODALITIES = {
    Modality.TEXT: models_pb2.MODALITY_TEXT,
    Modality.IMAGE: models_pb2.MODALITY_IMAGE,
    Modality.AUDIO: models_pb2.MODALITY_AUDIO,
    Modality.VIDEO: models_pb2.MODALITY_VIDEO,
    Modality.EMBEDDING: models_pb2.MODALITY_EMBEDDING,
}


def model_to_proto(m: ModelInfo) -> models_pb2.Model:
    c = m.capabilities
    out = models_pb2.Model(
        name=m.name, provider=m.provider, provider_type=m.provider_type,
        provider_model_id=m.id, display_name=m.display_name, aliases=list(m.aliases),
        capabilities=models_pb2.ModelCapabilities(
            chat=c.chat, streaming=c.streaming, tools=c.tools,
            parallel_tool_calls=c.parallel_tool_calls, vision=c.vision,
            structured_output=c.structured_output, reasoning=c.reasoning,
            embeddings=c.embeddings, text_completion=c.text_completion,
            token_counting=c.token_counting),
        input_modalities=[_MODALITIES[x] for x in m.input_modalities],
        output_modalities=[_MODALITIES[x] for x in m.output_modalities],
    )
    if m.context_window is not None:
        out.context_window = m.context_window
    if m.max_output_tokens is not None:
        out.max_output_tokens = m.max_output_tokens
    if m.embedding_dimensions is not None:
        out.embedding_dimensions = m.embedding_dimensions
    return out


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidRequest.one("page_size", "must be >= 0")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_page_token(offset: int, provider: str) -> str:
    raw = orjson.dumps({"o": offset, "p": provider})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, provider: str) -> int:
    """The offset a token stands for; the token must come from a call with the
    same filter (AIP-132)."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        offset, token_provider = int(data["o"]), str(data["p"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise InvalidRequest.one("page_token", "not a token this service issued") from None
    if token_provider != provider or offset < 0:
        raise InvalidRequest.one("page_token", "issued for a different request; "
                                               "keep the other fields the same across pages")
    return offset
