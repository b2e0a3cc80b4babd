"""Ollama's native chat API (POST /api/chat) <-> the neutral model. Pure:
no I/O.

Wire reference: https://docs.ollama.com/api/chat (docs/openapi.yaml in
ollama/ollama), api/types.go (ChatRequest, Message, ToolCall, Options,
ThinkValue) and https://docs.ollama.com/capabilities/{tool-calling,thinking,
structured-outputs,vision}. The choices below are written down in
docs/providers/ollama.md:

- the system prompt is the first message (`role: system`);
- images travel as base64 strings (no `data:` prefix) in the message's
  `images`; image URIs are refused (the server takes bytes only);
- tool-call arguments are a JSON *object* on the wire: parsed from
  `arguments_json` when sent back, re-serialised compactly when received;
- tool results are `role: tool` messages carrying `tool_name` (how Ollama's
  templates match results to calls) and `tool_call_id`;
- reasoning of earlier turns goes back as the assistant message's `thinking`
  (its text only: Ollama has no opaque reasoning state);
- sampling settings go into `options`; pass-through provider options merge
  into the body, and their `options` object into ours.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson

from ...core.errors import InvalidRequest, UnsupportedFeature
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
    FinishReason,
    FunctionTool,
    GenerationConfig,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    Part,
    ReasoningConfig,
    ReasoningEffort,
    ReasoningPart,
    ResponseFormat,
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)

# done_reason values (llm.DoneReason.String and server/routes.go): "load" and
# "unload" answer requests without messages, which the gateway never sends.
FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
}
# Ollama's `think` levels are low, medium and high (api.ThinkValue).
THINK_LEVELS = {
    ReasoningEffort.MINIMAL: "low",
    ReasoningEffort.LOW: "low",
    ReasoningEffort.MEDIUM: "medium",
    ReasoningEffort.HIGH: "high",
    ReasoningEffort.XHIGH: "high",
    ReasoningEffort.MAX: "high",
}
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}

# (name in GenerationConfig, name in Ollama's options)
_OPTIONS = (
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("min_p", "min_p"),
    ("seed", "seed"),
    ("max_output_tokens", "num_predict"),
    ("repetition_penalty", "repeat_penalty"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
)


# --- request ------------------------------------------------------------------


def encode_chat(request: ChatRequest, model: str, provider: str, *, stream: bool,
                options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    # `stream` is always explicit: the server streams unless told otherwise.
    body: dict[str, Any] = {"model": model, "messages": encode_messages(request, provider),
                            "stream": stream}
    tools = _tools(request, provider)
    if tools:
        body["tools"] = tools
    fmt = encode_format(request.response_format, provider)
    if fmt is not None:
        body["format"] = fmt
    think = encode_think(request.reasoning, provider)
    if think is not None:
        body["think"] = think
    model_options = encode_options(request.generation)
    if model_options:
        body["options"] = model_options
    if options:
        merge_pass_through(body, options)
    return body


def merge_pass_through(body: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Top-level fields (keep_alive, truncate, ...) replace ours; an `options`
    object is merged into the options we built (num_ctx next to temperature)."""
    for key, value in extra.items():
        current = body.get(key)
        if key == "options" and isinstance(value, Mapping) and isinstance(current, dict):
            body[key] = {**current, **value}
        else:
            body[key] = value


def encode_messages(request: ChatRequest, provider: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system_text()})
    # Tool call id -> name: a result without a name is matched to its call.
    names: dict[str, str] = {}
    for i, message in enumerate(request.messages):
        # Message names are left out: Ollama messages have no such field
        # (content.proto documents this).
        if message.role is Role.USER:
            out.append(_user(message, provider))
        elif message.role is Role.ASSISTANT:
            out.append(_assistant(message, i, names))
        else:
            out.extend(_tool_results(message, names, provider))
    return out


