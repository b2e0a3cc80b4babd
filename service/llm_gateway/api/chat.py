"""Protobuf <-> core translation for ChatService, with request validation.

Every problem in a request is collected and reported at once as field
violations with paths such as `input.messages[2].parts[0].tool_result`.
"""

from __future__ import annotations

import re

from llmgateway.v1 import chat_pb2, common_pb2, content_pb2, generation_pb2

from ..core import events as ev
from ..core.types import (
    ChatRequest,
    ChatResponse,
    ChoiceFormat,
    FunctionTool,
    GenerationConfig,
    GrammarFormat,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    Part,
    ReasoningConfig,
    ReasoningEffort,
    ReasoningPart,
    RegexFormat,
    RequestMetadata,
    ResponseFormat,
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
)
from .common import (
    FINISH_TO_PROTO,
    metadata_from_proto,
    provider_options_from_proto,
    usage_to_proto,
)
from .violations import Violations

_ROLES = {
    content_pb2.ROLE_USER: Role.USER,
    content_pb2.ROLE_ASSISTANT: Role.ASSISTANT,
    content_pb2.ROLE_TOOL: Role.TOOL,
}
_ROLE_TO_PROTO = {v: k for k, v in _ROLES.items()}
_ALLOWED_PARTS = {
    Role.USER: ("text", "image"),
    Role.ASSISTANT: ("text", "reasoning", "tool_call"),
    Role.TOOL: ("tool_result",),
}
_TOOL_CHOICE_MODES = {
    generation_pb2.ToolChoice.MODE_AUTO: ToolChoiceMode.AUTO,
    generation_pb2.ToolChoice.MODE_NONE: ToolChoiceMode.NONE,
    generation_pb2.ToolChoice.MODE_REQUIRED: ToolChoiceMode.REQUIRED,
}
_EFFORTS = {
    generation_pb2.ReasoningConfig.EFFORT_NONE: ReasoningEffort.NONE,
    generation_pb2.ReasoningConfig.EFFORT_MINIMAL: ReasoningEffort.MINIMAL,
    generation_pb2.ReasoningConfig.EFFORT_LOW: ReasoningEffort.LOW,
    generation_pb2.ReasoningConfig.EFFORT_MEDIUM: ReasoningEffort.MEDIUM,
    generation_pb2.ReasoningConfig.EFFORT_HIGH: ReasoningEffort.HIGH,
    generation_pb2.ReasoningConfig.EFFORT_XHIGH: ReasoningEffort.XHIGH,
    generation_pb2.ReasoningConfig.EFFORT_MAX: ReasoningEffort.MAX,
}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_URI_SCHEMES = ("http://", "https://", "gs://", "s3://")
MAX_STOP_SEQUENCES = 16
MAX_MODEL_NAME = 256


# --- request ------------------------------------------------------------------


def chat_request_from_proto(
    inp: chat_pb2.ChatInput, metadata: common_pb2.RequestMetadata, field: str = "input",
    meta_field: str = "metadata",
) -> ChatRequest:
    v = Violations()
    meta = metadata_from_proto(metadata, v, meta_field)
    request = chat_input_from_proto(inp, v, field, meta)
    v.raise_if_any()
    return request


def chat_input_from_proto(inp: chat_pb2.ChatInput, v: Violations, f: str,
                          metadata: RequestMetadata = RequestMetadata()) -> ChatRequest:
    model = inp.model
    if not model:
        v.add(f"{f}.model", "required: an alias or 'provider/model'")
    elif len(model) > MAX_MODEL_NAME:
        v.add(f"{f}.model", f"at most {MAX_MODEL_NAME} characters")
    system = _system(inp.system, v, f"{f}.system")
    messages = _messages(inp.messages, v, f"{f}.messages")
    tools = _tools(inp.tools, v, f"{f}.tools")
    return ChatRequest(
        model=model,
        messages=messages,
        system=system,
        generation=generation_from_proto(inp.generation, v, f"{f}.generation")
        if inp.HasField("generation") else GenerationConfig(),
        tools=tools,
        tool_choice=_tool_choice(inp.tool_choice, tools, v, f"{f}.tool_choice")
        if inp.HasField("tool_choice") else None,
        response_format=response_format_from_proto(inp.response_format, v,
                                                   f"{f}.response_format")
        if inp.HasField("response_format") else None,
        reasoning=_reasoning(inp.reasoning, v, f"{f}.reasoning")
        if inp.HasField("reasoning") else None,
        provider_options=provider_options_from_proto(inp.provider_options, v,
                                                     f"{f}.provider_options")
        if inp.HasField("provider_options") else {},
        metadata=metadata,
    )


