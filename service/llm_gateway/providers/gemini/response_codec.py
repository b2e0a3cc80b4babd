"""Gemini `GenerateContentResponse` -> the neutral model, unary and streamed.
Pure: no I/O.

Wire: https://ai.google.dev/api/generate-content#generatecontentresponse.
Rules (docs/providers/gemini.md):

- `candidates[0].content.parts` become parts in order: text, thought text
  (`thought: true` -> ReasoningPart, provider_type "gemini"), functionCall,
  inline / file images; `thoughtSignature` stays on the part it came on.
- Function calls arrive whole: a stream emits ToolCallStart, one
  ToolCallDelta with the whole arguments and ToolCallEnd at once. Their ids
  are Gemini's, or `call_<responseId>_<n>` (n counts the response's calls)
  when Gemini sends none.
- A stream's text chunks append to the current text (or thought) part; a
  chunk carrying a signature ends that part, so a signed part is never merged
  with text that follows it.
- A blocked prompt (`promptFeedback.blockReason`, no candidates) is a
  CONTENT_FILTERED error; output stopped by a filter is finish CONTENT_FILTER.
- Usage: input = promptTokenCount (+ toolUsePromptTokenCount; it includes
  cached tokens), cached = cachedContentTokenCount, output =
  candidatesTokenCount + thoughtsTokenCount, reasoning = thoughtsTokenCount.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ...core.errors import ContentFiltered, UnsupportedFeature, UpstreamProtocolError
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
from ...core.types import (
    ChatResponse,
    FinishReason,
    ImagePart,
    Message,
    Part,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    Usage,
)
from .chat_codec import FAMILY

# Every documented Candidate.FinishReason.
FINISH_REASONS = {
    "FINISH_REASON_UNSPECIFIED": FinishReason.UNSPECIFIED,
    "STOP": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "SAFETY": FinishReason.CONTENT_FILTER,
    "RECITATION": FinishReason.CONTENT_FILTER,
    "LANGUAGE": FinishReason.OTHER,
    "OTHER": FinishReason.OTHER,
    "BLOCKLIST": FinishReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "SPII": FinishReason.CONTENT_FILTER,
    "MALFORMED_FUNCTION_CALL": FinishReason.MALFORMED_TOOL_CALL,
    "IMAGE_SAFETY": FinishReason.CONTENT_FILTER,
    "IMAGE_PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "IMAGE_RECITATION": FinishReason.CONTENT_FILTER,
    "IMAGE_OTHER": FinishReason.OTHER,
    "NO_IMAGE": FinishReason.OTHER,
    "UNEXPECTED_TOOL_CALL": FinishReason.MALFORMED_TOOL_CALL,
    "TOO_MANY_TOOL_CALLS": FinishReason.OTHER,
}
# Part fields that carry content (Part.data in the reference).
_CONTENT_KEYS = frozenset({"text", "inlineData", "fileData", "functionCall",
                           "functionResponse", "executableCode", "codeExecutionResult"})


def finish_reason(raw: str | None, *, called_tools: bool) -> FinishReason:
    if not raw:
        return FinishReason.UNSPECIFIED
    reason = FINISH_REASONS.get(raw, FinishReason.OTHER)
    # Gemini ends a turn of function calls with STOP.
    if reason is FinishReason.STOP and called_tools:
        return FinishReason.TOOL_CALLS
    return reason


def decode_usage(raw: Mapping[str, Any] | None) -> Usage:
    if not raw:
        return Usage()
    thoughts = raw.get("thoughtsTokenCount")
    cached = raw.get("cachedContentTokenCount")
    return Usage(
        input_tokens=int(raw.get("promptTokenCount") or 0)
        + int(raw.get("toolUsePromptTokenCount") or 0),
        output_tokens=int(raw.get("candidatesTokenCount") or 0) + int(thoughts or 0),
        cached_input_tokens=None if cached is None else int(cached),
        reasoning_tokens=None if thoughts is None else int(thoughts),
    )


def check_prompt_feedback(body: Mapping[str, Any], provider: str, model: str,
                          upstream_request_id: str) -> None:
    """Raises CONTENT_FILTERED when Gemini refused the prompt itself."""
    feedback = body.get("promptFeedback") or {}
    reason = feedback.get("blockReason")
    if reason:
        raise ContentFiltered(f"the prompt was blocked ({reason})", provider=provider,
                              model=model, upstream_request_id=upstream_request_id)


def call_id(raw: Mapping[str, Any], response_id: str, ordinal: int) -> str:
    if raw.get("id"):
        return str(raw["id"])
    return f"call_{response_id}_{ordinal}" if response_id else f"call_{ordinal}"


def arguments_json(call: Mapping[str, Any]) -> str:
    args = call.get("args")
    return orjson.dumps(args if isinstance(args, dict) else {}).decode()


def _first_candidate(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    candidates = body.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return candidates[0]
    return None


def _parts(candidate: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = candidate.get("content") or {}
    return [p for p in content.get("parts") or () if isinstance(p, dict)]


def _image(part: Mapping[str, Any], provider: str, model: str) -> ImagePart | None:
    if "inlineData" in part:
        blob = part["inlineData"] or {}
        try:
            data = base64.b64decode(blob.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            raise UpstreamProtocolError("an inline image is not valid base64",
                                        provider=provider, model=model) from None
        return ImagePart(str(blob.get("mimeType") or ""), data=data)
    if "fileData" in part:
        file_data = part["fileData"] or {}
        return ImagePart(str(file_data.get("mimeType") or ""),
                         uri=str(file_data.get("fileUri") or ""))
    return None


# --- unary ------------------------------------------------------------------------


def decode_chat(body: Mapping[str, Any], *, provider: str, model: str,
                upstream_request_id: str = "") -> ChatResponse:
    check_prompt_feedback(body, provider, model, upstream_request_id)
    candidate = _first_candidate(body)
    if candidate is None:
        raise UpstreamProtocolError("the response has no candidates", provider=provider,
                                    model=model)
    response_id = str(body.get("responseId") or "")
    parts: list[Part] = []
    calls = 0
    for raw in _parts(candidate):
        signature = str(raw.get("thoughtSignature") or "")
        if "functionCall" in raw:
            call = raw["functionCall"] or {}
            parts.append(ToolCallPart(call_id(call, response_id, calls),
                                      str(call.get("name") or ""), arguments_json(call),
                                      thought_signature=signature))
            calls += 1
        elif "text" in raw or (signature and not raw.keys() & _CONTENT_KEYS):
            # (a signature may come on a part with no other content)
            text = str(raw.get("text") or "")
            parts.append(ReasoningPart(text, signature=signature, provider_type=FAMILY)
                         if raw.get("thought") else TextPart(text, thought_signature=signature))
        elif (image := _image(raw, provider, model)) is not None:
            parts.append(image)
        # executableCode / codeExecutionResult (code execution, a provider
        # option) have no neutral form and are not returned.
    raw_finish = candidate.get("finishReason")
    return ChatResponse(
        id=response_id,
        model=str(body.get("modelVersion") or model),
        message=Message(Role.ASSISTANT, tuple(parts)),
        finish_reason=finish_reason(raw_finish, called_tools=calls > 0),
        provider_finish_reason=raw_finish or "",
        usage=decode_usage(body.get("usageMetadata")),
        upstream_request_id=upstream_request_id,
    )


# --- stream -------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    kind: str  # "text" | "reasoning"
    index: int


class ChatStreamDecoder:
    """Turns each SSE `GenerateContentResponse` fragment into neutral events
    as it arrives. Parts are numbered in order of appearance; the stream ends
    at EOF (Gemini sends no terminator), where `finish()` closes it."""

    def __init__(self, provider: str, model: str, upstream_request_id: str = "") -> None:
        self._provider = provider
        self._model = model
        self._upstream_request_id = upstream_request_id
        self._started = False
        self._response_id = ""
        self._next_part = 0
        self._open: _Open | None = None
        self._calls = 0
        self._finish: str | None = None
        self._usage: Usage | None = None

    @property
    def finished(self) -> bool:
        return self._finish is not None

    def feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        check_prompt_feedback(chunk, self._provider, self._model, self._upstream_request_id)
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            self._response_id = str(chunk.get("responseId") or "")
            out.append(StreamStart(self._response_id,
                                   str(chunk.get("modelVersion") or self._model),
                                   self._upstream_request_id))
        candidate = _first_candidate(chunk)
        if candidate is not None:
            for raw in _parts(candidate):
                self._part(raw, out)
            if candidate.get("finishReason"):
                self._finish = str(candidate["finishReason"])
        if chunk.get("usageMetadata"):
            usage = decode_usage(chunk["usageMetadata"])
            if usage != self._usage:  # every fragment repeats the usage so far
                self._usage = usage
                out.append(UsageUpdate(usage))
        return out

    def _new_index(self) -> int:
        index = self._next_part
        self._next_part += 1
        return index

    def _part(self, raw: Mapping[str, Any], out: list[StreamEvent]) -> None:
        signature = str(raw.get("thoughtSignature") or "")
        if "functionCall" in raw:
            self._open = None
            call = raw["functionCall"] or {}
            index = self._new_index()
            done = ToolCallPart(call_id(call, self._response_id, self._calls),
                                str(call.get("name") or ""), arguments_json(call),
                                thought_signature=signature)
            self._calls += 1
            out.append(ToolCallStart(index, done.id, done.name, thought_signature=signature))
            out.append(ToolCallDelta(index, done.arguments_json))
            out.append(ToolCallEnd(index, done))
        elif "text" in raw or (signature and not raw.keys() & _CONTENT_KEYS):
            kind = "reasoning" if raw.get("thought") else "text"
            self._text(kind, str(raw.get("text") or ""), signature, out)
        elif "inlineData" in raw or "fileData" in raw:
            raise UnsupportedFeature(self._provider, "image output in a stream",
                                     "call without streaming")

    def _text(self, kind: str, text: str, signature: str, out: list[StreamEvent]) -> None:
        if not text and not signature:
            return
        if self._open is None or self._open.kind != kind:
            self._open = _Open(kind, self._new_index())
        index = self._open.index
        if kind == "reasoning":
            out.append(ReasoningDelta(index, text=text, signature=signature,
                                      provider_type=FAMILY))
        else:
            out.append(TextDelta(index, text, thought_signature=signature))
        if signature:
            self._open = None  # a signed part is complete: never merge into it

    def finish(self) -> list[StreamEvent]:
        """EOF: the closing event. A stream without a finish reason was cut."""
        if self._finish is None:
            raise UpstreamProtocolError("the stream ended before the response was complete",
                                        provider=self._provider, model=self._model)
        return [StreamDone(finish_reason(self._finish, called_tools=self._calls > 0),
                           self._finish, usage=self._usage or Usage())]
