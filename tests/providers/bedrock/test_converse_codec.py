"""The Converse codec alone: neutral request -> body, body -> neutral."""

import json

import pytest
from llm_gateway.core.errors import InvalidRequest, UnsupportedFeature
from llm_gateway.core.types import (
    ChatRequest,
    ChoiceFormat,
    FinishReason,
    FunctionTool,
    GenerationConfig,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    ReasoningConfig,
    ReasoningEffort,
    ReasoningPart,
    RegexFormat,
    Role,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)
from llm_gateway.providers.bedrock.converse_codec import (
    decode_converse,
    encode_converse,
    encode_count_tokens,
    model_path,
)

from tests.fixtures import bedrock as fx

CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "amazon.nova-pro-v1:0"


def user(text: str) -> Message:
    return Message(Role.USER, (TextPart(text),))


def conversation() -> ChatRequest:
    return ChatRequest(
        model="ignored",
        system=(TextPart("You are terse."), TextPart("")),
        messages=(
            Message(Role.USER, (TextPart("Weather in Paris?"),
                                ImagePart("image/png", data=b"\x89PNG"))),
            Message(Role.ASSISTANT, (
                ReasoningPart("think", "sig-1", provider_type="bedrock"),
                ReasoningPart(redacted_data=b"redacted", provider_type="bedrock"),
                ReasoningPart("foreign", "anthropic-sig", provider_type="anthropic"),
                TextPart("Checking."),
                ToolCallPart("tooluse_1", "get_weather", '{"city": "Paris"}'),
                ToolCallPart("tooluse_2", "get_time", ""))),
            Message(Role.TOOL, (
                ToolResultPart("tooluse_1", (TextPart("18C"),
                                             ImagePart("image/jpeg", uri="s3://bucket/map.jpg"))),
                ToolResultPart("tooluse_2", (TextPart("clock broken"),), is_error=True))),
            user("Thanks. And tomorrow?"),
        ),
        generation=GenerationConfig(max_output_tokens=2048, temperature=1.0, top_p=0.9,
                                    top_k=40, stop_sequences=("END",)),
        tools=(FunctionTool("get_weather", "Weather", {"type": "object"}, strict=True),
               FunctionTool("get_time")),
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel_tool_calls=True),
        response_format=JsonSchemaFormat({"type": "object"}, name="answer",
                                         description="The answer"),
        reasoning=ReasoningConfig(budget_tokens=1024),
    )


def test_encode_full_conversation_for_claude() -> None:
    body = encode_converse(conversation(), CLAUDE, "bedrock",
                           {"additionalModelRequestFields": {"anthropic_beta": ["x"]},
                            "performanceConfig": {"latency": "optimized"}})
    assert body == {
        "system": [{"text": "You are terse."}],
        "messages": [
            {"role": "user", "content": [
                {"text": "Weather in Paris?"},
                {"image": {"format": "png", "source": {"bytes": "iVBORw=="}}}]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig-1"}}},
                {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
                {"text": "Checking."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather",
                             "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "tooluse_2", "name": "get_time", "input": {}}}]},
            # Tool results and the next user text are one user turn.
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [
                    {"text": "18C"},
                    {"image": {"format": "jpeg",
                               "source": {"s3Location": {"uri": "s3://bucket/map.jpg"}}}}]}},
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "clock broken"}],
                                "status": "error"}},
                {"text": "Thanks. And tomorrow?"}]},
        ],
        "inferenceConfig": {"maxTokens": 2048, "temperature": 1.0, "topP": 0.9,
                            "stopSequences": ["END"]},
        "toolConfig": {
            "tools": [
                {"toolSpec": {"name": "get_weather", "description": "Weather",
                              "inputSchema": {"json": {"type": "object"}}, "strict": True}},
                {"toolSpec": {"name": "get_time", "inputSchema": {
                    "json": {"type": "object", "properties": {}}}}}],
            "toolChoice": {"any": {}}},
        "additionalModelRequestFields": {
            "top_k": 40, "thinking": {"type": "enabled", "budget_tokens": 1024},
            "anthropic_beta": ["x"]},
        "additionalModelResponseFieldPaths": ["/stop_sequence"],
        "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
            "schema": '{"type":"object"}', "name": "answer", "description": "The answer"}}}},
        "performanceConfig": {"latency": "optimized"},
    }


def test_count_tokens_body_keeps_the_input_fields() -> None:
    body = encode_count_tokens(conversation(), CLAUDE, "bedrock")
    converse = encode_converse(conversation(), CLAUDE, "bedrock")
    assert body == {"input": {"converse": {
        "messages": converse["messages"], "system": converse["system"],
        "toolConfig": converse["toolConfig"],
        "additionalModelRequestFields": converse["additionalModelRequestFields"]}}}


