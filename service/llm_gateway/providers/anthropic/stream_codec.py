"""Anthropic's streamed Messages events -> neutral stream events, one upstream
event at a time. Pure (it raises core errors, it does no I/O).

Wire reference: https://platform.claude.com/docs/en/build-with-claude/streaming.
message_start, then per content block content_block_start / _delta / _stop
(the block's `index` is its position in the final content, and so the part
index here), then message_delta (stop_reason and CUMULATIVE usage), then
message_stop. `ping` may come anywhere; unknown event and delta types are
ignored, as Anthropic's versioning policy asks. `error` events are turned
into errors by the adapter, which owns the HTTP context.
"""

from __future__ import annotations

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
from ...core.types import ToolCallPart
from .response_codec import decode_usage, finish_reason, merge_usage, tool_arguments


@dataclass(slots=True)
class _Block:
    kind: str  # the content block type
    id: str = ""
    name: str = ""
    args: list[str] = field(default_factory=list)
    open: bool = True


class MessagesStreamDecoder:
    def __init__(self, upstream_request_id: str = "", *, provider: str, model: str,
                 provider_type: str = "anthropic") -> None:
        self._upstream_request_id = upstream_request_id
        self._provider = provider
        self._model = model
        self._provider_type = provider_type
        self._started = False
        self._finished = False
        self._blocks: dict[int, _Block] = {}
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None

    @property
    def finished(self) -> bool:
        """message_stop arrived: the response is complete."""
        return self._finished

    def feed(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        kind = event.get("type")
        if kind == "message_start":
            return self._message_start(event.get("message") or {})
        handler = _HANDLERS.get(str(kind))
        if handler is None:
            return []  # ping, and event types added after this was written
        if not self._started:
            raise self._error(f"{kind} before message_start")
        if self._finished:
            raise self._error(f"{kind} after message_stop")
        return handler(self, event)

    # --- message events ---------------------------------------------------------

    def _message_start(self, message: Mapping[str, Any]) -> list[StreamEvent]:
        if self._started:
            raise self._error("a second message_start")
        self._started = True
        out: list[StreamEvent] = [StreamStart(str(message.get("id") or ""),
                                              str(message.get("model") or ""),
                                              self._upstream_request_id)]
        usage = message.get("usage")
        if usage:
            self._usage = merge_usage({}, usage)
            out.append(UsageUpdate(decode_usage(self._usage)))
        return out

    def _message_delta(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        delta = event.get("delta") or {}
        if delta.get("stop_reason"):
            self._stop_reason = delta["stop_reason"]
        if delta.get("stop_sequence"):
            self._stop_sequence = delta["stop_sequence"]
        usage = event.get("usage")
        if not usage:
            return []
        self._usage = merge_usage(self._usage, usage)
        return [UsageUpdate(decode_usage(self._usage))]

    def _message_stop(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        unfinished = [i for i, b in self._blocks.items() if b.kind == "tool_use" and b.open]
        if unfinished:
            raise self._error(f"the tool call in block {unfinished[0]} was never closed")
        self._finished = True
        return [StreamDone(finish_reason(self._stop_reason), self._stop_reason or "",
                           self._stop_sequence or "", decode_usage(self._usage))]

    # --- content block events ------------------------------------------------------

    def _block_start(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        index = self._index(event)
        if index in self._blocks:
            raise self._error(f"content block {index} started twice")
        raw = event.get("content_block") or {}
        block = self._blocks[index] = _Block(str(raw.get("type") or ""))
        kind = block.kind
        if kind == "text":
            text = raw.get("text") or ""
            return [TextDelta(index, text)] if text else []
        if kind == "thinking":
            thinking, signature = raw.get("thinking") or "", raw.get("signature") or ""
            if not (thinking or signature):
                return []
            return [ReasoningDelta(index, text=thinking, signature=signature,
                                   provider_type=self._provider_type)]
        if kind == "redacted_thinking":
            return [ReasoningDelta(index, redacted_data=str(raw.get("data") or "").encode(),
                                   provider_type=self._provider_type)]
        if kind == "tool_use":
            block.id, block.name = str(raw.get("id") or ""), str(raw.get("name") or "")
            out: list[StreamEvent] = [ToolCallStart(index, block.id, block.name)]
            if raw.get("input"):  # normally {} with the input streamed after
                block.args.append(tool_arguments(raw["input"]))
                out.append(ToolCallDelta(index, block.args[0]))
            return out
        return []  # server tool blocks: never requested by the gateway

    def _block_delta(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        index = self._index(event)
        block = self._blocks.get(index)
        if block is None or not block.open:
            raise self._error(f"a delta for content block {index}, which is not open")
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta" and block.kind == "text":
            text = delta.get("text") or ""
            return [TextDelta(index, text)] if text else []
        if kind == "input_json_delta" and block.kind == "tool_use":
            fragment = delta.get("partial_json") or ""
            if not fragment:
                return []
            block.args.append(fragment)
            return [ToolCallDelta(index, fragment)]
        if kind == "thinking_delta" and block.kind == "thinking":
            return [ReasoningDelta(index, text=delta.get("thinking") or "",
                                   provider_type=self._provider_type)]
        if kind == "signature_delta" and block.kind == "thinking":
            return [ReasoningDelta(index, signature=delta.get("signature") or "",
                                   provider_type=self._provider_type)]
        if block.kind in _PART_BLOCKS and kind in _DELTA_KINDS \
                and _DELTA_KINDS[kind] != block.kind:
            raise self._error(f"a {kind} for a {block.kind} block")
        # citations_delta: citations have no place in the neutral model;
        # deltas of server tool blocks and of types added after this was
        # written: nothing to forward.
        return []

    def _block_stop(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        index = self._index(event)
        block = self._blocks.get(index)
        if block is None or not block.open:
            raise self._error(f"content_block_stop for block {index}, which is not open")
        block.open = False
        if block.kind != "tool_use":
            return []
        arguments = "".join(block.args) or "{}"
        return [ToolCallEnd(index, ToolCallPart(block.id, block.name, arguments))]

    # --- helpers -----------------------------------------------------------------------

    def _index(self, event: Mapping[str, Any]) -> int:
        index = event.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise self._error(f"{event.get('type')} without a valid index")
        return index

    def _error(self, what: str) -> UpstreamProtocolError:
        return UpstreamProtocolError(f"malformed stream: {what}", provider=self._provider,
                                     model=self._model)


# The block types that become parts; other blocks (server tools) are skipped.
_PART_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking"})
# Which block type each known delta type belongs to.
_DELTA_KINDS = {"text_delta": "text", "input_json_delta": "tool_use",
                "thinking_delta": "thinking", "signature_delta": "thinking",
                "citations_delta": "text"}

_HANDLERS = {
    "content_block_start": MessagesStreamDecoder._block_start,
    "content_block_delta": MessagesStreamDecoder._block_delta,
    "content_block_stop": MessagesStreamDecoder._block_stop,
    "message_delta": MessagesStreamDecoder._message_delta,
    "message_stop": MessagesStreamDecoder._message_stop,
}
