"""Bedrock Converse <-> the neutral model. Pure functions: no I/O.

Wire reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
(and the ContentBlock, ToolConfiguration, InferenceConfiguration, OutputConfig,
TokenUsage pages beside it). Translation choices (docs/providers/bedrock.md):
- the system prompt is `system: [{text}]`; tool results go in a user message;
  consecutive messages of one wire role are merged (Converse alternates);
- top_k and reasoning go in `additionalModelRequestFields` for Anthropic
  models (the documented fields), and are refused for other models;
- reasoning blocks are sent back unchanged only when Bedrock produced them;
- `inputTokens` excludes cache reads and writes: they are added back.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

from ...core.errors import InvalidRequest, UnsupportedFeature
from ...core.types import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    FunctionTool,
    ImagePart,
    JsonSchemaFormat,
    Message,
    Part,
    ReasoningEffort,
    ReasoningPart,
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)

PROVIDER_TYPE = "bedrock"

STOP_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "tool_use": FinishReason.TOOL_CALLS,
    "max_tokens": FinishReason.LENGTH,
    "guardrail_intervened": FinishReason.CONTENT_FILTER,
    "content_filtered": FinishReason.CONTENT_FILTER,
    "malformed_model_output": FinishReason.OTHER,
    "malformed_tool_use": FinishReason.MALFORMED_TOOL_CALL,
    "model_context_window_exceeded": FinishReason.CONTEXT_LENGTH,
}
# ImageBlock.format values.
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg",
                 "image/gif": "gif", "image/webp": "webp"}
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
_ROLES = {Role.USER: "user", Role.ASSISTANT: "assistant", Role.TOOL: "user"}


def model_path(model: str, action: str) -> str:
    """`/model/{modelId}/{action}`: ARNs and inference profile ids contain ':'
    and '/', so the id is percent-encoded as one path segment (as the SDKs do)."""
    return f"/model/{quote(model, safe='')}/{action}"


def is_anthropic(model: str) -> bool:
    """Anthropic Claude, by id: `anthropic.claude-...`, a cross-region profile
    (`us.anthropic...`) or an ARN naming either."""
    return "anthropic." in model


# --- request ------------------------------------------------------------------


def encode_converse(request: ChatRequest, model: str, provider: str,
                    options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Converse / ConverseStream body (the model id goes in the path)."""
    body: dict[str, Any] = {"messages": encode_messages(request, provider)}
    system = [{"text": p.text} for p in request.system if p.text]
    if system:
        body["system"] = system
    inference = _inference(request, provider)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(request, provider)
    if tool_config:
        body["toolConfig"] = tool_config
    extra = _model_fields(request, model, provider)
    if extra:
        body["additionalModelRequestFields"] = extra
    if request.generation.stop_sequences and is_anthropic(model):
        # Claude reports which sequence matched; Converse returns it when asked
        # (the documented example of additionalModelResponseFieldPaths).
        body["additionalModelResponseFieldPaths"] = ["/stop_sequence"]
    output = _output_config(request, provider)
    if output:
        body["outputConfig"] = output
    if options:
        merge_options(body, options)
    return body


