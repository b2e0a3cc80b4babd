"""OpenAI Chat Completions <-> the neutral model. Pure functions: no I/O.

Wire reference: https://platform.openai.com/docs/api-reference/chat and the
compatible servers' own pages (presets.py). Translation choices:
- the system prompt is the first message (`role: system`);
- reasoning parts of earlier turns are not sent back (the API has no field
  for them), except as `reasoning_content` where the preset needs it;
- Gemini thought signatures mean nothing here and are not sent;
- streamed reasoning is read from `reasoning_content` (DeepSeek, older vLLM)
  or `reasoning` (vLLM >= 0.10, Ollama, OpenRouter);
- usage is always requested in streams (`stream_options.include_usage`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import UnsupportedFeature
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
    ChatRequest,
    ChatResponse,
    ChoiceFormat,
    FinishReason,
    GenerationConfig,
    GrammarFormat,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    Part,
    ReasoningEffort,
    ReasoningPart,
    RegexFormat,
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from .presets import Preset

FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}
_EFFORTS = {
    ReasoningEffort.NONE: "none", ReasoningEffort.MINIMAL: "minimal",
    ReasoningEffort.LOW: "low", ReasoningEffort.MEDIUM: "medium",
    ReasoningEffort.HIGH: "high", ReasoningEffort.XHIGH: "xhigh",
    ReasoningEffort.MAX: "xhigh",
}
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


# --- request ------------------------------------------------------------------


def encode_chat(request: ChatRequest, model: str, preset: Preset, provider: str, *,
                stream: bool, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": encode_messages(request, preset,
                                                                          provider)}
    encode_sampling(body, request.generation, preset, provider, preset.max_tokens_field)
    if request.tools:
        body["tools"] = [encode_tool(t, preset, provider) for t in request.tools]
    if request.tool_choice is not None:
        _tool_choice(body, request)
    _response_format(body, request, preset, provider)
    _reasoning(body, request, preset, provider)
    if request.metadata.end_user_id:
        body["user"] = request.metadata.end_user_id
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if options:
        body.update(options)
    return body


def encode_messages(request: ChatRequest, preset: Preset, provider: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system_text()})
    for message in request.messages:
        if message.role is Role.USER:
            out.append(_user(message, provider))
        elif message.role is Role.ASSISTANT:
            out.append(_assistant(message, preset))
        else:
            out.extend(_tool_results(message, provider))
    return out


def _user(message: Message, provider: str) -> dict[str, Any]:
    parts = message.parts
    entry: dict[str, Any] = {"role": "user"}
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        entry["content"] = parts[0].text
    else:
        entry["content"] = [_content_part(p, provider) for p in parts]
    if message.name:
        entry["name"] = message.name
    return entry


def _content_part(part: Part, provider: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    assert isinstance(part, ImagePart)
    return {"type": "image_url", "image_url": {"url": image_url(part, provider)}}


def image_url(part: ImagePart, provider: str) -> str:
    if part.data is not None:
        return f"data:{part.mime_type};base64,{base64.b64encode(part.data).decode()}"
    uri = part.uri or ""
    if not uri.startswith(("http://", "https://")):
        raise UnsupportedFeature(provider, "image URIs other than http(s)",
                                 "send the image bytes instead")
    return uri


def _assistant(message: Message, preset: Preset) -> dict[str, Any]:
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
    calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
    entry: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        entry["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments_json}}
            for c in calls
        ]
    if preset.echo_reasoning_content:
        reasoning = "".join(p.text for p in message.parts if isinstance(p, ReasoningPart))
        if reasoning:
            entry["reasoning_content"] = reasoning
    if message.name:
        entry["name"] = message.name
    return entry


def _tool_results(message: Message, provider: str) -> list[dict[str, Any]]:
    out = []
    for part in message.parts:
        assert isinstance(part, ToolResultPart)
        if any(isinstance(p, ImagePart) for p in part.content):
            raise UnsupportedFeature(provider, "images in tool results")
        out.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": part.text()})
    return out


def encode_sampling(body: dict[str, Any], g: GenerationConfig, preset: Preset, provider: str,
                    max_tokens_field: str) -> None:
    """Sampling and length controls, shared by chat and text completion."""
    if g.max_output_tokens is not None:
        body[max_tokens_field] = g.max_output_tokens
    for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        value = getattr(g, name)
        if value is not None:
            body[name] = value
    for name in ("top_k", "min_p", "repetition_penalty"):
        value = getattr(g, name)
        if value is not None:
            if name not in preset.sampling_extras:
                raise UnsupportedFeature(provider, name)
            body[name] = value
    if g.stop_sequences:
        body["stop"] = list(g.stop_sequences)
    if g.seed is not None:
        body[preset.seed_field] = g.seed


def encode_tool(tool: Any, preset: Preset, provider: str) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters or EMPTY_SCHEMA}
    if tool.description:
        fn["description"] = tool.description
    if tool.strict is not None:
        if tool.strict and not preset.strict_tools:
            raise UnsupportedFeature(provider, "strict tools")
        fn["strict"] = tool.strict
    return {"type": "function", "function": fn}


def _tool_choice(body: dict[str, Any], request: ChatRequest) -> None:
    choice = request.tool_choice
    assert choice is not None
    if choice.function_name:
        body["tool_choice"] = {"type": "function", "function": {"name": choice.function_name}}
    elif choice.mode is not None:
        body["tool_choice"] = choice.mode.value
    if choice.parallel_tool_calls is not None and request.tools:
        body["parallel_tool_calls"] = choice.parallel_tool_calls


def _response_format(body: dict[str, Any], request: ChatRequest, preset: Preset,
                     provider: str) -> None:
    fmt = request.response_format
    if fmt is None or isinstance(fmt, TextFormat):
        return
    if isinstance(fmt, JsonObjectFormat):
        body["response_format"] = {"type": "json_object"}
    elif isinstance(fmt, JsonSchemaFormat):
        schema: dict[str, Any] = {"name": fmt.name or "response", "schema": dict(fmt.schema)}
        if fmt.description:
            schema["description"] = fmt.description
        if fmt.strict is not None:
            schema["strict"] = fmt.strict
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    else:
        if not preset.guided_decoding:
            kind = type(fmt).__name__.removesuffix("Format").lower()
            raise UnsupportedFeature(provider, f"{kind}-constrained output")
        body["structured_outputs"] = guided(fmt)


def guided(fmt: RegexFormat | GrammarFormat | ChoiceFormat | Any) -> dict[str, Any]:
    """vLLM's `structured_outputs` (named guided_* before vLLM 0.12)."""
    if isinstance(fmt, RegexFormat):
        return {"regex": fmt.pattern}
    if isinstance(fmt, GrammarFormat):
        return {"grammar": fmt.grammar}
    return {"choice": list(fmt.choices)}


