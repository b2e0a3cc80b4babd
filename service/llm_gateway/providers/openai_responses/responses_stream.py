"""Responses API stream events -> neutral stream events. Pure: no I/O.

Wire reference: https://platform.openai.com/docs/api-reference/responses-streaming
(typed events, each with `type` and `sequence_number`). Output items arrive in
order, each between `response.output_item.added` and `.done`, and every
per-item event names its item by `output_index`; that is how events map to
neutral parts. A part's index is allocated when the part begins: a reasoning
item or function call at `output_item.added`, a message's text at its first
delta (one part per content part, as in unary decoding; empty ones make no
part). Failures (`error`, `response.failed`) are reported by
`responses_codec.failure`, which the adapter checks before feeding an event;
other event types the decoder does not need are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)
from .config import TYPE
from .responses_codec import (
    SUMMARY_SEPARATOR,
    content_text,
    decode_usage,
    finish_reason,
    summary_text,
    tool_call_part,
)

TERMINAL = frozenset({"response.completed", "response.incomplete"})


@dataclass(slots=True)
class _Reasoning:
    part: int
    has_text: bool = False
    summaries: set[int] = field(default_factory=set)


@dataclass(slots=True)
class _Call:
    part: int
    id: str
    name: str
    args: list[str] = field(default_factory=list)
    ended: bool = False


class ResponsesStreamDecoder:
    """Feed it each parsed event (a JSON object) in order; it returns the
    neutral events that event completes, at once. `finished` says whether the
    terminal event (`response.completed` / `response.incomplete`) came, which
    also produced the StreamDone."""

    def __init__(self, upstream_request_id: str = "") -> None:
        self._upstream_request_id = upstream_request_id
        self._started = False
        self._next_part = 0
        self._reasoning: dict[int, _Reasoning] = {}
        self._texts: dict[tuple[int, int], int] = {}
        self._calls: dict[int, _Call] = {}
        self._refused = False
        self.finished = False

    def feed(self, event: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self._started:
            # response.created comes first; should it not, the start still does.
            self._started = True
            response = event.get("response")
            response = response if isinstance(response, Mapping) else {}
            out.append(StreamStart(response.get("id") or "", response.get("model") or "",
                                   self._upstream_request_id))
        handler = _HANDLERS.get(str(event.get("type")))
        if handler is not None and not self.finished:
            handler(self, event, out)
        return out

    def _part(self) -> int:
        index = self._next_part
        self._next_part += 1
        return index

    # --- items ------------------------------------------------------------------

    def _item_added(self, event: Mapping[str, Any], out: list[StreamEvent]) -> None:
        item = event.get("item") or {}
        index = int(event.get("output_index") or 0)
        if item.get("type") == "reasoning":
            self._reasoning_at(index, item.get("id") or "", out)
        elif item.get("type") == "function_call":
            self._call_at(index, item, out)

    def _reasoning_at(self, index: int, item_id: str, out: list[StreamEvent]) -> _Reasoning:
        reasoning = self._reasoning.get(index)
        if reasoning is None:
            reasoning = self._reasoning[index] = _Reasoning(self._part())
            # Opens the part with its id, so an item without any summary or
            # encrypted content still shows up, as in unary decoding.
            out.append(ReasoningDelta(reasoning.part, id=item_id, provider_type=TYPE))
        return reasoning

    def _call_at(self, index: int, item: Mapping[str, Any], out: list[StreamEvent]) -> _Call:
        call = self._calls.get(index)
        if call is None:
            part = self._part()
            call = self._calls[index] = _Call(part, item.get("call_id") or f"call_{part}",
                                              item.get("name") or "")
            out.append(ToolCallStart(part, call.id, call.name))
            if item.get("arguments"):
                call.args.append(item["arguments"])
                out.append(ToolCallDelta(part, item["arguments"]))
        return call

    def _item_done(self, event: Mapping[str, Any], out: list[StreamEvent]) -> None:
        item = event.get("item") or {}
        index = int(event.get("output_index") or 0)
        kind = item.get("type")
        if kind == "function_call":
            call = self._call_at(index, item, out)
            self._end_call(call, item, out)
        elif kind == "reasoning":
            reasoning = self._reasoning_at(index, item.get("id") or "", out)
            text = summary_text(item)
            if text and not reasoning.has_text:  # no summary deltas came
                reasoning.has_text = True
                out.append(ReasoningDelta(reasoning.part, text=text))
            if item.get("encrypted_content"):
                out.append(ReasoningDelta(reasoning.part, signature=item["encrypted_content"],
                                          provider_type=TYPE))
        elif kind == "message":
            for content_index, content in enumerate(item.get("content") or ()):
                if (index, content_index) not in self._texts:  # no deltas came
                    text, refusal = content_text(content)
                    self._text(index, content_index, text, refusal, out)

    def _end_call(self, call: _Call, item: Mapping[str, Any], out: list[StreamEvent]) -> None:
        if not call.ended:
            call.ended = True
            done = tool_call_part({"call_id": call.id, "name": call.name, **item}, call.id,
                                  "".join(call.args))
            out.append(ToolCallEnd(call.part, done))

    # --- deltas -------------------------------------------------------------------

    def _text(self, index: int, content_index: int, text: str, refusal: bool,
              out: list[StreamEvent]) -> None:
        if not text:
            return
        key = (index, content_index)
        part = self._texts.get(key)
        if part is None:
            part = self._texts[key] = self._part()
        self._refused = self._refused or refusal
        out.append(TextDelta(part, text))

    def _text_delta(self, event: Mapping[str, Any], out: list[StreamEvent]) -> None:
        self._text(int(event.get("output_index") or 0), int(event.get("content_index") or 0),
                   event.get("delta") or "", event.get("type") == "response.refusal.delta", out)

    def _arguments_delta(self, event: Mapping[str, Any], out: list[StreamEvent]) -> None:
        call = self._calls.get(int(event.get("output_index") or 0))
        fragment = event.get("delta") or ""
        # A call never announced gets its complete arguments at output_item.done.
        if call is not None and fragment and not call.ended:
            call.args.append(fragment)
            out.append(ToolCallDelta(call.part, fragment))

    def _summary_delta(self, event: Mapping[str, Any], out: list[StreamEvent]) -> None:
        reasoning = self._reasoning_at(int(event.get("output_index") or 0),
                                       event.get("item_id") or "", out)
        text = event.get("delta") or ""
        summary = int(event.get("summary_index") or 0)
        if summary not in reasoning.summaries:
            reasoning.summaries.add(summary)
            if reasoning.has_text and text:
                text = SUMMARY_SEPARATOR + text  # as unary decoding joins them
        if text:
            reasoning.has_text = True
            out.append(ReasoningDelta(reasoning.part, text=text))

    # --- the end --------------------------------------------------------------------

    def _terminal(self, event: Mapping[str, Any], out: list[StreamEvent]) -> None:
        response = event.get("response") or {}
        for call in self._calls.values():
            self._end_call(call, {}, out)  # cut short: what arrived is what there is
        finish, raw = finish_reason(response, tool_calls=bool(self._calls),
                                    refused=self._refused)
        out.append(StreamDone(finish, raw, usage=decode_usage(response.get("usage"))))
        self.finished = True


_Handler = Callable[[ResponsesStreamDecoder, Mapping[str, Any], list[StreamEvent]], None]
_HANDLERS: dict[str, _Handler] = {
    "response.output_item.added": ResponsesStreamDecoder._item_added,
    "response.output_item.done": ResponsesStreamDecoder._item_done,
    "response.output_text.delta": ResponsesStreamDecoder._text_delta,
    "response.refusal.delta": ResponsesStreamDecoder._text_delta,
    "response.function_call_arguments.delta": ResponsesStreamDecoder._arguments_delta,
    "response.reasoning_summary_text.delta": ResponsesStreamDecoder._summary_delta,
    **dict.fromkeys(TERMINAL, ResponsesStreamDecoder._terminal),
}
