"""Protobuf <-> core translation of chat requests, responses and events."""

import pytest
from llm_gateway.api.chat import (
    chat_request_from_proto,
    chat_response_to_proto,
    stream_event_to_proto,
)
from llm_gateway.core import events as ev
from llm_gateway.core.errors import InvalidRequest
from llm_gateway.core.types import (
    ChatResponse,
    FinishReason,
    ImagePart,
    JsonSchemaFormat,
    Message,
    ReasoningEffort,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)
from llmgateway.v1 import chat_pb2, common_pb2, content_pb2, generation_pb2

P = content_pb2.Part


def full_input() -> chat_pb2.ChatInput:
    return chat_pb2.ChatInput(
        model="anthropic/claude-sonnet",
        system=[P(text="Be brief.")],
        messages=[
            content_pb2.Message(role=content_pb2.ROLE_USER, parts=[
                P(text="What is this?"),
                P(image=content_pb2.Media(mime_type="image/png", data=b"\x89PNG")),
                P(image=content_pb2.Media(uri="https://example.com/cat.jpg")),
            ]),
            content_pb2.Message(role=content_pb2.ROLE_ASSISTANT, parts=[
                P(reasoning=content_pb2.Reasoning(text="hmm", signature="sig",
                                                  provider_type="anthropic")),
                P(tool_call=content_pb2.ToolCall(id="t1", name="look",
                                                 arguments_json='{"n": 1}'),
                  thought_signature="gsig"),
            ]),
            content_pb2.Message(role=content_pb2.ROLE_TOOL, parts=[
                P(tool_result=content_pb2.ToolResult(tool_call_id="t1",
                                                     content=[P(text="a cat")])),
            ]),
        ],
        generation=generation_pb2.GenerationConfig(temperature=0.0, max_output_tokens=64,
                                                   stop_sequences=["END"], seed=7),
        tools=[generation_pb2.Tool(function=generation_pb2.FunctionTool(
            name="look", description="Looks", parameters_json_schema='{"type":"object"}',
            strict=True))],
        tool_choice=generation_pb2.ToolChoice(mode=generation_pb2.ToolChoice.MODE_REQUIRED,
                                              parallel_tool_calls=False),
        response_format=generation_pb2.ResponseFormat(json_schema=generation_pb2.JsonSchemaFormat(
            name="out", schema_json='{"type":"object","properties":{"a":{"type":"integer"}}}')),
        reasoning=generation_pb2.ReasoningConfig(effort=generation_pb2.ReasoningConfig.EFFORT_LOW),
        provider_options=common_pb2.ProviderOptions(json_by_provider={"anthropic": '{"top_k": 5}'}),
    )


def test_every_field_reaches_the_core_model() -> None:
    req = chat_request_from_proto(full_input(), common_pb2.RequestMetadata(
        request_id="req-1", end_user_id="u9", labels={"team": "search"}))
    assert req.model == "anthropic/claude-sonnet"
    assert req.system == (TextPart("Be brief."),)
    user, assistant, tool = req.messages
    assert user.parts == (TextPart("What is this?"), ImagePart("image/png", data=b"\x89PNG"),
                          ImagePart("", uri="https://example.com/cat.jpg"))
    assert assistant.parts == (
        ReasoningPart("hmm", "sig", provider_type="anthropic"),
        ToolCallPart("t1", "look", '{"n": 1}', thought_signature="gsig"),
    )
    # The result's name is filled from the call it answers.
    assert tool.parts == (ToolResultPart("t1", (TextPart("a cat"),), name="look"),)
    # `optional` keeps 0.0 apart from unset.
    assert req.generation.temperature == 0.0 and req.generation.top_p is None
    assert req.generation.max_output_tokens == 64 and req.generation.seed == 7
    assert req.tools[0].parameters == {"type": "object"} and req.tools[0].strict is True
    assert req.tool_choice is not None and req.tool_choice.mode is ToolChoiceMode.REQUIRED
    assert req.tool_choice.parallel_tool_calls is False
    assert isinstance(req.response_format, JsonSchemaFormat)
    assert req.response_format.schema["properties"]["a"] == {"type": "integer"}
    assert req.reasoning is not None and req.reasoning.effort is ReasoningEffort.LOW
    assert req.provider_options == {"anthropic": {"top_k": 5}}
    assert req.metadata.request_id == "req-1" and req.metadata.labels == {"team": "search"}