def _reasoning(body: dict[str, Any], request: ChatRequest, preset: Preset,
               provider: str) -> None:
    r = request.reasoning
    if r is None:
        return
    if r.budget_tokens is not None:
        raise UnsupportedFeature(provider, "a reasoning token budget",
                                 "this API takes a reasoning effort instead")
    if r.effort is not None:
        if not preset.reasoning_effort:
            raise UnsupportedFeature(provider, "reasoning effort")
        body["reasoning_effort"] = _EFFORTS[r.effort]


# --- response -------------------------------------------------------------------


def decode_usage(raw: Mapping[str, Any] | None) -> Usage:
    if not raw:
        return Usage()
    prompt = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=int(raw.get("prompt_tokens") or 0),
        output_tokens=int(raw.get("completion_tokens") or 0),
        cached_input_tokens=_int_or_none(prompt.get("cached_tokens")),
        reasoning_tokens=_int_or_none(completion.get("reasoning_tokens")),
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _reasoning_text(message: Mapping[str, Any]) -> str:
    value = message.get("reasoning_content") or message.get("reasoning")
    return value if isinstance(value, str) else ""


def _text(content: Any) -> str:
    """`content` is a string, or (Mistral reasoning models) a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, dict) and p.get("type") == "text")
    return ""


def finish_reason(raw: str | None) -> FinishReason:
    if raw is None:
        return FinishReason.UNSPECIFIED
    return FINISH_REASONS.get(raw, FinishReason.OTHER)


def decode_chat(body: Mapping[str, Any], upstream_request_id: str = "") -> ChatResponse:
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    parts: list[Part] = []
    reasoning = _reasoning_text(message)
    if reasoning:
        parts.append(ReasoningPart(reasoning))
    text = _text(message.get("content"))
    if text:
        parts.append(TextPart(text))
    raw_finish = choice.get("finish_reason")
    finish = finish_reason(raw_finish)
    refusal = message.get("refusal")
    if refusal:
        parts.append(TextPart(refusal))
        finish = FinishReason.REFUSAL
    for i, call in enumerate(message.get("tool_calls") or []):
        fn = call.get("function") or {}
        parts.append(ToolCallPart(call.get("id") or f"call_{i}", fn.get("name", ""),
                                  fn.get("arguments") or "{}"))
    return ChatResponse(
        id=body.get("id", ""), model=body.get("model", ""),
        message=Message(Role.ASSISTANT, tuple(parts)), finish_reason=finish,
        provider_finish_reason=raw_finish or "", usage=decode_usage(body.get("usage")),
        upstream_request_id=upstream_request_id,
    )


# --- stream ---------------------------------------------------------------------


@dataclass(slots=True)
class _Call:
    part: int
    id: str
    name: str
    args: list[str] = field(default_factory=list)
    started: bool = False


# Delta keys that carry nothing beyond `content` (`role` is implied).
_PLAIN_DELTA = frozenset({"content", "role"})


class ChatStreamDecoder:
    """Turns `chat.completion.chunk` objects into neutral events, as they come.

    Parts are numbered in order of first appearance. A tool call starts once
    its name is known; argument fragments go out as they arrive, and each call
    ends (with its complete arguments) when the finish reason comes.
    """

    def __init__(self, upstream_request_id: str = "") -> None:
        self._upstream_request_id = upstream_request_id
        self._started = False
        self._next_part = 0
        self._reasoning_part: int | None = None
        self._text_part: int | None = None
        self._calls: dict[int, _Call] = {}
        self._order: list[_Call] = []
        self._finish: str | None = None
        self._refused = False
        self._usage: Usage | None = None
        self._calls_ended = False

    def feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        self.feed_all((chunk,), out)
        return out

    def feed_all(self, chunks: Sequence[Mapping[str, Any]], out: list[StreamEvent]) -> None:
        """`feed` for each chunk in order, into `out`, with each run of
        chunks of plain text decoded as one delta: what the gateway would have
        merged them into (core/coalesce.py), without an event per chunk. A
        chunk that fails leaves `out` with the events of the chunks before it."""
        texts: list[str] = []
        for chunk in chunks:
            # Most chunks of a stream carry only text for the open text part:
            # those are taken here; any other goes the general way (_feed).
            if self._text_part is not None and not chunk.get("usage"):
                choices = chunk.get("choices")
                if choices.__class__ is list and len(choices) == 1:  # type: ignore[arg-type]
                    choice = choices[0]  # type: ignore[index]
                    delta = choice.get("delta")
                    if (not choice.get("finish_reason") and choice.get("index", 0) == 0
                            and delta.__class__ is dict and _PLAIN_DELTA.issuperset(delta)):
                        text = delta.get("content")
                        if text.__class__ is str:
                            if text:
                                texts.append(text)
                            continue
            if texts:
                out.append(TextDelta(self._text_part, "".join(texts)))  # type: ignore[arg-type]
                texts = []
            out += self._feed(chunk)
        if texts:
            out.append(TextDelta(self._text_part, "".join(texts)))  # type: ignore[arg-type]

    def _feed(self, chunk: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(StreamStart(chunk.get("id", ""), chunk.get("model", ""),
                                   self._upstream_request_id))
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # n > 1 is never requested
            self._delta(choice.get("delta") or {}, out)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
                out.extend(self._end_calls())
        if chunk.get("usage"):
            self._usage = decode_usage(chunk["usage"])
            out.append(UsageUpdate(self._usage))
        return out

    def _part(self) -> int:
        index = self._next_part
        self._next_part += 1
        return index

    def _delta(self, delta: Mapping[str, Any], out: list[StreamEvent]) -> None:
        reasoning = _reasoning_text(delta)
        if reasoning:
            if self._reasoning_part is None:
                self._reasoning_part = self._part()
            out.append(ReasoningDelta(self._reasoning_part, text=reasoning))
        text = _text(delta.get("content")) or delta.get("refusal") or ""
        if delta.get("refusal"):
            self._refused = True
        if text:
            if self._text_part is None:
                self._text_part = self._part()
            out.append(TextDelta(self._text_part, text))
        for tc in delta.get("tool_calls") or ():
            self._tool_call_delta(tc, out)

    def _tool_call_delta(self, tc: Mapping[str, Any], out: list[StreamEvent]) -> None:
        index = tc.get("index", len(self._order))
        fn = tc.get("function") or {}
        call = self._calls.get(index)
        call_id = tc.get("id")
        if call is None or (call_id and call.id and call_id != call.id):
            # A new call (some servers reuse index 0 for parallel calls).
            call = _Call(self._part(), call_id or "", "")
            self._calls[index] = call
            self._order.append(call)
        if call_id and not call.id:
            call.id = call_id
        if fn.get("name") and not call.started:
            call.name = fn["name"]
        fragment = fn.get("arguments") or ""
        if fragment:
            call.args.append(fragment)
        if not call.started and call.name:
            call.started = True
            call.id = call.id or f"call_{len(self._order) - 1}"
            out.append(ToolCallStart(call.part, call.id, call.name))
            if call.args:
                out.append(ToolCallDelta(call.part, "".join(call.args)))
        elif call.started and fragment:
            out.append(ToolCallDelta(call.part, fragment))

    def _end_calls(self) -> list[StreamEvent]:
        if self._calls_ended:
            return []
        self._calls_ended = True
        out: list[StreamEvent] = []
        for call in self._order:
            if not call.started:  # a name never came: still report the call
                call.id = call.id or f"call_{self._order.index(call)}"
                out.append(ToolCallStart(call.part, call.id, call.name))
            out.append(ToolCallEnd(call.part, ToolCallPart(call.id, call.name,
                                                           "".join(call.args) or "{}")))
        return out

    @property
    def finished(self) -> bool:
        return self._finish is not None

    def finish(self) -> list[StreamEvent]:
        """The end of the stream (`[DONE]`): the closing events."""
        out = self._end_calls()
        reason = finish_reason(self._finish)
        if self._refused:
            reason = FinishReason.REFUSAL
        out.append(StreamDone(reason, self._finish or "", usage=self._usage or Usage()))
        return out
