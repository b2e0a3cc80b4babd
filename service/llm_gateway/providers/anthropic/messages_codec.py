"""The neutral ChatRequest -> an Anthropic Messages request body. Pure.

Wire reference: https://platform.claude.com/docs/en/api/messages (create),
/api/messages/count_tokens, /build-with-claude/structured-outputs,
/agents-and-tools/tool-use/implement-tool-use. Translation choices:
- the system prompt is the top-level `system` (text blocks);
- `max_tokens` is required: max_output_tokens, else the configured default
  (plus the thinking budget, which Anthropic counts inside max_tokens);
- tool messages become `user` messages of `tool_result` blocks, consecutive
  ones merged into one message (all results of a turn belong together);
- reasoning parts go back as `thinking` / `redacted_thinking` blocks only
  when this provider type produced them; other providers' reasoning has no
  place on this wire and is left out;
- everything the API cannot express raises UnsupportedFeature.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ...core.errors import InvalidRequest, UnsupportedFeature
from ...core.types import (
    ChatRequest,
    ChoiceFormat,
    FunctionTool,
    GenerationConfig,
    GrammarFormat,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    ReasoningPart,
    RegexFormat,
    ResponseFormat,
    Role,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
)
from .thinking import ThinkingPlan, ThinkingSettings, plan_thinking

# Base64 image sources take these media types only.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
# Body fields of POST /v1/messages/count_tokens (pass-through options are
# limited to these there: the endpoint rejects generation settings).
COUNT_TOKENS_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice",
                                 "thinking", "output_config", "cache_control"})
_TOOL_CHOICES = {ToolChoiceMode.AUTO: "auto", ToolChoiceMode.REQUIRED: "any",
                 ToolChoiceMode.NONE: "none"}
_REFUSED_SAMPLING = (("seed", "seed"), ("presence_penalty", "presence penalty"),
                     ("frequency_penalty", "frequency penalty"),
                     ("repetition_penalty", "repetition penalty"), ("min_p", "min_p sampling"))


@dataclass(frozen=True, slots=True)
class EncodeSettings:
    provider: str  # the configured name, for error messages
    # Reasoning parts whose provider_type is this are sent back with their
    # signatures (an adapter for another Anthropic host can pass its type).
    provider_type: str = "anthropic"
    default_max_tokens: int = 4096
    thinking: ThinkingSettings = field(default_factory=ThinkingSettings)


# --- bodies ---------------------------------------------------------------------


def encode_request(request: ChatRequest, model: str, settings: EncodeSettings, *,
                   stream: bool, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of POST /v1/messages."""
    g = request.generation
    plan = _plan(request, model, settings)
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": (g.max_output_tokens if g.max_output_tokens is not None
                       else settings.default_max_tokens + plan.budget),
        "messages": encode_messages(request.messages, settings),
    }
    _common(body, request, plan, settings.provider)
    _sampling(body, g, settings.provider)
    if request.metadata.end_user_id:
        body["metadata"] = {"user_id": request.metadata.end_user_id}
    if stream:
        body["stream"] = True
    if options:
        body.update(options)
    return body


