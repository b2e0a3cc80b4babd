"""Anthropic's model list -> the neutral model (pure), and the count-tokens path.

Wire reference: https://platform.claude.com/docs/en/api/models/list
(GET /v1/models?limit=&after_id= -> {data: [{type: "model", id,
display_name, created_at, max_input_tokens?, max_tokens?}], has_more,
first_id, last_id}) and /api/messages/count_tokens (-> {input_tokens}).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
