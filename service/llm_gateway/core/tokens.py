"""The answer of a token count, and how it was produced."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CountMethod(enum.Enum):
    PROVIDER_ENDPOINT = "provider_endpoint"  # Anthropic count_tokens, Gemini countTokens
    PROVIDER_TOKENIZER = "provider_tokenizer"  # vLLM /tokenize
    BUILTIN = "builtin"  # the echo provider's deterministic counter


@dataclass(frozen=True, slots=True)
class TokenCount:
    input_tokens: int
    method: CountMethod
    method_detail: str
    model: str = ""
    provider: str = ""