def test_model_ids_are_one_path_segment() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-v2:1"
    assert model_path(arn, "converse") == (
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile"
        "%2Fus.anthropic.claude-v2%3A1/converse")
    assert model_path("amazon.titan-embed-text-v2:0", "invoke") == (
        "/model/amazon.titan-embed-text-v2%3A0/invoke")


@pytest.mark.parametrize("choice, wire", [
    (ToolChoice(ToolChoiceMode.AUTO), {"auto": {}}),
    (ToolChoice(ToolChoiceMode.REQUIRED), {"any": {}}),
    (ToolChoice(function_name="get_time"), {"tool": {"name": "get_time"}}),
    (None, None),
])
def test_tool_choices(choice: ToolChoice | None, wire: dict | None) -> None:
    request = ChatRequest("m", (user("x"),), tools=(FunctionTool("get_time"),),
                          tool_choice=choice)
    assert encode_converse(request, NOVA, "bedrock")["toolConfig"].get("toolChoice") == wire


@pytest.mark.parametrize("reasoning, thinking", [
    (ReasoningConfig(budget_tokens=2000), {"type": "enabled", "budget_tokens": 2000}),
    (ReasoningConfig(budget_tokens=0), {"type": "disabled"}),
    (ReasoningConfig(effort=ReasoningEffort.NONE), {"type": "disabled"}),
])
def test_claude_thinking(reasoning: ReasoningConfig, thinking: dict) -> None:
    body = encode_converse(ChatRequest("m", (user("x"),), reasoning=reasoning), CLAUDE, "b")
    assert body["additionalModelRequestFields"] == {"thinking": thinking}