def _system(parts: object, v: Violations, f: str) -> tuple[TextPart, ...]:
    out = []
    for i, pb in enumerate(parts):  # type: ignore[arg-type]
        if pb.WhichOneof("kind") != "text":
            v.add(f"{f}[{i}]", "the system prompt takes text parts only")
        else:
            out.append(TextPart(pb.text))
    return tuple(out)


def _messages(pbs: object, v: Violations, f: str) -> tuple[Message, ...]:
    messages: list[Message] = []
    calls: dict[str, str] = {}  # tool call id -> name, from earlier assistant turns
    for i, pb in enumerate(pbs):  # type: ignore[arg-type]
        mf = f"{f}[{i}]"
        role = _ROLES.get(pb.role)
        if role is None:
            v.add(f"{mf}.role", "required: ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL")
            continue
        if not pb.parts:
            v.add(f"{mf}.parts", "a message needs at least one part")
        parts = []
        for j, part_pb in enumerate(pb.parts):
            part = _part(part_pb, role, v, f"{mf}.parts[{j}]", calls)
            if part is not None:
                parts.append(part)
        for part in parts:
            if isinstance(part, ToolCallPart):
                calls[part.id] = part.name
        messages.append(Message(role, tuple(parts), pb.name))
    if not messages and not v.items:
        v.add(f, "at least one message is required")
    return tuple(messages)


def _part(pb: content_pb2.Part, role: Role, v: Violations, f: str,
          calls: dict[str, str]) -> Part | None:
    kind = pb.WhichOneof("kind")
    if kind is None:
        v.add(f, "a part needs one of text, image, tool_call, tool_result, reasoning")
        return None
    if kind not in _ALLOWED_PARTS[role]:
        allowed = ", ".join(_ALLOWED_PARTS[role])
        v.add(f"{f}.{kind}", f"not allowed in a {role.value} message (allowed: {allowed})")
        return None
    if kind == "text":
        return TextPart(pb.text, pb.thought_signature)
    if kind == "image":
        return _image(pb.image, v, f"{f}.image")
    if kind == "tool_call":
        call = pb.tool_call
        if not call.id:
            v.add(f"{f}.tool_call.id", "required")
        if not call.name:
            v.add(f"{f}.tool_call.name", "required")
        return ToolCallPart(call.id, call.name, call.arguments_json or "{}", pb.thought_signature)
    if kind == "tool_result":
        return _tool_result(pb.tool_result, v, f"{f}.tool_result", calls)
    r = pb.reasoning
    return ReasoningPart(r.text, r.signature, r.redacted_data, r.id, r.provider_type)


def _image(pb: content_pb2.Media, v: Violations, f: str) -> ImagePart | None:
    source = pb.WhichOneof("source")
    if source is None:
        v.add(f, "needs data or uri")
        return None
    if pb.mime_type and not pb.mime_type.startswith("image/"):
        v.add(f"{f}.mime_type", "must be an image type such as image/png")
    if source == "data":
        if not pb.mime_type:
            v.add(f"{f}.mime_type", "required with data")
        if not pb.data:
            v.add(f"{f}.data", "empty")
        return ImagePart(pb.mime_type, data=pb.data)
    if not pb.uri.startswith(_URI_SCHEMES):
        v.add(f"{f}.uri", "must be an http(s), gs:// or s3:// URI")
    return ImagePart(pb.mime_type, uri=pb.uri)


def _tool_result(pb: content_pb2.ToolResult, v: Violations, f: str,
                 calls: dict[str, str]) -> ToolResultPart:
    name = pb.name
    if not pb.tool_call_id:
        v.add(f"{f}.tool_call_id", "required")
    elif pb.tool_call_id not in calls:
        v.add(f"{f}.tool_call_id", "refers to no tool call of an earlier assistant message")
    else:
        name = name or calls[pb.tool_call_id]
    content: list[TextPart | ImagePart] = []
    for k, part in enumerate(pb.content):
        kind = part.WhichOneof("kind")
        if kind == "text":
            content.append(TextPart(part.text))
        elif kind == "image":
            image = _image(part.image, v, f"{f}.content[{k}].image")
            if image is not None:
                content.append(image)
        else:
            v.add(f"{f}.content[{k}]", "tool results hold text and image parts only")
    return ToolResultPart(pb.tool_call_id, tuple(content), name, pb.is_error)


