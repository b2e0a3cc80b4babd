"""Anthropic's model list and token count -> the neutral model. Pure.

Wire reference: https://platform.claude.com/docs/en/api/models/list
(GET /v1/models?limit=&after_id= -> {data: [{type: "model", id,
display_name, created_at, max_input_tokens?, max_tokens?}], has_more,
first_id, last_id}) and /api/messages/count_tokens (-> {input_tokens}).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.tokens import CountMethod, TokenCount
from ..base import ModelSpec

COUNT_TOKENS_PATH = "/v1/messages/count_tokens"


@dataclass(frozen=True, slots=True)
class ModelPage:
    models: tuple[ModelSpec, ...]
    has_more: bool
    last_id: str


def decode_model_page(body: Mapping[str, Any]) -> ModelPage:
    models = tuple(
        ModelSpec(str(m["id"]), kind="chat", display_name=str(m.get("display_name") or ""),
                  context_window=_positive(m.get("max_input_tokens")),
                  max_output_tokens=_positive(m.get("max_tokens")))
        for m in body.get("data") or () if isinstance(m, Mapping) and m.get("id"))
    return ModelPage(models, bool(body.get("has_more")), str(body.get("last_id") or ""))


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def decode_token_count(body: Mapping[str, Any], model: str) -> TokenCount | None:
    """None when the body carries no count."""
    tokens = body.get("input_tokens")
    if not isinstance(tokens, int) or isinstance(tokens, bool):
        return None
    return TokenCount(input_tokens=tokens, method=CountMethod.PROVIDER_ENDPOINT,
                      method_detail=f"anthropic:{COUNT_TOKENS_PATH}", model=model)