def test_minimal_request_and_other_models() -> None:
    assert encode_converse(ChatRequest("m", (user("hi"),)), NOVA, "bedrock") == {
        "messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    # Stop sequences: only Claude reports which one matched.
    body = encode_converse(ChatRequest("m", (user("hi"),),
                                       generation=GenerationConfig(stop_sequences=("X",))),
                           NOVA, "bedrock")
    assert "additionalModelResponseFieldPaths" not in body


@pytest.mark.parametrize("request_, model, feature", [
    (ChatRequest("m", (user("x"),), tools=(FunctionTool("t"),),
                 tool_choice=ToolChoice(ToolChoiceMode.NONE)), CLAUDE, "tool choice none"),
    (ChatRequest("m", (user("x"),), tools=(FunctionTool("t"),),
                 tool_choice=ToolChoice(ToolChoiceMode.AUTO, parallel_tool_calls=False)),
     CLAUDE, "disabling parallel tool calls"),
    (ChatRequest("m", (user("x"),), generation=GenerationConfig(seed=1)), CLAUDE, "seed"),
    (ChatRequest("m", (user("x"),), generation=GenerationConfig(min_p=0.1)), CLAUDE, "min_p"),
    (ChatRequest("m", (user("x"),), generation=GenerationConfig(presence_penalty=1)), CLAUDE,
     "presence_penalty"),
    (ChatRequest("m", (user("x"),), generation=GenerationConfig(top_k=5)), NOVA,
     "top_k for this model"),
    (ChatRequest("m", (user("x"),), reasoning=ReasoningConfig(budget_tokens=10)), NOVA,
     "reasoning controls for this model"),
    (ChatRequest("m", (user("x"),), reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH)),
     CLAUDE, "reasoning effort"),
    (ChatRequest("m", (user("x"),), reasoning=ReasoningConfig(budget_tokens=1024,
                                                               include_thoughts=False)),
     CLAUDE, "hiding reasoning"),
    (ChatRequest("m", (user("x"),), response_format=JsonObjectFormat()), CLAUDE,
     "jsonobject output"),
    (ChatRequest("m", (user("x"),), response_format=RegexFormat("a+")), CLAUDE, "regex output"),
    (ChatRequest("m", (user("x"),), response_format=ChoiceFormat(("a",))), CLAUDE,
     "choice output"),
    (ChatRequest("m", (Message(Role.USER, (ImagePart("image/png", uri="https://x/y.png"),)),)),
     CLAUDE, "image URIs other than s3://"),
    (ChatRequest("m", (Message(Role.USER, (ImagePart("image/bmp", data=b"BM"),)),)),
     CLAUDE, "image/bmp images"),
])
def test_refusals_name_the_feature(request_: ChatRequest, model: str, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        encode_converse(request_, model, "bedrock")
    assert exc.value.metadata == {"provider": "bedrock", "feature": feature}


def test_invalid_values_point_at_the_field() -> None:
    bad_args = ChatRequest("m", (user("x"), Message(Role.ASSISTANT, (
        ToolCallPart("t1", "f", "[1, 2]"),))))
    with pytest.raises(InvalidRequest) as exc:
        encode_converse(bad_args, CLAUDE, "bedrock")
    assert exc.value.violations[0].field == "input.messages[1].parts[0].tool_call.arguments_json"
    hot = ChatRequest("m", (user("x"),), generation=GenerationConfig(temperature=1.5))
    with pytest.raises(InvalidRequest) as exc:
        encode_converse(hot, CLAUDE, "bedrock")
    assert exc.value.violations[0].field == "input.generation.temperature"


def test_decode_text_and_usage() -> None:
    response = decode_converse(fx.CONVERSE_TEXT, CLAUDE, "req-1")
    assert response.message == Message(Role.ASSISTANT,
                                       (TextPart("Hello! How can I help you today?"),))
    assert (response.id, response.model, response.upstream_request_id) == (
        "req-1", CLAUDE, "req-1")
    assert (response.finish_reason, response.provider_finish_reason) == (
        FinishReason.STOP, "end_turn")
    assert response.usage == Usage(12, 9)


def test_decode_reasoning_tools_and_cache_usage() -> None:
    response = decode_converse(fx.CONVERSE_TOOLS, CLAUDE)
    assert response.message.parts == (
        ReasoningPart("The user wants weather and time.", "EqQBCkYIARgCIkD1",
                      provider_type="bedrock"),
        ReasoningPart(redacted_data=b"redacted", provider_type="bedrock"),
        TextPart("Let me check both."),
        ToolCallPart("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather", '{"city":"Paris"}'),
        ToolCallPart("tooluse_9nQ3l8xYTbOe8mKj0a1b2c", "get_time", "{}"),
    )
    assert response.finish_reason is FinishReason.TOOL_CALLS
    # inputTokens (30) excludes cache reads (2000) and writes (48).
    assert response.usage == Usage(2078, 80, cached_input_tokens=2000, cache_write_tokens=48)
    assert response.usage.total_tokens == fx.CONVERSE_TOOLS["usage"]["totalTokens"]


def test_reasoning_round_trips_unchanged() -> None:
    decoded = decode_converse(fx.CONVERSE_TOOLS, CLAUDE)
    request = ChatRequest("m", (user("q"), decoded.message))
    sent = encode_converse(request, CLAUDE, "bedrock")["messages"][1]["content"]
    assert sent == fx.CONVERSE_TOOLS["output"]["message"]["content"]


@pytest.mark.parametrize("raw, reason", [
    ("end_turn", FinishReason.STOP),
    ("stop_sequence", FinishReason.STOP),
    ("tool_use", FinishReason.TOOL_CALLS),
    ("max_tokens", FinishReason.LENGTH),
    ("guardrail_intervened", FinishReason.CONTENT_FILTER),
    ("content_filtered", FinishReason.CONTENT_FILTER),
    ("malformed_model_output", FinishReason.OTHER),
    ("malformed_tool_use", FinishReason.MALFORMED_TOOL_CALL),
    ("model_context_window_exceeded", FinishReason.CONTEXT_LENGTH),
    ("some_future_reason", FinishReason.OTHER),
])
def test_every_stop_reason(raw: str, reason: FinishReason) -> None:
    response = decode_converse(fx.converse(raw), NOVA)
    assert (response.finish_reason, response.provider_finish_reason) == (reason, raw)


def test_matched_stop_sequence_is_reported() -> None:
    body = fx.converse("stop_sequence",
                       additionalModelResponseFields={"stop_sequence": "END"})
    assert decode_converse(body, CLAUDE).stop_sequence == "END"


def test_schema_is_sent_as_json_text() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = encode_converse(ChatRequest("m", (user("x"),),
                                       response_format=JsonSchemaFormat(schema)), NOVA, "b")
    sent = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert json.loads(sent["schema"]) == schema and set(sent) == {"schema"}


def test_message_names_are_left_out_as_the_contract_says() -> None:
    named = ChatRequest("m", (Message(Role.USER, (TextPart("x"),), name="alice"),))
    plain = ChatRequest("m", (Message(Role.USER, (TextPart("x"),)),))
    assert encode_converse(named, NOVA, "bedrock") == encode_converse(plain, NOVA, "bedrock")