def _tools(pbs: object, v: Violations, f: str) -> tuple[FunctionTool, ...]:
    tools = []
    seen: set[str] = set()
    for i, pb in enumerate(pbs):  # type: ignore[arg-type]
        if pb.WhichOneof("kind") != "function":
            v.add(f"{f}[{i}]", "a tool needs a function")
            continue
        fn = pb.function
        tf = f"{f}[{i}].function"
        if not _TOOL_NAME.match(fn.name):
            v.add(f"{tf}.name", "1 to 64 characters of a-z A-Z 0-9 _ -")
        elif fn.name in seen:
            v.add(f"{tf}.name", "duplicate tool name")
        seen.add(fn.name)
        schema = v.json_object(fn.parameters_json_schema, f"{tf}.parameters_json_schema")
        tools.append(FunctionTool(fn.name, fn.description, schema,
                                  fn.strict if fn.HasField("strict") else None))
    return tuple(tools)


def _tool_choice(pb: generation_pb2.ToolChoice, tools: tuple[FunctionTool, ...],
                 v: Violations, f: str) -> ToolChoice:
    which = pb.WhichOneof("choice")
    mode = _TOOL_CHOICE_MODES.get(pb.mode) if which == "mode" else None
    name = pb.function_name if which == "function_name" else None
    if name is not None and name not in {t.name for t in tools}:
        v.add(f"{f}.function_name", "names no tool declared in tools")
    if mode is ToolChoiceMode.REQUIRED and not tools:
        v.add(f"{f}.mode", "MODE_REQUIRED needs at least one tool")
    parallel = pb.parallel_tool_calls if pb.HasField("parallel_tool_calls") else None
    return ToolChoice(mode, name, parallel)


def generation_from_proto(pb: generation_pb2.GenerationConfig, v: Violations, f: str
                          ) -> GenerationConfig:
    def opt(name: str) -> object:
        return getattr(pb, name) if pb.HasField(name) else None

    config = GenerationConfig(
        max_output_tokens=opt("max_output_tokens"),  # type: ignore[arg-type]
        temperature=opt("temperature"),  # type: ignore[arg-type]
        top_p=opt("top_p"),  # type: ignore[arg-type]
        top_k=opt("top_k"),  # type: ignore[arg-type]
        min_p=opt("min_p"),  # type: ignore[arg-type]
        presence_penalty=opt("presence_penalty"),  # type: ignore[arg-type]
        frequency_penalty=opt("frequency_penalty"),  # type: ignore[arg-type]
        repetition_penalty=opt("repetition_penalty"),  # type: ignore[arg-type]
        stop_sequences=tuple(pb.stop_sequences),
        seed=opt("seed"),  # type: ignore[arg-type]
    )
    checks = (
        ("max_output_tokens", config.max_output_tokens, lambda x: x > 0, "must be > 0"),
        ("temperature", config.temperature, lambda x: 0 <= x <= 2, "must be from 0 to 2"),
        ("top_p", config.top_p, lambda x: 0 <= x <= 1, "must be from 0 to 1"),
        ("top_k", config.top_k, lambda x: x > 0, "must be > 0"),
        ("min_p", config.min_p, lambda x: 0 <= x <= 1, "must be from 0 to 1"),
        ("presence_penalty", config.presence_penalty, lambda x: -2 <= x <= 2,
         "must be from -2 to 2"),
        ("frequency_penalty", config.frequency_penalty, lambda x: -2 <= x <= 2,
         "must be from -2 to 2"),
        ("repetition_penalty", config.repetition_penalty, lambda x: x > 0, "must be > 0"),
    )
    for name, value, ok, problem in checks:
        if value is not None and not ok(value):
            v.add(f"{f}.{name}", problem)
    if len(config.stop_sequences) > MAX_STOP_SEQUENCES:
        v.add(f"{f}.stop_sequences", f"at most {MAX_STOP_SEQUENCES}")
    if any(not s for s in config.stop_sequences):
        v.add(f"{f}.stop_sequences", "empty stop sequence")
    return config


def response_format_from_proto(pb: generation_pb2.ResponseFormat, v: Violations, f: str
                               ) -> ResponseFormat | None:
    which = pb.WhichOneof("format")
    if which is None or which == "text":
        return TextFormat() if which else None
    if which == "json_object":
        return JsonObjectFormat()
    if which == "json_schema":
        js = pb.json_schema
        schema = v.json_object(js.schema_json, f"{f}.json_schema.schema_json", required=True)
        return JsonSchemaFormat(schema or {}, js.name, js.description,
                                js.strict if js.HasField("strict") else None)
    if which == "regex":
        if not pb.regex.pattern:
            v.add(f"{f}.regex.pattern", "required")
        return RegexFormat(pb.regex.pattern)
    if which == "grammar":
        if not pb.grammar.grammar:
            v.add(f"{f}.grammar.grammar", "required")
        return GrammarFormat(pb.grammar.grammar)
    if not pb.choice.choices:
        v.add(f"{f}.choice.choices", "at least one choice")
    return ChoiceFormat(tuple(pb.choice.choices))


