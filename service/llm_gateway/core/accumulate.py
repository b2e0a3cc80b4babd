"""Rebuilds a ChatResponse from stream events: the contract's promise that a
stream and a unary call say the same thing, as the reference implementation
of that reading (the clients carry their own, over protobuf).

Pure bookkeeping, no I/O. Tests use it to check that an adapter's stream and
its unary decoding agree, and that coalescing changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from .types import (
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


@dataclass(slots=True)
class _PartBuilder:
    kind: str  # "text" | "reasoning" | "tool_call"
    text: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    redacted: list[bytes] = field(default_factory=list)
    id: str = ""
    name: str = ""
    provider_type: str = ""
    done_call: ToolCallPart | None = None

    def build(self) -> Part:
        if self.kind == "text":
            return TextPart("".join(self.text), thought_signature="".join(self.signature))
        if self.kind == "reasoning":
            return ReasoningPart(
                text="".join(self.text),
                signature="".join(self.signature),
                redacted_data=b"".join(self.redacted),
                id=self.id,
                provider_type=self.provider_type,
            )
        if self.done_call is not None:
            return self.done_call
        return ToolCallPart(
            self.id, self.name, "".join(self.text), thought_signature="".join(self.signature)
        )


class StreamProtocolError(ValueError):
    """The events break the stream contract (a bug in an adapter)."""


class StreamAccumulator:
    def __init__(self) -> None:
        self.start: StreamStart | None = None
        self.done: StreamDone | None = None
        self.usage = Usage()
        self._parts: dict[int, _PartBuilder] = {}

    def add(self, event: StreamEvent) -> None:
        if self.done is not None:
            raise StreamProtocolError("event after StreamDone")
        match event:
            case StreamStart():
                if self.start is not None:
                    raise StreamProtocolError("second StreamStart")
                self.start = event
            case TextDelta(index=i, text=t, thought_signature=sig):
                b = self._part(i, "text")
                b.text.append(t)
                if sig:
                    b.signature.append(sig)
            case ReasoningDelta():
                b = self._part(event.index, "reasoning")
                b.text.append(event.text)
                b.signature.append(event.signature)
                b.redacted.append(event.redacted_data)
                b.id = event.id or b.id
                b.provider_type = event.provider_type or b.provider_type
            case ToolCallStart(index=i, id=call_id, name=name, thought_signature=sig):
                b = self._part(i, "tool_call")
                b.id, b.name = call_id, name
                if sig:
                    b.signature.append(sig)
            case ToolCallDelta(index=i, arguments_fragment=frag):
                self._part(i, "tool_call").text.append(frag)
            case ToolCallEnd(index=i, tool_call=call):
                self._part(i, "tool_call").done_call = call
            case UsageUpdate(usage=u):
                self.usage = u
            case StreamDone():
                self.done = event
                self.usage = event.usage

    def _part(self, index: int, kind: str) -> _PartBuilder:
        b = self._parts.get(index)
        if b is None:
            b = self._parts[index] = _PartBuilder(kind)
        elif b.kind != kind:
            raise StreamProtocolError(f"part {index} is {b.kind}, got a {kind} event")
        return b

    def response(self) -> ChatResponse:
        start = self.start or StreamStart(id="", model="")
        done = self.done or StreamDone(FinishReason.UNSPECIFIED, usage=self.usage)
        parts = tuple(self._parts[i].build() for i in sorted(self._parts))
        return ChatResponse(
            id=start.id,
            model=start.model,
            message=Message(Role.ASSISTANT, parts),
            finish_reason=done.finish_reason,
            provider_finish_reason=done.provider_finish_reason,
            stop_sequence=done.stop_sequence,
            usage=done.usage,
            upstream_request_id=start.upstream_request_id,
            provider=start.provider,
            request_id=start.request_id,
        )


def accumulate(events: list[StreamEvent]) -> ChatResponse:
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    return acc.response()