def test_all_violations_are_reported_at_once() -> None:
    bad = chat_pb2.ChatInput(
        messages=[
            content_pb2.Message(role=content_pb2.ROLE_USER, parts=[
                P(tool_call=content_pb2.ToolCall(id="x", name="f")), P()]),
            content_pb2.Message(parts=[P(text="no role")]),
            content_pb2.Message(role=content_pb2.ROLE_TOOL, parts=[
                P(tool_result=content_pb2.ToolResult(tool_call_id="never-called"))]),
            content_pb2.Message(role=content_pb2.ROLE_USER, parts=[
                P(image=content_pb2.Media(data=b"x")),
                P(image=content_pb2.Media(uri="ftp://x"))]),
        ],
        generation=generation_pb2.GenerationConfig(temperature=3, top_p=-1,
                                                   stop_sequences=[""]),
        tools=[generation_pb2.Tool(function=generation_pb2.FunctionTool(
            name="bad name", parameters_json_schema="[1]"))],
        tool_choice=generation_pb2.ToolChoice(function_name="ghost"),
        response_format=generation_pb2.ResponseFormat(
            json_schema=generation_pb2.JsonSchemaFormat(schema_json="{not json")),
        provider_options=common_pb2.ProviderOptions(json_by_provider={"openai": "3"}),
    )
    with pytest.raises(InvalidRequest) as exc:
        chat_request_from_proto(bad, common_pb2.RequestMetadata(request_id="bad\nid"))
    fields = {v.field for v in exc.value.violations}
    assert fields == {
        "input.model",
        "input.messages[0].parts[0].tool_call",
        "input.messages[0].parts[1]",
        "input.messages[1].role",
        "input.messages[2].parts[0].tool_result.tool_call_id",
        "input.messages[3].parts[0].image.mime_type",
        "input.messages[3].parts[1].image.uri",
        "input.generation.temperature",
        "input.generation.top_p",
        "input.generation.stop_sequences",
        "input.tools[0].function.name",
        "input.tools[0].function.parameters_json_schema",
        "input.tool_choice.function_name",
        "input.response_format.json_schema.schema_json",
        'input.provider_options.json_by_provider["openai"]',
        "metadata.request_id",
    }


def test_empty_conversation_is_refused() -> None:
    with pytest.raises(InvalidRequest) as exc:
        chat_request_from_proto(chat_pb2.ChatInput(model="echo"), common_pb2.RequestMetadata())
    assert [(v.field, v.description) for v in exc.value.violations] == [
        ("input.messages", "at least one message is required")]


def test_response_to_proto_keeps_everything() -> None:
    response = ChatResponse(
        id="msg_1", model="m", provider="p", request_id="r", upstream_request_id="u",
        message=Message(Role.ASSISTANT, (
            ReasoningPart("t", "s", b"\x00\x01", "rs_1", "openai_responses"),
            TextPart("hi", thought_signature="g"),
            ToolCallPart("c", "f", "{}"))),
        finish_reason=FinishReason.TOOL_CALLS, provider_finish_reason="tool_use",
        stop_sequence="", usage=Usage(10, 5, cached_input_tokens=4, reasoning_tokens=2))
    pb = chat_response_to_proto(response)
    assert pb.finish_reason == common_pb2.FINISH_REASON_TOOL_CALLS
    assert pb.usage.total_tokens == 15 and pb.usage.cached_input_tokens == 4
    assert not pb.usage.HasField("cache_write_tokens")
    assert pb.message.parts[0].reasoning.redacted_data == b"\x00\x01"
    assert pb.message.parts[1].thought_signature == "g"
    assert pb.message.parts[2].tool_call.arguments_json == "{}"


@pytest.mark.parametrize("event, kind", [
    (ev.StreamStart("i", "m", "u", "p", "r"), "start"),
    (ev.TextDelta(0, "x"), "text_delta"),
    (ev.ReasoningDelta(0, "x"), "reasoning_delta"),
    (ev.ToolCallStart(1, "c", "f"), "tool_call_start"),
    (ev.ToolCallDelta(1, "{"), "tool_call_delta"),
    (ev.ToolCallEnd(1, ToolCallPart("c", "f", "{}")), "tool_call_end"),
    (ev.UsageUpdate(Usage(1, 2)), "usage"),
    (ev.StreamDone(FinishReason.LENGTH, "max_tokens"), "done"),
])
def test_every_stream_event_has_its_oneof_case(event: ev.StreamEvent, kind: str) -> None:
    assert stream_event_to_proto(event).WhichOneof("event") == kind
