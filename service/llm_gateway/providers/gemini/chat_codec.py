"""Neutral chat request -> Gemini `GenerateContentRequest` body. Pure: no I/O.

Wire references: https://ai.google.dev/api/generate-content (Gemini API) and
https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/generateContent
(Vertex AI); both take the same body. Translation choices (docs/providers/gemini.md):

- the system prompt is `systemInstruction`; assistant turns are role `model`;
  tool results are `functionResponse` parts of a `user` turn;
- tool schemas go in `parametersJsonSchema` and JSON output schemas in
  `responseJsonSchema` (both take JSON Schema as the contract holds it,
  unlike `parameters` / `responseSchema`, an OpenAPI subset);
- a text tool result becomes `response: {"output": text}` unless the text is
  a JSON object (sent as it is); an error result is `{"error": ...}`, the
  keys the FunctionResponse reference documents;
- thought signatures go back on exactly the part they came on; Gemini
  reasoning (thought) parts go back as `thought: true` parts, other
  providers' reasoning is not sent (Gemini has no place for it).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import orjson

from ...core.errors import InvalidRequest, UnsupportedFeature
from ...core.types import (
    ChatRequest,
    ChoiceFormat,
    FunctionTool,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    ReasoningEffort,
    ReasoningPart,
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoiceMode,
    ToolResultPart,
)

# ReasoningPart.provider_type for thought parts of both AI Studio and Vertex:
# the same models behind the same wire, so their signatures travel together.
FAMILY = "gemini"

_ROLES = {Role.USER: "user", Role.ASSISTANT: "model", Role.TOOL: "user"}
_MODES = {ToolChoiceMode.AUTO: "AUTO", ToolChoiceMode.NONE: "NONE",
          ToolChoiceMode.REQUIRED: "ANY"}
# Effort -> thinkingLevel (Gemini 3 and later; which levels a model accepts
# varies: Gemini 3 Pro takes LOW and HIGH). NONE turns thinking off with a
# zero budget, the documented switch (models that must think reject it).
_LEVELS = {ReasoningEffort.MINIMAL: "MINIMAL", ReasoningEffort.LOW: "LOW",
           ReasoningEffort.MEDIUM: "MEDIUM", ReasoningEffort.HIGH: "HIGH",
           ReasoningEffort.XHIGH: "HIGH", ReasoningEffort.MAX: "HIGH"}
# Gemini 2.x models take no thinkingLevel, only thinkingBudget: effort maps to
# budgets inside every 2.5 model's range (Flash and Flash-Lite stop at 24576).
_BUDGET_MODELS = ("gemini-2.", "gemini-1.")
_BUDGETS = {ReasoningEffort.MINIMAL: 512, ReasoningEffort.LOW: 1024,
            ReasoningEffort.MEDIUM: 8192, ReasoningEffort.HIGH: 24576,
            ReasoningEffort.XHIGH: 24576, ReasoningEffort.MAX: 24576}
_URI_SCHEMES = ("gs://", "https://")


def encode_chat(request: ChatRequest, provider: str,
                options: Mapping[str, Any] | None = None, *, model: str = "") -> dict[str, Any]:
    """The generateContent / streamGenerateContent body (the model is in the
    URL; its id picks how a reasoning effort is sent)."""
    body: dict[str, Any] = {"contents": encode_contents(request, provider)}
    if request.system:
        body["systemInstruction"] = {"parts": [{"text": p.text} for p in request.system]}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
        tool_config = _tool_config(request, provider)
        if tool_config:
            body["toolConfig"] = tool_config
    generation = _generation(request, provider, model)
    if generation:
        body["generationConfig"] = generation
    if options:
        merge_options(body, options)
    return body


def merge_options(body: dict[str, Any], options: Mapping[str, Any]) -> None:
    """Pass-through fields; objects present on both sides (generationConfig,
    toolConfig) are merged one level deep so an option adds to them."""
    for key, value in options.items():
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            body[key] = {**current, **value}
        else:
            body[key] = value


# --- contents -----------------------------------------------------------------


def encode_contents(request: ChatRequest, provider: str) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id -> function name, for results
    for i, message in enumerate(request.messages):
        # Message names are left out: Gemini contents have no such field
        # (content.proto documents this).
        parts = _parts(message, i, names, provider)
        if parts:  # e.g. a turn of only another provider's reasoning
            contents.append({"role": _ROLES[message.role], "parts": parts})
    return contents


def _parts(message: Message, index: int, names: dict[str, str],
           provider: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for j, part in enumerate(message.parts):
        field = f"input.messages[{index}].parts[{j}]"
        if isinstance(part, TextPart):
            out.append(_signed({"text": part.text}, part.thought_signature))
        elif isinstance(part, ImagePart):
            out.append(media_part(part, provider))
        elif isinstance(part, ToolCallPart):
            names[part.id] = part.name
            call: dict[str, Any] = {"name": part.name,
                                    "args": _arguments(part.arguments_json,
                                                       f"{field}.tool_call.arguments_json")}
            if part.id:
                call["id"] = part.id
            out.append(_signed({"functionCall": call}, part.thought_signature))
        elif isinstance(part, ToolResultPart):
            out.append({"functionResponse": _function_response(part, names, field, provider)})
        elif isinstance(part, ReasoningPart) and part.provider_type == FAMILY:
            out.append(_signed({"text": part.text, "thought": True}, part.signature))
    return out


def _signed(part: dict[str, Any], signature: str) -> dict[str, Any]:
    if signature:
        part["thoughtSignature"] = signature
    return part


def media_part(part: ImagePart, provider: str) -> dict[str, Any]:
    if part.data is not None:
        return {"inlineData": {"mimeType": part.mime_type,
                               "data": base64.b64encode(part.data).decode()}}
    uri = part.uri or ""
    if not uri.startswith(_URI_SCHEMES):
        raise UnsupportedFeature(provider, "image URIs other than gs:// and https://",
                                 "send the image bytes instead")
    file_data = {"fileUri": uri}
    if part.mime_type:
        file_data["mimeType"] = part.mime_type
    return {"fileData": file_data}


def _arguments(text: str, field: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text or "{}")
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest.one(field, "must be a JSON object (Gemini takes the arguments "
                                        "as an object)")
    return value


def _function_response(part: ToolResultPart, names: Mapping[str, str], field: str,
                       provider: str) -> dict[str, Any]:
    name = part.name or names.get(part.tool_call_id, "")
    if not name:
        raise InvalidRequest.one(f"{field}.tool_result.name",
                                 "Gemini needs the function name of a tool result: set it, "
                                 "or keep the tool call in the conversation")
    response: dict[str, Any] = {"name": name, "response": result_object(part)}
    if part.tool_call_id:
        response["id"] = part.tool_call_id
    media = [media_part(p, provider) for p in part.content if isinstance(p, ImagePart)]
    if media:  # multimodal function responses: media nested in the response
        response["parts"] = media
    return response


def result_object(part: ToolResultPart) -> dict[str, Any]:
    """`FunctionResponse.response` must be an object: a JSON-object text goes as
    it is, other text as {"output": text}; an error as {"error": ...}."""
    text = part.text()
    try:
        parsed = orjson.loads(text) if text.lstrip().startswith("{") else None
    except orjson.JSONDecodeError:
        parsed = None
    if part.is_error:
        return {"error": parsed if isinstance(parsed, dict) else text}
    return parsed if isinstance(parsed, dict) else {"output": text}


# --- tools --------------------------------------------------------------------


def _declaration(tool: FunctionTool) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool.name}
    if tool.description:
        declaration["description"] = tool.description
    # No schema means no arguments: Gemini documents leaving it unset.
    if tool.parameters is not None:
        declaration["parametersJsonSchema"] = dict(tool.parameters)
    return declaration


def _tool_config(request: ChatRequest, provider: str) -> dict[str, Any] | None:
    choice = request.tool_choice
    mode: str | None = None
    allowed: list[str] = []
    if choice is not None:
        if choice.parallel_tool_calls is False:
            raise UnsupportedFeature(provider, "disabling parallel tool calls",
                                     "Gemini has no switch for it")
        if choice.function_name:
            mode, allowed = "ANY", [choice.function_name]
        elif choice.mode is not None:
            mode = _MODES[choice.mode]
    # Strict tools: VALIDATED constrains function calls to their schemas while
    # still allowing text (ANY already constrains; NONE calls nothing).
    if any(t.strict for t in request.tools) and mode in (None, "AUTO"):
        mode = "VALIDATED"
    if mode is None:
        return None
    config: dict[str, Any] = {"mode": mode}
    if allowed:
        config["allowedFunctionNames"] = allowed
    return {"functionCallingConfig": config}


# --- generation config ----------------------------------------------------------


def _generation(request: ChatRequest, provider: str, model: str) -> dict[str, Any]:
    g = request.generation
    if g.min_p is not None:
        raise UnsupportedFeature(provider, "min_p")
    if g.repetition_penalty is not None:
        raise UnsupportedFeature(provider, "repetition_penalty",
                                 "use presence_penalty or frequency_penalty")
    config: dict[str, Any] = {}
    for name, wire in (("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK"),
                       ("max_output_tokens", "maxOutputTokens"), ("seed", "seed"),
                       ("presence_penalty", "presencePenalty"),
                       ("frequency_penalty", "frequencyPenalty")):
        value = getattr(g, name)
        if value is not None:
            config[wire] = value
    if g.stop_sequences:
        config["stopSequences"] = list(g.stop_sequences)
    _response_format(config, request, provider)
    thinking = _thinking(request, provider, model)
    if thinking:
        config["thinkingConfig"] = thinking
    return config


def _response_format(config: dict[str, Any], request: ChatRequest, provider: str) -> None:
    fmt = request.response_format
    if fmt is None or isinstance(fmt, TextFormat):
        return
    if isinstance(fmt, JsonObjectFormat):
        config["responseMimeType"] = "application/json"
    elif isinstance(fmt, JsonSchemaFormat):
        schema = dict(fmt.schema)
        # The schema's name has no place (it labels the format for OpenAI);
        # the description guides the model, so it goes into the schema.
        if fmt.description and "description" not in schema:
            schema["description"] = fmt.description
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = schema
    elif isinstance(fmt, ChoiceFormat):
        # Enum output: the documented text/x.enum MIME type with a STRING enum.
        config["responseMimeType"] = "text/x.enum"
        config["responseSchema"] = {"type": "STRING", "enum": list(fmt.choices)}
    else:
        kind = type(fmt).__name__.removesuffix("Format").lower()
        raise UnsupportedFeature(provider, f"{kind}-constrained output")


def _thinking(request: ChatRequest, provider: str, model: str) -> dict[str, Any]:
    r = request.reasoning
    if r is None:
        return {}
    if r.effort is not None and r.budget_tokens is not None:
        raise UnsupportedFeature(provider, "a reasoning effort together with a token budget",
                                 "Gemini takes thinkingLevel or thinkingBudget, not both")
    thinking: dict[str, Any] = {}
    if r.budget_tokens is not None:
        thinking["thinkingBudget"] = r.budget_tokens
    elif r.effort is ReasoningEffort.NONE:
        thinking["thinkingBudget"] = 0
    elif r.effort is not None and model.startswith(_BUDGET_MODELS):
        thinking["thinkingBudget"] = _BUDGETS[r.effort]
    elif r.effort is not None:
        thinking["thinkingLevel"] = _LEVELS[r.effort]
    if r.include_thoughts is not None:
        thinking["includeThoughts"] = r.include_thoughts
    return thinking
