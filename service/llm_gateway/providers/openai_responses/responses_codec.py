"""OpenAI Responses API <-> the neutral model. Pure functions: no I/O.

Wire reference: https://platform.openai.com/docs/api-reference/responses/create,
/responses/object and /responses/input-items (the shapes are those of the
official SDK types, openai-python `src/openai/types/responses/`). The stream
decoder is in `responses_stream.py`. Translation choices (the full table is in
docs/providers/openai_responses.md):
- stateless use: `store: false`, the whole conversation in `input`; reasoning
  round-trips through its `encrypted_content`, which is requested
  (`include: ["reasoning.encrypted_content"]`) whenever the request involves
  reasoning (reasoning controls, or reasoning items of ours in the input);
- the system prompt is `instructions`;
- an assistant message becomes items in part order: `reasoning` items (only
  ours that carry encrypted content: an item id alone means nothing when
  nothing is stored), `output_text` messages, `function_call` items;
- a reasoning item's summary parts are one ReasoningPart text, joined by a
  blank line; it goes back as one `summary_text`;
- function tools say `strict` explicitly: the API's default is true, the
  contract's unset means "not asked for".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...core.errors import UnsupportedFeature
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
    ToolResultPart,
    Usage,
)
from ..openai.chat_codec import EMPTY_SCHEMA, image_url
from .config import TYPE

INCLUDE_REASONING = "reasoning.encrypted_content"
# Between the parts of a reasoning summary, in unary and streamed decoding.
SUMMARY_SEPARATOR = "\n\n"

# The API's effort scale is the contract's, without "max".
_EFFORTS = {e: e.value for e in ReasoningEffort} | {ReasoningEffort.MAX: "xhigh"}
# GenerationConfig fields the Responses API has no parameter for.
_NO_PARAMETER = ("top_k", "min_p", "presence_penalty", "frequency_penalty",
                 "repetition_penalty", "seed")
_INCOMPLETE = {"max_output_tokens": FinishReason.LENGTH,
               "content_filter": FinishReason.CONTENT_FILTER}
# ResponseError codes (the response object's `error`, and `error` events) ->
# the HTTP status each stands for; anything else is a server error.
_IMAGE_ERRORS = frozenset({
    "invalid_image", "invalid_image_format", "invalid_base64_image", "invalid_image_url",
    "image_too_large", "image_too_small", "image_parse_error", "image_content_policy_violation",
    "invalid_image_mode", "image_file_too_large", "unsupported_image_media_type",
    "empty_image_file", "failed_to_download_image", "image_file_not_found"})
_ERROR_STATUS = {"rate_limit_exceeded": 429, "insufficient_quota": 429, "server_error": 500,
                 "vector_store_timeout": 504, "invalid_prompt": 400,
                 "context_length_exceeded": 400, "invalid_request_error": 400,
                 **dict.fromkeys(_IMAGE_ERRORS, 400)}


# --- request ------------------------------------------------------------------


def encode_request(request: ChatRequest, model: str, provider: str, *, stream: bool,
                   options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model}
    if request.system:
        body["instructions"] = request.system_text()
    body["input"] = encode_input(request.messages, provider)
    body["store"] = False
    if request.reasoning is not None or _has_own_reasoning(request.messages):
        body["include"] = [INCLUDE_REASONING]
    _generation(body, request.generation, provider)
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
    if request.tool_choice is not None:
        _tool_choice(body, request)
    text_format = _text_format(request.response_format, provider)
    if text_format is not None:
        body["text"] = {"format": text_format}
    if request.reasoning is not None:
        reasoning = _reasoning(request.reasoning, provider)
        if reasoning:
            body["reasoning"] = reasoning
    if request.metadata.end_user_id:
        # `user` is deprecated in favour of safety_identifier (abuse
        # detection) and prompt_cache_key (caching, via provider_options).
        body["safety_identifier"] = request.metadata.end_user_id
    if stream:
        body["stream"] = True
    if options:
        body.update(options)
    return body


# What `POST /responses/input_tokens` takes: the parts of a request that
# reach the model's context (sampling, storage and streaming do not).
COUNT_TOKENS_PATH = "/responses/input_tokens"
_COUNTED_FIELDS = frozenset({"model", "input", "instructions", "tools", "tool_choice",
                             "parallel_tool_calls", "reasoning", "text", "truncation",
                             "conversation", "previous_response_id"})


def encode_count_tokens(request: ChatRequest, model: str, provider: str,
                        options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of an input-token count for `request`: the request it would
    send, less the fields the count endpoint does not take."""
    body = encode_request(request, model, provider, stream=False, options=options)
    return {k: v for k, v in body.items() if k in _COUNTED_FIELDS}