def _user(message: Message, provider: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": "user", "content": message.text()}
    images = [image_data(p, provider) for p in message.parts if isinstance(p, ImagePart)]
    if images:
        entry["images"] = images
    return entry


def image_data(part: ImagePart, provider: str) -> str:
    """Base64 without a `data:` prefix: the only image form Ollama reads."""
    if part.data is None:
        raise UnsupportedFeature(provider, "image URIs",
                                 "Ollama takes image bytes only; send the data instead")
    return base64.b64encode(part.data).decode("ascii")


def _assistant(message: Message, index: int, names: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": "assistant", "content": message.text()}
    # The text of every reasoning part goes back as `thinking`; opaque state
    # (signatures, redacted data) has no place on this wire and is left out.
    thinking = "".join(p.text for p in message.parts if isinstance(p, ReasoningPart))
    if thinking:
        entry["thinking"] = thinking
    calls = [(j, p) for j, p in enumerate(message.parts) if isinstance(p, ToolCallPart)]
    if calls:
        # api.ToolCall takes `id`; function.index is the call's position, as
        # the tool-calling docs send it back.
        entry["tool_calls"] = [
            {"id": call.id, "function": {
                "index": n, "name": call.name,
                "arguments": _arguments(
                    call.arguments_json,
                    f"input.messages[{index}].parts[{j}].tool_call.arguments_json")}}
            for n, (j, call) in enumerate(calls)]
        names.update((call.id, call.name) for _, call in calls)
    return entry


def _arguments(text: str, field: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text or "{}")
    except orjson.JSONDecodeError:
        raise InvalidRequest.one(field, "must be a JSON object (Ollama takes the arguments "
                                        "as an object)") from None
    if not isinstance(value, dict):
        raise InvalidRequest.one(field, "must be a JSON object (Ollama takes the arguments "
                                        "as an object)")
    return value


def _tool_results(message: Message, names: Mapping[str, str],
                  provider: str) -> list[dict[str, Any]]:
    out = []
    for part in message.parts:
        assert isinstance(part, ToolResultPart)
        # No error flag on Ollama tool messages: the content says what failed
        # (content.proto ToolResult.is_error).
        entry: dict[str, Any] = {"role": "tool", "content": part.text()}
        images = [image_data(p, provider) for p in part.content if isinstance(p, ImagePart)]
        if images:
            entry["images"] = images
        name = part.name or names.get(part.tool_call_id, "")
        if name:
            entry["tool_name"] = name
        if part.tool_call_id:
            entry["tool_call_id"] = part.tool_call_id
        out.append(entry)
    return out


def _tools(request: ChatRequest, provider: str) -> list[dict[str, Any]]:
    choice = request.tool_choice
    if choice is not None:
        if choice.function_name:
            raise UnsupportedFeature(provider, "a named tool choice",
                                     "Ollama has no tool_choice; the model decides")
        if choice.mode is ToolChoiceMode.REQUIRED:
            raise UnsupportedFeature(provider, "tool choice REQUIRED",
                                     "Ollama has no tool_choice; the model decides")
        if choice.mode is ToolChoiceMode.NONE:
            # No tool_choice on this wire: not offering the tools is what
            # "call none" means.
            return []
        if choice.parallel_tool_calls is False and request.tools:
            raise UnsupportedFeature(provider, "disabling parallel tool calls")
    return [_tool(t, provider) for t in request.tools]


def _tool(tool: FunctionTool, provider: str) -> dict[str, Any]:
    if tool.strict:
        raise UnsupportedFeature(provider, "strict tools",
                                 "Ollama does not constrain tool arguments to the schema")
    fn: dict[str, Any] = {"name": tool.name,
                          "parameters": dict(tool.parameters or EMPTY_SCHEMA)}
    if tool.description:
        fn["description"] = tool.description
    return {"type": "function", "function": fn}


def encode_format(fmt: ResponseFormat | None, provider: str) -> str | dict[str, Any] | None:
    if fmt is None or isinstance(fmt, TextFormat):
        return None
    if isinstance(fmt, JsonObjectFormat):
        return "json"
    if isinstance(fmt, JsonSchemaFormat):
        # The schema is enforced by grammar, so `strict` holds either way and
        # the name is only a label; a description would be lost.
        if fmt.description:
            raise UnsupportedFeature(provider, "a response schema description",
                                     "Ollama takes the schema alone; put it in the prompt")
        return dict(fmt.schema)
    kind = type(fmt).__name__.removesuffix("Format").lower()
    raise UnsupportedFeature(provider, f"{kind}-constrained output")


def encode_think(reasoning: ReasoningConfig | None, provider: str) -> bool | str | None:
    """`think`: false, true, or a level ("low", "medium", "high")."""
    if reasoning is None:
        return None
    if reasoning.budget_tokens == 0:
        return False  # no budget: no thinking
    if reasoning.budget_tokens is not None:
        raise UnsupportedFeature(provider, "a reasoning token budget",
                                 "Ollama takes think true/false or a level instead")
    effort = reasoning.effort
    if effort is ReasoningEffort.NONE:
        return False
    if effort is not None:
        if reasoning.include_thoughts is False:
            raise UnsupportedFeature(provider, "reasoning without returning the thoughts",
                                     "a thinking model always returns its thinking")
        return THINK_LEVELS[effort]
    return reasoning.include_thoughts


def encode_options(g: GenerationConfig) -> dict[str, Any]:
    options = {wire: getattr(g, name) for name, wire in _OPTIONS
               if getattr(g, name) is not None}
    if g.stop_sequences:
        options["stop"] = list(g.stop_sequences)
    return options


# --- response -------------------------------------------------------------------


def decode_usage(body: Mapping[str, Any]) -> Usage:
    """prompt_eval_count counts the whole prompt, cache hits included
    (prompt_eval_cached_count says how many were cached); eval_count counts
    every generated token, thinking included."""
    cached = body.get("prompt_eval_cached_count")
    return Usage(input_tokens=int(body.get("prompt_eval_count") or 0),
                 output_tokens=int(body.get("eval_count") or 0),
                 cached_input_tokens=None if cached is None else int(cached))


def finish_reason(raw: str, has_tool_calls: bool) -> FinishReason:
    """Ollama ends a turn that calls tools with "stop": tool calls it is."""
    if not raw:
        return FinishReason.UNSPECIFIED
    reason = FINISH_REASONS.get(raw, FinishReason.OTHER)
    if reason is FinishReason.STOP and has_tool_calls:
        return FinishReason.TOOL_CALLS
    return reason


def arguments_text(arguments: Any) -> str:
    """The wire's argument object as compact JSON text, key order kept."""
    if arguments is None:
        return "{}"
    if isinstance(arguments, str):  # tolerate a server that sends text
        return arguments
    return orjson.dumps(arguments).decode()


def tool_call_part(call: Mapping[str, Any], position: int) -> ToolCallPart:
    """Recent servers name their calls ("call_..."); older ones do not, and
    the call gets `call_<position in the response>`."""
    fn = call.get("function") or {}
    return ToolCallPart(str(call.get("id") or f"call_{position}"), str(fn.get("name") or ""),
                        arguments_text(fn.get("arguments")))


def decode_chat(body: Mapping[str, Any], upstream_request_id: str = "") -> ChatResponse:
    message = body.get("message") or {}
    parts: list[Part] = []
    if message.get("thinking"):
        parts.append(ReasoningPart(str(message["thinking"])))
    if message.get("content"):
        parts.append(TextPart(str(message["content"])))
    calls = [tool_call_part(c, i) for i, c in enumerate(message.get("tool_calls") or ())]
    parts.extend(calls)
    raw = str(body.get("done_reason") or "")
    return ChatResponse(
        id="", model=str(body.get("model") or ""),
        message=Message(Role.ASSISTANT, tuple(parts)),
        finish_reason=finish_reason(raw, bool(calls)), provider_finish_reason=raw,
        usage=decode_usage(body), upstream_request_id=upstream_request_id)


# --- stream ---------------------------------------------------------------------


class ChatStreamDecoder:
    """Turns the NDJSON lines of a streamed /api/chat into neutral events.

    Each line carries a fragment of `message.content` and/or
    `message.thinking`; tool calls arrive whole (one line, complete
    arguments), so each becomes start + one delta + end at once. The line
    with `done: true` carries the finish reason and the counts. Parts are
    numbered in order of first appearance.
    """

    def __init__(self, upstream_request_id: str = "") -> None:
        self._upstream_request_id = upstream_request_id
        self._started = False
        self._next_part = 0
        self._reasoning_part: int | None = None
        self._text_part: int | None = None
        self._calls = 0
        self.finished = False

    def _part(self) -> int:
        index = self._next_part
        self._next_part += 1
        return index

    def feed(self, line: Mapping[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(StreamStart("", str(line.get("model") or ""),
                                   self._upstream_request_id))
        message = line.get("message") or {}
        thinking = message.get("thinking")
        if thinking:
            if self._reasoning_part is None:
                self._reasoning_part = self._part()
            out.append(ReasoningDelta(self._reasoning_part, text=str(thinking)))
        content = message.get("content")
        if content:
            if self._text_part is None:
                self._text_part = self._part()
            out.append(TextDelta(self._text_part, str(content)))
        for call in message.get("tool_calls") or ():
            part = tool_call_part(call, self._calls)
            self._calls += 1
            index = self._part()
            out += [ToolCallStart(index, part.id, part.name),
                    ToolCallDelta(index, part.arguments_json),
                    ToolCallEnd(index, part)]
        if line.get("done"):
            self.finished = True
            usage = decode_usage(line)
            raw = str(line.get("done_reason") or "")
            out += [UsageUpdate(usage),
                    StreamDone(finish_reason(raw, self._calls > 0), raw, usage=usage)]
        return out
