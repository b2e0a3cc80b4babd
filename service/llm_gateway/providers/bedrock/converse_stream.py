"""ConverseStream events -> neutral stream events. Pure: no I/O.

Wire reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html
The events of one response, in order:

    messageStart {role}
    contentBlockStart {contentBlockIndex, start: {toolUse: {toolUseId, name}}}  (tool use only)
    contentBlockDelta {contentBlockIndex, delta: {text} | {toolUse: {input}} |
                       {reasoningContent: {text} | {signature} | {redactedContent}}}
    contentBlockStop {contentBlockIndex}
    messageStop {stopReason, additionalModelResponseFields?}
    metadata {usage, metrics}                  <- usage arrives after messageStop

So StreamDone (which carries the final usage) goes out when `metadata` has
arrived after `messageStop`, or at the end of the body if it never does.
Parts are numbered by first appearance of their contentBlockIndex.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import UpstreamProtocolError
from ...core.events import (
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
from ...core.types import ToolCallPart, Usage
from .converse_codec import PROVIDER_TYPE, decode_usage, finish_reason, stop_sequence


@dataclass(slots=True)
class _Block:
    part: int
    kind: str  # "text" | "reasoning" | "tool"
    id: str = ""
    name: str = ""
    args: list[str] = field(default_factory=list)
    ended: bool = False


class ConverseStreamDecoder:
    """Feed it each event (`:event-type` and parsed JSON payload) as it
    arrives; it returns the neutral events that event completes."""

    def __init__(self, model: str, upstream_request_id: str, provider: str) -> None:
        self._model = model
        self._upstream_request_id = upstream_request_id
        self._provider = provider
        self._started = False
        self._blocks: dict[int, _Block] = {}
        self._stop: str | None = None
        self._stop_sequence = ""
        self._usage: Usage | None = None
        self._done = False

    @property
    def finished(self) -> bool:
        """messageStop has arrived: the response is complete."""
        return self._stop is not None

    def feed(self, event_type: str, payload: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if self._done:
            return out
        if not self._started:
            self._started = True
            out.append(StreamStart(self._upstream_request_id, self._model,
                                   self._upstream_request_id))
        if event_type == "contentBlockStart":
            self._block_start(payload, out)
        elif event_type == "contentBlockDelta":
            self._delta(payload, out)
        elif event_type == "contentBlockStop":
            block = self._blocks.get(self._index(payload))
            if block is not None:
                self._end(block, out)
        elif event_type == "messageStop":
            for block in self._blocks.values():
                self._end(block, out)
            self._stop = str(payload.get("stopReason") or "")
            self._stop_sequence = stop_sequence(payload.get("additionalModelResponseFields"))
        elif event_type == "metadata":
            self._usage = decode_usage(payload.get("usage"))
            out.append(UsageUpdate(self._usage))
        # messageStart only starts the stream; unknown events are ignored
        # (new event kinds must not break existing streams).
        if self._stop is not None and self._usage is not None:
            out.append(self._done_event())
        return out

    def finish(self) -> list[StreamEvent]:
        """The end of the body: StreamDone if the response was complete."""
        if self._done:
            return []
        if self._stop is None:
            raise UpstreamProtocolError("the stream ended before messageStop",
                                        provider=self._provider, model=self._model)
        return [self._done_event()]

    # --- events -------------------------------------------------------------

    def _index(self, payload: Mapping[str, Any]) -> int:
        index = payload.get("contentBlockIndex")
        if not isinstance(index, int):
            raise UpstreamProtocolError("a content block event has no contentBlockIndex",
                                        provider=self._provider, model=self._model)
        return index

    def _block(self, index: int, kind: str) -> _Block:
        block = self._blocks.get(index)
        if block is None:
            block = self._blocks[index] = _Block(len(self._blocks), kind)
        elif block.kind != kind:
            raise UpstreamProtocolError(
                f"content block {index} changed from {block.kind} to {kind}",
                provider=self._provider, model=self._model)
        return block

    def _block_start(self, payload: Mapping[str, Any], out: list[StreamEvent]) -> None:
        use = (payload.get("start") or {}).get("toolUse")
        if use is None:
            return  # toolResult / image starts belong to server-side tools
        block = self._block(self._index(payload), "tool")
        block.id, block.name = str(use.get("toolUseId", "")), str(use.get("name", ""))
        out.append(ToolCallStart(block.part, block.id, block.name))

    def _delta(self, payload: Mapping[str, Any], out: list[StreamEvent]) -> None:
        index = self._index(payload)
        delta = payload.get("delta") or {}
        if "text" in delta:
            out.append(TextDelta(self._block(index, "text").part, str(delta["text"])))
        elif "toolUse" in delta:
            block = self._blocks.get(index)
            if block is None or block.kind != "tool":
                raise UpstreamProtocolError("tool input arrived before its contentBlockStart",
                                            provider=self._provider, model=self._model)
            fragment = str((delta["toolUse"] or {}).get("input", ""))
            if fragment:
                block.args.append(fragment)
                out.append(ToolCallDelta(block.part, fragment))
        elif "reasoningContent" in delta:
            part = self._block(index, "reasoning").part
            out.append(self._reasoning(part, delta["reasoningContent"] or {}))
        # citation / toolResult / image deltas: kinds the gateway never asks for.

    def _reasoning(self, part: int, delta: Mapping[str, Any]) -> ReasoningDelta:
        if "redactedContent" in delta:
            try:
                data = base64.b64decode(delta["redactedContent"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise UpstreamProtocolError("redactedContent is not base64",
                                            provider=self._provider, model=self._model) from None
            return ReasoningDelta(part, redacted_data=data, provider_type=PROVIDER_TYPE)
        return ReasoningDelta(part, text=str(delta.get("text", "")),
                              signature=str(delta.get("signature", "")),
                              provider_type=PROVIDER_TYPE)

    def _end(self, block: _Block, out: list[StreamEvent]) -> None:
        if block.kind != "tool" or block.ended:
            return
        block.ended = True
        out.append(ToolCallEnd(block.part, ToolCallPart(block.id, block.name,
                                                        "".join(block.args) or "{}")))

    def _done_event(self) -> StreamDone:
        self._done = True
        raw = self._stop or ""
        return StreamDone(finish_reason(raw), raw, self._stop_sequence,
                          usage=self._usage or Usage())