def encode_input(messages: Iterable[Message], provider: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        # Message.name has no field here (content.proto: forwarded only where
        # the provider accepts one).
        if message.role is Role.USER:
            items.append({"role": "user",
                          "content": [_input_content(p, provider) for p in message.parts]})
        elif message.role is Role.ASSISTANT:
            items.extend(_assistant_items(message.parts))
        else:
            items.extend(_function_output(p, provider) for p in message.parts
                         if isinstance(p, ToolResultPart))
    return items


def _input_content(part: Part, provider: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    assert isinstance(part, ImagePart)
    return {"type": "input_image", "image_url": image_url(part, provider), "detail": "auto"}


def _assistant_items(parts: Iterable[Part]) -> list[dict[str, Any]]:
    """Items in part order; consecutive texts share one message."""
    items: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []

    def flush() -> None:
        if texts:
            items.append({"role": "assistant", "content": list(texts)})
            texts.clear()

    for part in parts:
        if isinstance(part, TextPart):
            if part.text:
                texts.append({"type": "output_text", "text": part.text})
            continue
        flush()
        if isinstance(part, ToolCallPart):
            items.append({"type": "function_call", "call_id": part.id, "name": part.name,
                          "arguments": part.arguments_json})
        elif isinstance(part, ReasoningPart) and _is_own_reasoning(part):
            items.append(_reasoning_item(part))
        # Other providers' reasoning has no place on this wire.
    flush()
    return items


def _is_own_reasoning(part: ReasoningPart) -> bool:
    return part.provider_type == TYPE and bool(part.signature)


def _has_own_reasoning(messages: Iterable[Message]) -> bool:
    return any(isinstance(p, ReasoningPart) and _is_own_reasoning(p)
               for m in messages if m.role is Role.ASSISTANT for p in m.parts)


def _reasoning_item(part: ReasoningPart) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "reasoning"}
    if part.id:
        item["id"] = part.id
    item["summary"] = [{"type": "summary_text", "text": part.text}] if part.text else []
    item["encrypted_content"] = part.signature
    return item


def _function_output(part: ToolResultPart, provider: str) -> dict[str, Any]:
    # `is_error` has no field: the result's content describes the failure.
    output: str | list[dict[str, Any]]
    if any(isinstance(p, ImagePart) for p in part.content):
        output = [_input_content(p, provider) for p in part.content]
    else:
        output = part.text()
    return {"type": "function_call_output", "call_id": part.tool_call_id, "output": output}


def _generation(body: dict[str, Any], g: GenerationConfig, provider: str) -> None:
    for name in _NO_PARAMETER:
        if getattr(g, name) is not None:
            raise UnsupportedFeature(provider, name, "the Responses API has no such parameter")
    if g.stop_sequences:
        raise UnsupportedFeature(provider, "stop sequences",
                                 "the Responses API has no stop parameter")
    if g.max_output_tokens is not None:
        body["max_output_tokens"] = g.max_output_tokens
    if g.temperature is not None:
        body["temperature"] = g.temperature
    if g.top_p is not None:
        body["top_p"] = g.top_p


def _tool(tool: FunctionTool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["parameters"] = dict(tool.parameters) if tool.parameters is not None else EMPTY_SCHEMA
    out["strict"] = bool(tool.strict)
    return out


def _tool_choice(body: dict[str, Any], request: ChatRequest) -> None:
    choice = request.tool_choice
    assert choice is not None
    if choice.function_name:
        body["tool_choice"] = {"type": "function", "name": choice.function_name}
    elif choice.mode is not None:
        body["tool_choice"] = choice.mode.value
    if choice.parallel_tool_calls is not None and request.tools:
        body["parallel_tool_calls"] = choice.parallel_tool_calls


def _text_format(fmt: ResponseFormat | None, provider: str) -> dict[str, Any] | None:
    if fmt is None or isinstance(fmt, TextFormat):
        return None
    if isinstance(fmt, JsonObjectFormat):
        return {"type": "json_object"}
    if isinstance(fmt, JsonSchemaFormat):
        out: dict[str, Any] = {"type": "json_schema", "name": fmt.name or "response",
                               "schema": dict(fmt.schema)}
        if fmt.description:
            out["description"] = fmt.description
        if fmt.strict is not None:
            out["strict"] = fmt.strict
        return out
    kind = type(fmt).__name__.removesuffix("Format").lower()
    raise UnsupportedFeature(provider, f"{kind}-constrained output")


def _reasoning(r: ReasoningConfig, provider: str) -> dict[str, Any]:
    if r.budget_tokens is not None:
        raise UnsupportedFeature(provider, "a reasoning token budget",
                                 "the Responses API takes a reasoning effort instead")
    out: dict[str, Any] = {}
    if r.effort is not None:
        out["effort"] = _EFFORTS[r.effort]
    if r.include_thoughts:
        out["summary"] = "auto"
    return out


# --- response -------------------------------------------------------------------


def decode_usage(raw: Mapping[str, Any] | None) -> Usage:
    """`input_tokens` already counts cached tokens and `output_tokens`
    reasoning tokens: the contract's semantics."""
    if not raw:
        return Usage()
    cached = (raw.get("input_tokens_details") or {}).get("cached_tokens")
    reasoning = (raw.get("output_tokens_details") or {}).get("reasoning_tokens")
    return Usage(input_tokens=int(raw.get("input_tokens") or 0),
                 output_tokens=int(raw.get("output_tokens") or 0),
                 cached_input_tokens=None if cached is None else int(cached),
                 reasoning_tokens=None if reasoning is None else int(reasoning))


def finish_reason(response: Mapping[str, Any], *, tool_calls: bool,
                  refused: bool) -> tuple[FinishReason, str]:
    """The finish reason, and the provider's own word for it: the status, or
    for an incomplete response the reason it gives."""
    status = response.get("status")
    if status == "incomplete":
        reason = str((response.get("incomplete_details") or {}).get("reason") or "")
        return _INCOMPLETE.get(reason, FinishReason.OTHER), reason or status
    if status not in ("completed", None):
        return FinishReason.OTHER, str(status)
    if refused:
        finish = FinishReason.REFUSAL
    elif tool_calls:
        finish = FinishReason.TOOL_CALLS
    else:
        finish = FinishReason.STOP
    return finish, status or ""


def reasoning_part(item: Mapping[str, Any]) -> ReasoningPart:
    return ReasoningPart(text=summary_text(item), signature=item.get("encrypted_content") or "",
                         id=item.get("id") or "", provider_type=TYPE)


def summary_text(item: Mapping[str, Any]) -> str:
    return SUMMARY_SEPARATOR.join(s["text"] for s in item.get("summary") or ()
                                  if isinstance(s, Mapping) and s.get("text"))


def content_text(content: Mapping[str, Any]) -> tuple[str, bool]:
    """A message content part's text, and whether it is a refusal."""
    if content.get("type") == "refusal":
        return content.get("refusal") or "", True
    if content.get("type") == "output_text":
        return content.get("text") or "", False
    return "", False


def tool_call_part(item: Mapping[str, Any], fallback_id: str, arguments: str = "") -> ToolCallPart:
    return ToolCallPart(item.get("call_id") or fallback_id, item.get("name") or "",
                        item.get("arguments") or arguments or "{}")


def decode_response(body: Mapping[str, Any], upstream_request_id: str = "") -> ChatResponse:
    parts: list[Part] = []
    tool_calls = refused = False
    for item in body.get("output") or ():
        kind = item.get("type")
        if kind == "reasoning":
            parts.append(reasoning_part(item))
        elif kind == "message":
            for content in item.get("content") or ():
                text, refusal = content_text(content)
                if text:
                    parts.append(TextPart(text))
                    refused = refused or refusal
        elif kind == "function_call":
            parts.append(tool_call_part(item, f"call_{len(parts)}"))
            tool_calls = True
        # Built-in tools' items (web search, ...) need tools this adapter never
        # sends; a pass-through option that adds them gets them left out.
    finish, raw = finish_reason(body, tool_calls=tool_calls, refused=refused)
    return ChatResponse(
        id=body.get("id") or "", model=body.get("model") or "",
        message=Message(Role.ASSISTANT, tuple(parts)), finish_reason=finish,
        provider_finish_reason=raw, usage=decode_usage(body.get("usage")),
        upstream_request_id=upstream_request_id,
    )


# --- failures ---------------------------------------------------------------------


def failure(document: Mapping[str, Any]) -> tuple[int, Mapping[str, Any]] | None:
    """The provider's own report that the response failed, as the HTTP status
    it stands for and its error object ({"code", "message"}): an `error` or
    `response.failed` stream event, or a response object with status failed.
    None for anything else."""
    kind = document.get("type")
    if kind == "error":
        # Documented with the fields on the event itself; some servers nest
        # them under `error` as in HTTP error bodies.
        nested = document.get("error")
        error = nested if isinstance(nested, Mapping) else {
            "code": document.get("code"), "message": document.get("message")}
    elif kind == "response.failed":
        error = _error_of(document.get("response"))
    elif document.get("object") == "response" and document.get("status") == "failed":
        error = _error_of(document)
    else:
        return None
    code = str(error.get("code") or error.get("type") or "")
    return _ERROR_STATUS.get(code, 500), error


def _error_of(response: Any) -> Mapping[str, Any]:
    error = response.get("error") if isinstance(response, Mapping) else None
    if isinstance(error, Mapping):
        return error
    return {"message": "the response failed without an error"}
