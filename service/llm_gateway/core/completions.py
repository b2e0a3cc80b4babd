"""Neutral text-completion model: prompt in, text out (completions.proto)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .types import (
    FinishReason,
    GenerationConfig,
    JsonObject,
    RequestMetadata,
    ResponseFormat,
    Usage,
)


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    model: str
    prompts: tuple[str, ...]
    generation: GenerationConfig = GenerationConfig()
    echo: bool = False
    logprobs: int | None = None
    suffix: str = ""
    response_format: ResponseFormat | None = None
    provider_options: Mapping[str, JsonObject] = field(default_factory=dict)
    metadata: RequestMetadata = RequestMetadata()


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float | None
    top: tuple[tuple[str, float], ...] = ()
    text_offset: int = 0


@dataclass(frozen=True, slots=True)
class CompletionChoice:
    index: int
    text: str
    finish_reason: FinishReason
    provider_finish_reason: str = ""
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True, slots=True)
class CompletionResponse:
    id: str
    model: str
    choices: tuple[CompletionChoice, ...]
    usage: Usage = Usage()
    upstream_request_id: str = ""
    provider: str = ""
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class CompletionStart:
    id: str
    model: str
    upstream_request_id: str = ""
    provider: str = ""
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class CompletionDelta:
    index: int
    text: str
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True, slots=True)
class CompletionChoiceDone:
    index: int
    finish_reason: FinishReason
    provider_finish_reason: str = ""


@dataclass(frozen=True, slots=True)
class CompletionDone:
    usage: Usage = Usage()


CompletionEvent = CompletionStart | CompletionDelta | CompletionChoiceDone | CompletionDone