def encode_count_tokens(request: ChatRequest, model: str, provider: str,
                        options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """CountTokens `{input: {converse: ...}}`: the fields that make the input."""
    body = encode_converse(request, model, provider, options)
    keep = ("messages", "system", "toolConfig", "additionalModelRequestFields")
    return {"input": {"converse": {k: body[k] for k in keep if k in body}}}


def merge_options(body: dict[str, Any], options: Mapping[str, Any]) -> None:
    """Pass-through fields win; objects merge one level deep, so options can
    add to `additionalModelRequestFields` or `inferenceConfig`."""
    for key, value in options.items():
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            body[key] = {**current, **value}
        else:
            body[key] = value


def encode_messages(request: ChatRequest, provider: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # Message names are left out: Converse messages have no such field
    # (content.proto documents this).
    for i, message in enumerate(request.messages):
        blocks = [b for j, part in enumerate(message.parts)
                  if (b := _block(part, f"input.messages[{i}].parts[{j}]", provider))]
        if not blocks:
            continue
        role = _ROLES[message.role]
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _block(part: Part, where: str, provider: str) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        # Converse rejects blank text blocks; an empty part says nothing.
        return {"text": part.text} if part.text else None
    if isinstance(part, ImagePart):
        return {"image": image_block(part, provider)}
    if isinstance(part, ToolCallPart):
        return {"toolUse": {"toolUseId": part.id, "name": part.name,
                            "input": _arguments(part, where)}}
    if isinstance(part, ToolResultPart):
        return {"toolResult": _tool_result(part, provider)}
    return _reasoning_block(part)


def image_block(part: ImagePart, provider: str) -> dict[str, Any]:
    fmt = IMAGE_FORMATS.get(part.mime_type.lower())
    if fmt is None:
        raise UnsupportedFeature(provider, f"{part.mime_type or 'untyped'} images",
                                 "Converse takes png, jpeg, gif and webp")
    if part.data is not None:
        return {"format": fmt, "source": {"bytes": base64.b64encode(part.data).decode()}}
    uri = part.uri or ""
    if not uri.startswith("s3://"):
        raise UnsupportedFeature(provider, "image URIs other than s3://",
                                 "send the image bytes instead")
    return {"format": fmt, "source": {"s3Location": {"uri": uri}}}


def _arguments(part: ToolCallPart, where: str) -> dict[str, Any]:
    if not part.arguments_json.strip():
        return {}
    try:
        value = orjson.loads(part.arguments_json)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest.one(f"{where}.tool_call.arguments_json",
                                 "must be a JSON object: Bedrock takes tool input as an object")
    return value


def _tool_result(part: ToolResultPart, provider: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for item in part.content:
        if isinstance(item, TextPart):
            content.append({"text": item.text})
        else:
            content.append({"image": image_block(item, provider)})
    result: dict[str, Any] = {"toolUseId": part.tool_call_id, "content": content}
    if part.is_error:
        # `status` is optional (supported by Claude and Nova); success is the
        # default, so it is sent only for errors.
        result["status"] = "error"
    return result


def _reasoning_block(part: Part) -> dict[str, Any] | None:
    assert isinstance(part, ReasoningPart)
    if part.provider_type != PROVIDER_TYPE:
        # Reasoning of another provider: Bedrock models need their own signed
        # blocks; unsigned foreign thoughts have no place in the conversation.
        return None
    if part.redacted_data:
        return {"reasoningContent": {
            "redactedContent": base64.b64encode(part.redacted_data).decode()}}
    text: dict[str, Any] = {"text": part.text}
    if part.signature:
        text["signature"] = part.signature
    return {"reasoningContent": {"reasoningText": text}}


def _inference(request: ChatRequest, provider: str) -> dict[str, Any]:
    g = request.generation
    for name in ("min_p", "presence_penalty", "frequency_penalty", "repetition_penalty",
                 "seed"):
        if getattr(g, name) is not None:
            raise UnsupportedFeature(provider, name)
    out: dict[str, Any] = {}
    if g.max_output_tokens is not None:
        out["maxTokens"] = g.max_output_tokens
    if g.temperature is not None:
        if not 0 <= g.temperature <= 1:
            raise InvalidRequest.one("input.generation.temperature",
                                     "Bedrock Converse takes a temperature from 0 to 1")
        out["temperature"] = g.temperature
    if g.top_p is not None:
        out["topP"] = g.top_p
    if g.stop_sequences:
        out["stopSequences"] = list(g.stop_sequences)
    return out


def _tool_config(request: ChatRequest, provider: str) -> dict[str, Any] | None:
    choice = request.tool_choice
    if choice is not None:
        if choice.mode is ToolChoiceMode.NONE:
            raise UnsupportedFeature(provider, "tool choice none",
                                     "Converse's toolChoice is auto, any or one tool; "
                                     "omit the tools instead")
        if choice.parallel_tool_calls is False:
            raise UnsupportedFeature(provider, "disabling parallel tool calls")
    if not request.tools:
        return None
    config: dict[str, Any] = {"tools": [{"toolSpec": _tool(t)} for t in request.tools]}
    if choice is not None and choice.function_name:
        config["toolChoice"] = {"tool": {"name": choice.function_name}}
    elif choice is not None and choice.mode is ToolChoiceMode.REQUIRED:
        config["toolChoice"] = {"any": {}}
    elif choice is not None and choice.mode is ToolChoiceMode.AUTO:
        config["toolChoice"] = {"auto": {}}
    return config


def _tool(tool: FunctionTool) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": tool.name,
                            "inputSchema": {"json": dict(tool.parameters or EMPTY_SCHEMA)}}
    if tool.description:
        spec["description"] = tool.description
    if tool.strict is not None:
        spec["strict"] = tool.strict
    return spec


def _model_fields(request: ChatRequest, model: str, provider: str) -> dict[str, Any]:
    """`additionalModelRequestFields`: Anthropic's own request fields."""
    fields: dict[str, Any] = {}
    top_k = request.generation.top_k
    reasoning = request.reasoning
    if top_k is None and reasoning is None:
        return fields
    if not is_anthropic(model):
        feature = "top_k" if top_k is not None else "reasoning controls"
        raise UnsupportedFeature(provider, f"{feature} for this model",
                                 "set it in provider_options.bedrock."
                                 "additionalModelRequestFields as the model documents it")
    if top_k is not None:
        fields["top_k"] = top_k
    if reasoning is not None:
        if reasoning.include_thoughts is False:
            raise UnsupportedFeature(provider, "hiding reasoning",
                                     "Claude returns its thinking when thinking is on")
        if reasoning.budget_tokens is not None:
            if reasoning.effort is ReasoningEffort.NONE or reasoning.budget_tokens == 0:
                fields["thinking"] = {"type": "disabled"}
            else:
                fields["thinking"] = {"type": "enabled",
                                      "budget_tokens": reasoning.budget_tokens}
        elif reasoning.effort is ReasoningEffort.NONE:
            fields["thinking"] = {"type": "disabled"}
        elif reasoning.effort is not None:
            raise UnsupportedFeature(provider, "reasoning effort",
                                     "Claude on Bedrock takes a thinking budget "
                                     "(reasoning.budget_tokens)")
    return fields


def _output_config(request: ChatRequest, provider: str) -> dict[str, Any] | None:
    fmt = request.response_format
    if fmt is None or isinstance(fmt, TextFormat):
        return None
    if not isinstance(fmt, JsonSchemaFormat):
        kind = type(fmt).__name__.removesuffix("Format").lower()
        detail = "give a JSON schema" if kind == "jsonobject" else ""
        raise UnsupportedFeature(provider, f"{kind} output", detail)
    schema: dict[str, Any] = {"schema": orjson.dumps(dict(fmt.schema)).decode()}
    if fmt.name:
        schema["name"] = fmt.name
    if fmt.description:
        schema["description"] = fmt.description
    # Converse always enforces the schema: `strict` has no field and no effect.
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": schema}}}


# --- response -------------------------------------------------------------------


def decode_usage(raw: Mapping[str, Any] | None) -> Usage:
    """TokenUsage. `inputTokens` counts the uncached input only, as Anthropic's
    `input_tokens` does: the gateway's input_tokens adds cache reads and writes."""
    if not raw:
        return Usage()
    read = _int_or_none(raw.get("cacheReadInputTokens"))
    write = _int_or_none(raw.get("cacheWriteInputTokens"))
    return Usage(
        input_tokens=int(raw.get("inputTokens") or 0) + (read or 0) + (write or 0),
        output_tokens=int(raw.get("outputTokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=write,
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def finish_reason(raw: str | None) -> FinishReason:
    if not raw:
        return FinishReason.UNSPECIFIED
    return STOP_REASONS.get(raw, FinishReason.OTHER)


def stop_sequence(fields: Any) -> str:
    """The matched stop sequence, when requested (`/stop_sequence`)."""
    value = fields.get("stop_sequence") if isinstance(fields, Mapping) else None
    return value if isinstance(value, str) else ""


def decode_part(block: Mapping[str, Any]) -> Part | None:
    """One output ContentBlock; None for kinds the gateway never asks for
    (citations, documents, guard content)."""
    if "text" in block:
        return TextPart(str(block["text"]))
    if "toolUse" in block:
        use = block["toolUse"]
        return ToolCallPart(str(use.get("toolUseId", "")), str(use.get("name", "")),
                            orjson.dumps(use.get("input", {})).decode())
    if "reasoningContent" in block:
        reasoning = block["reasoningContent"]
        if "redactedContent" in reasoning:
            return ReasoningPart(redacted_data=base64.b64decode(reasoning["redactedContent"]),
                                 provider_type=PROVIDER_TYPE)
        text = reasoning.get("reasoningText") or {}
        return ReasoningPart(str(text.get("text", "")), str(text.get("signature", "")),
                             provider_type=PROVIDER_TYPE)
    return None


def decode_converse(body: Mapping[str, Any], model: str,
                    upstream_request_id: str = "") -> ChatResponse:
    """The Converse response. It has no id or model of its own: the request id
    stands in for the id, the requested model id for the model."""
    message = (body.get("output") or {}).get("message") or {}
    parts = [p for block in message.get("content") or () if (p := decode_part(block))]
    raw = body.get("stopReason")
    return ChatResponse(
        id=upstream_request_id, model=model,
        message=Message(Role.ASSISTANT, tuple(parts)),
        finish_reason=finish_reason(raw), provider_finish_reason=raw or "",
        stop_sequence=stop_sequence(body.get("additionalModelResponseFields")),
        usage=decode_usage(body.get("usage")), upstream_request_id=upstream_request_id,
    )