def _reasoning(pb: generation_pb2.ReasoningConfig, v: Violations, f: str) -> ReasoningConfig:
    which = pb.WhichOneof("budget")
    effort = budget = None
    if which == "effort":
        effort = _EFFORTS.get(pb.effort)
        if effort is None:
            v.add(f"{f}.effort", "unknown or unspecified effort")
    elif which == "budget_tokens":
        budget = pb.budget_tokens
        if budget < 0:
            v.add(f"{f}.budget_tokens", "must be >= 0")
    include = pb.include_thoughts if pb.HasField("include_thoughts") else None
    return ReasoningConfig(effort, budget, include)


# --- response -------------------------------------------------------------------


def part_to_proto(part: Part) -> content_pb2.Part:
    if isinstance(part, TextPart):
        return content_pb2.Part(text=part.text, thought_signature=part.thought_signature)
    if isinstance(part, ToolCallPart):
        return content_pb2.Part(
            tool_call=content_pb2.ToolCall(id=part.id, name=part.name,
                                           arguments_json=part.arguments_json),
            thought_signature=part.thought_signature,
        )
    if isinstance(part, ReasoningPart):
        return content_pb2.Part(reasoning=content_pb2.Reasoning(
            text=part.text, signature=part.signature, redacted_data=part.redacted_data,
            id=part.id, provider_type=part.provider_type))
    if isinstance(part, ImagePart):
        media = (content_pb2.Media(mime_type=part.mime_type, data=part.data)
                 if part.data is not None else
                 content_pb2.Media(mime_type=part.mime_type, uri=part.uri or ""))
        return content_pb2.Part(image=media)
    return content_pb2.Part(tool_result=content_pb2.ToolResult(
        tool_call_id=part.tool_call_id, name=part.name, is_error=part.is_error,
        content=[part_to_proto(p) for p in part.content]))


def message_to_proto(message: Message) -> content_pb2.Message:
    return content_pb2.Message(role=_ROLE_TO_PROTO[message.role],
                               parts=[part_to_proto(p) for p in message.parts],
                               name=message.name)


def chat_response_to_proto(r: ChatResponse) -> chat_pb2.ChatResponse:
    return chat_pb2.ChatResponse(
        id=r.id, model=r.model, provider=r.provider, message=message_to_proto(r.message),
        finish_reason=FINISH_TO_PROTO[r.finish_reason],
        provider_finish_reason=r.provider_finish_reason, stop_sequence=r.stop_sequence,
        usage=usage_to_proto(r.usage), request_id=r.request_id,
        upstream_request_id=r.upstream_request_id,
    )


def stream_event_to_proto(e: ev.StreamEvent) -> chat_pb2.StreamChatResponse:
    # Ordered by frequency: deltas dominate a stream.
    if type(e) is ev.TextDelta:
        return chat_pb2.StreamChatResponse(text_delta=chat_pb2.TextDelta(
            index=e.index, text=e.text, thought_signature=e.thought_signature))
    if type(e) is ev.ToolCallDelta:
        return chat_pb2.StreamChatResponse(tool_call_delta=chat_pb2.ToolCallDelta(
            index=e.index, arguments_fragment=e.arguments_fragment))
    if type(e) is ev.ReasoningDelta:
        return chat_pb2.StreamChatResponse(reasoning_delta=chat_pb2.ReasoningDelta(
            index=e.index, text=e.text, signature=e.signature, redacted_data=e.redacted_data,
            id=e.id, provider_type=e.provider_type))
    if type(e) is ev.StreamStart:
        return chat_pb2.StreamChatResponse(start=chat_pb2.StreamStart(
            id=e.id, model=e.model, provider=e.provider, request_id=e.request_id,
            upstream_request_id=e.upstream_request_id))
    if type(e) is ev.ToolCallStart:
        return chat_pb2.StreamChatResponse(tool_call_start=chat_pb2.ToolCallStart(
            index=e.index, id=e.id, name=e.name, thought_signature=e.thought_signature))
    if type(e) is ev.ToolCallEnd:
        call = e.tool_call
        return chat_pb2.StreamChatResponse(tool_call_end=chat_pb2.ToolCallEnd(
            index=e.index, tool_call=content_pb2.ToolCall(
                id=call.id, name=call.name, arguments_json=call.arguments_json)))
    if type(e) is ev.UsageUpdate:
        return chat_pb2.StreamChatResponse(usage=chat_pb2.UsageUpdate(
            usage=usage_to_proto(e.usage)))
    assert type(e) is ev.StreamDone, e
    return chat_pb2.StreamChatResponse(done=chat_pb2.StreamDone(
        finish_reason=FINISH_TO_PROTO[e.finish_reason],
        provider_finish_reason=e.provider_finish_reason, stop_sequence=e.stop_sequence,
        usage=usage_to_proto(e.usage)))