def encode_count_tokens(request: ChatRequest, model: str, settings: EncodeSettings,
                        options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of POST /v1/messages/count_tokens: the request's input (what
    is counted) without its generation settings."""
    plan = _plan(request, model, settings)
    body: dict[str, Any] = {"model": model,
                            "messages": encode_messages(request.messages, settings)}
    _common(body, request, plan, settings.provider)
    if options:
        body.update({k: v for k, v in options.items() if k in COUNT_TOKENS_FIELDS})
    return body


def _plan(request: ChatRequest, model: str, settings: EncodeSettings) -> ThinkingPlan:
    return plan_thinking(request.reasoning, model, settings.thinking,
                         request.generation.max_output_tokens, settings.provider)


def _common(body: dict[str, Any], request: ChatRequest, plan: ThinkingPlan,
            provider: str) -> None:
    """What both endpoints take: system, tools, output config, thinking."""
    if request.system:
        body["system"] = [{"type": "text", "text": p.text} for p in request.system]
    if request.tools:
        body["tools"] = [encode_tool(t) for t in request.tools]
    if request.tool_choice is not None:
        choice = encode_tool_choice(request.tool_choice, has_tools=bool(request.tools))
        if choice is not None:
            body["tool_choice"] = choice
    output = _output_config(request.response_format, plan, provider)
    if output:
        body["output_config"] = output
    if plan.thinking is not None:
        body["thinking"] = plan.thinking


def _sampling(body: dict[str, Any], g: GenerationConfig, provider: str) -> None:
    for name in ("temperature", "top_p", "top_k"):
        value = getattr(g, name)
        if value is not None:
            body[name] = value
    if g.stop_sequences:
        body["stop_sequences"] = list(g.stop_sequences)
    for name, feature in _REFUSED_SAMPLING:
        if getattr(g, name) is not None:
            raise UnsupportedFeature(provider, feature, "the Messages API has no such setting")


# --- messages -------------------------------------------------------------------


def encode_messages(messages: Sequence[Message], settings: EncodeSettings
                    ) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    merging_results = False  # the last entry holds tool results
    for i, message in enumerate(messages):
        where = f"input.messages[{i}]"
        # Message names are left out: the Messages API has no such field
        # (content.proto documents this).
        if message.role is Role.TOOL:
            results = [_tool_result(p, settings.provider) for p in message.parts
                       if isinstance(p, ToolResultPart)]
            if merging_results:
                out[-1]["content"].extend(results)
            else:
                out.append({"role": "user", "content": results})
            merging_results = True
            continue
        merging_results = False
        if message.role is Role.USER:
            out.append({"role": "user", "content": _user_content(message, settings.provider)})
        else:
            blocks = _assistant_blocks(message, where, settings)
            if blocks:  # (a turn of foreign reasoning alone has nothing to send)
                out.append({"role": "assistant", "content": blocks})
    return out


def _user_content(message: Message, provider: str) -> str | list[dict[str, Any]]:
    parts = message.parts
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    return [_content_block(p, provider) for p in parts
            if isinstance(p, ImagePart) or (isinstance(p, TextPart) and p.text)]


def _content_block(part: TextPart | ImagePart | Any, provider: str) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    return encode_image(part, provider)


def encode_image(part: ImagePart, provider: str) -> dict[str, Any]:
    if part.data is not None:
        if part.mime_type not in IMAGE_TYPES:
            raise UnsupportedFeature(provider, f"{part.mime_type} images",
                                     "Anthropic takes image/jpeg, image/png, image/gif and "
                                     "image/webp")
        data = base64.b64encode(part.data).decode("ascii")
        return {"type": "image",
                "source": {"type": "base64", "media_type": part.mime_type, "data": data}}
    uri = part.uri or ""
    if not uri.startswith(("http://", "https://")):
        raise UnsupportedFeature(provider, "image URIs other than http(s)",
                                 "send the image bytes instead")
    return {"type": "image", "source": {"type": "url", "url": uri}}


def _assistant_blocks(message: Message, where: str, settings: EncodeSettings
                      ) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(message.parts):
        if isinstance(part, TextPart):
            if part.text:  # Anthropic refuses empty text blocks
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            blocks.append({"type": "tool_use", "id": part.id, "name": part.name,
                           "input": tool_input(part, f"{where}.parts[{j}].tool_call")})
        elif isinstance(part, ReasoningPart) and part.provider_type == settings.provider_type:
            blocks.append(_reasoning_block(part, f"{where}.parts[{j}].reasoning"))
    return blocks


def _reasoning_block(part: ReasoningPart, where: str) -> dict[str, Any]:
    """Thinking goes back exactly as it came: the API verifies signatures."""
    if part.redacted_data:
        try:
            data = part.redacted_data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest.one(f"{where}.redacted_data",
                                     "not Anthropic redacted thinking (its UTF-8 bytes)") from None
        return {"type": "redacted_thinking", "data": data}
    return {"type": "thinking", "thinking": part.text, "signature": part.signature}


def tool_input(call: ToolCallPart, where: str) -> dict[str, Any]:
    """`input` is an object on this wire; the neutral model keeps JSON text."""
    if not call.arguments_json.strip():
        return {}
    try:
        value = orjson.loads(call.arguments_json)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest.one(f"{where}.arguments_json",
                                 "must be a JSON object (Anthropic's tool_use input)")
    return value


def _tool_result(part: ToolResultPart, provider: str) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.tool_call_id}
    content = [_content_block(p, provider) for p in part.content
               if isinstance(p, ImagePart) or p.text]
    if content:
        block["content"] = content
    if part.is_error:
        block["is_error"] = True
    return block


# --- tools and output -----------------------------------------------------------------


def encode_tool(tool: FunctionTool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description:
        out["description"] = tool.description
    out["input_schema"] = dict(tool.parameters) if tool.parameters is not None else EMPTY_SCHEMA
    if tool.strict is not None:
        out["strict"] = tool.strict
    return out


def encode_tool_choice(choice: ToolChoice, *, has_tools: bool) -> dict[str, Any] | None:
    if choice.function_name:
        out: dict[str, Any] = {"type": "tool", "name": choice.function_name}
    elif choice.mode is not None:
        out = {"type": _TOOL_CHOICES[choice.mode]}
    elif choice.parallel_tool_calls is False and has_tools:
        out = {"type": "auto"}  # the flag lives inside tool_choice
    else:
        return None
    if choice.parallel_tool_calls is False and has_tools and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def _output_config(fmt: ResponseFormat | None, plan: ThinkingPlan, provider: str
                   ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(fmt, JsonSchemaFormat):
        # Always constrained decoding: a non-strict request gets a stricter
        # guarantee, never a weaker one. Name and description have no field.
        out["format"] = {"type": "json_schema", "schema": dict(fmt.schema)}
    elif isinstance(fmt, JsonObjectFormat):
        raise UnsupportedFeature(provider, "JSON object output without a schema",
                                 "Anthropic's structured outputs need a JSON Schema")
    elif isinstance(fmt, RegexFormat | GrammarFormat | ChoiceFormat):
        kind = type(fmt).__name__.removesuffix("Format").lower()
        raise UnsupportedFeature(provider, f"{kind}-constrained output")
    if plan.effort is not None:
        out["effort"] = plan.effort
    return out
