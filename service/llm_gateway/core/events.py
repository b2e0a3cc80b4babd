"""Neutral chat stream events (mirrors StreamChatResponse in chat.proto).

Adapters yield these in order; `index` is the part's position in the final
assistant message, so a consumer can rebuild exactly the unary response (see
`accumulate.py`). A well-formed stream is: one StreamStart, deltas, any number
of UsageUpdates, exactly one StreamDone.
"""

from __future__ import annotations

from dataclasses import dataclass

from .types import FinishReason, ToolCallPart, Usage


@dataclass(frozen=True, slots=True)
class StreamStart:
    id: str
    model: str
    upstream_request_id: str = ""
    # Stamped by the gateway.
    provider: str = ""
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class TextDelta:
    index: int
    text: str
    thought_signature: str = ""


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    index: int
    text: str = ""
    signature: str = ""
    redacted_data: bytes = b""
    id: str = ""
    provider_type: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    index: int
    id: str
    name: str
    thought_signature: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    arguments_fragment: str


@dataclass(frozen=True, slots=True)
class ToolCallEnd:
    index: int
    tool_call: ToolCallPart


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    usage: Usage


@dataclass(frozen=True, slots=True)
class StreamDone:
    finish_reason: FinishReason
    provider_finish_reason: str = ""
    stop_sequence: str = ""
    usage: Usage = Usage()


StreamEvent = (
    StreamStart
    | TextDelta
    | ReasoningDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageUpdate
    | StreamDone
)
