"""An Anthropic Message -> the neutral ChatResponse, and the pieces the stream
decoder shares (usage, stop reasons, content blocks). Pure.

Wire reference: https://platform.claude.com/docs/en/api/messages (the
Message object), /build-with-claude/handling-stop-reasons. Translation:
- content blocks become parts in order: text, thinking (ReasoningPart with
  its signature), redacted_thinking (ReasoningPart.redacted_data = the UTF-8
  bytes of `data`), tool_use (ToolCallPart; `input` serialised as JSON);
  citations on text blocks have no place in the neutral model and are not
  kept; blocks of server tools (which the gateway never declares) are skipped;
- usage: Anthropic's input_tokens excludes cache reads and writes, the
  gateway's includes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ...core.types import (
    ChatResponse,
    FinishReason,
    Message,
    Part,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    Usage,
)

STOP_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "pause_turn": FinishReason.PAUSED,
    "refusal": FinishReason.REFUSAL,
    "model_context_window_exceeded": FinishReason.CONTEXT_LENGTH,
}


def finish_reason(raw: str | None) -> FinishReason:
    if not raw:
        return FinishReason.UNSPECIFIED
    return STOP_REASONS.get(raw, FinishReason.OTHER)


def decode_usage(raw: Mapping[str, Any] | None) -> Usage:
    if not raw:
        return Usage()
    written = _int_or_none(raw.get("cache_creation_input_tokens"))
    read = _int_or_none(raw.get("cache_read_input_tokens"))
    details = raw.get("output_tokens_details") or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0) + (written or 0) + (read or 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=written,
        reasoning_tokens=_int_or_none(details.get("thinking_tokens")),
    )


def merge_usage(current: Mapping[str, Any], update: Mapping[str, Any] | None
                ) -> dict[str, Any]:
    """message_delta usage is cumulative: its counts replace the earlier ones
    (fields it leaves out or sets to null keep their message_start value)."""
    return {**current, **{k: v for k, v in (update or {}).items() if v is not None}}


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def tool_arguments(value: Any) -> str:
    """A tool_use `input` object as the JSON text the neutral model keeps."""
    return orjson.dumps(value if value is not None else {}).decode()


def decode_block(block: Mapping[str, Any], provider_type: str) -> Part | None:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text") or ""
        return TextPart(text) if text else None
    if kind == "thinking":
        return ReasoningPart(text=block.get("thinking") or "",
                             signature=block.get("signature") or "",
                             provider_type=provider_type)
    if kind == "redacted_thinking":
        return ReasoningPart(redacted_data=str(block.get("data") or "").encode(),
                             provider_type=provider_type)
    if kind == "tool_use":
        return ToolCallPart(str(block.get("id") or ""), str(block.get("name") or ""),
                            tool_arguments(block.get("input")))
    return None


def decode_message(body: Mapping[str, Any], provider_type: str,
                   upstream_request_id: str = "") -> ChatResponse:
    parts = [part for block in body.get("content") or ()
             if isinstance(block, Mapping)
             and (part := decode_block(block, provider_type)) is not None]
    stop = body.get("stop_reason")
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        message=Message(Role.ASSISTANT, tuple(parts)),
        finish_reason=finish_reason(stop),
        provider_finish_reason=stop or "",
        stop_sequence=body.get("stop_sequence") or "",
        usage=decode_usage(body.get("usage")),
        upstream_request_id=upstream_request_id,
    )
