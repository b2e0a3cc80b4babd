"""The Responses codec alone: neutral request -> body, response object ->
neutral, and the provider's failure reports."""

from dataclasses import replace
from typing import Any

import pytest
from llm_gateway.core.errors import UnsupportedFeature
from llm_gateway.core.types import (
    ChatRequest,
    ChoiceFormat,
    FinishReason,
    FunctionTool,
    GenerationConfig,
    GrammarFormat,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    ReasoningConfig,
    ReasoningEffort,
    ReasoningPart,
    RegexFormat,
    RequestMetadata,
    Role,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)
from llm_gateway.providers.openai_responses.responses_codec import (
    decode_response,
    encode_request,
    failure,
)

from tests.fixtures import openai_responses as fx

P = "openai_responses"
OWN = ReasoningPart("Thinking.", fx.ENCRYPTED, id="rs_1", provider_type=P)


def user(*parts: Any) -> Message:
    return Message(Role.USER, tuple(parts))


def conversation() -> ChatRequest:
    return ChatRequest(
        model="ignored",
        system=(TextPart("You are terse."), TextPart(" Answer in English.")),
        messages=(
            user(TextPart("Weather in Paris?"), ImagePart("image/png", data=b"\x89PNG"),
                 ImagePart("image/jpeg", uri="https://example.com/paris.jpg")),
            Message(Role.ASSISTANT, (
                ReasoningPart("theirs", "anthropic-sig", provider_type="anthropic"),
                OWN,
                TextPart("Checking."), TextPart("Both."),
                ToolCallPart("call_1", "get_weather", '{"city":"Paris"}'),
                ToolCallPart("call_2", "get_time", "{}"),
            ), name="bot"),
            Message(Role.TOOL, (
                ToolResultPart("call_1", (TextPart("18C"),), "get_weather"),
                ToolResultPart("call_2", (TextPart("noon, see"), ImagePart("image/png",
                                                                           data=b"\x00")),
                               "get_time", is_error=True),
            )),
        ),
        generation=GenerationConfig(max_output_tokens=500, temperature=0.5, top_p=0.9),
        tools=(FunctionTool("get_weather", "Weather", {"type": "object"}, strict=True),
               FunctionTool("get_time")),
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel_tool_calls=False),
        response_format=JsonSchemaFormat({"type": "object"}, name="answer",
                                         description="The answer", strict=True),
        reasoning=ReasoningConfig(effort=ReasoningEffort.MAX, include_thoughts=True),
        metadata=RequestMetadata(end_user_id="user-7"),
    )


def test_encode_full_conversation() -> None:
    body = encode_request(conversation(), "gpt-5", P, stream=True,
                          options={"service_tier": "flex", "prompt_cache_key": "k"})
    assert body == {
        "model": "gpt-5",
        "instructions": "You are terse. Answer in English.",
        "input": [
            {"role": "user", "content": [
                {"type": "input_text", "text": "Weather in Paris?"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBORw==",
                 "detail": "auto"},
                {"type": "input_image", "image_url": "https://example.com/paris.jpg",
                 "detail": "auto"}]},
            # Anthropic's reasoning is left out; ours goes back with its id.
            {"type": "reasoning", "id": "rs_1",
             "summary": [{"type": "summary_text", "text": "Thinking."}],
             "encrypted_content": fx.ENCRYPTED},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Checking."},
                                              {"type": "output_text", "text": "Both."}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather",
             "arguments": '{"city":"Paris"}'},
            {"type": "function_call", "call_id": "call_2", "name": "get_time",
             "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
            {"type": "function_call_output", "call_id": "call_2", "output": [
                {"type": "input_text", "text": "noon, see"},
                {"type": "input_image", "image_url": "data:image/png;base64,AA==",
                 "detail": "auto"}]},
        ],
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "max_output_tokens": 500, "temperature": 0.5, "top_p": 0.9,
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Weather",
             "parameters": {"type": "object"}, "strict": True},
            {"type": "function", "name": "get_time",
             "parameters": {"type": "object", "properties": {}}, "strict": False},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "text": {"format": {"type": "json_schema", "name": "answer",
                            "schema": {"type": "object"}, "description": "The answer",
                            "strict": True}},
        "reasoning": {"effort": "xhigh", "summary": "auto"},
        "safety_identifier": "user-7",
        "stream": True,
        "service_tier": "flex", "prompt_cache_key": "k",
    }


def test_minimal_request() -> None:
    body = encode_request(ChatRequest("m", (user(TextPart("Hi")),)), "gpt-4.1", P,
                          stream=False)
    assert body == {"model": "gpt-4.1", "store": False, "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}]}


def test_encrypted_reasoning_is_requested_only_when_reasoning_is_involved() -> None:
    # Non-reasoning models refuse the include, so it is not sent by default...
    plain = ChatRequest("m", (user(TextPart("Hi")),))
    assert "include" not in encode_request(plain, "m", P, stream=False)
    # ...but it is with reasoning controls (even only a summary request)...
    summary = ChatRequest("m", plain.messages, reasoning=ReasoningConfig(include_thoughts=True))
    body = encode_request(summary, "m", P, stream=False)
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["reasoning"] == {"summary": "auto"}
    # ...and when earlier reasoning of ours is sent back.
    turn = ChatRequest("m", (*plain.messages, Message(Role.ASSISTANT, (OWN, TextPart("Hey"))),
                             user(TextPart("More"))))
    assert encode_request(turn, "m", P, stream=False)["include"] == [
        "reasoning.encrypted_content"]


def test_reasoning_without_encrypted_content_is_not_sent() -> None:
    # An id alone refers to a stored item, and nothing is stored (store: false).
    request = ChatRequest("m", (user(TextPart("Hi")), Message(Role.ASSISTANT, (
        ReasoningPart("", "", id="rs_9", provider_type=P),
        ReasoningPart("gemini thought", provider_type="gemini"),
        TextPart("Hello"))), user(TextPart("Bye"))))
    body = encode_request(request, "m", P, stream=False)
    assert body["input"][1] == {"role": "assistant",
                                "content": [{"type": "output_text", "text": "Hello"}]}
    assert len(body["input"]) == 3 and "include" not in body


def test_other_tool_choices_and_json_object() -> None:
    base = ChatRequest("m", (user(TextPart("x")),), tools=(FunctionTool("f"),))
    named = encode_request(replace(base, tool_choice=ToolChoice(
        function_name="f", parallel_tool_calls=True)), "m", P, stream=False)
    assert named["tool_choice"] == {"type": "function", "name": "f"}
    assert named["parallel_tool_calls"] is True
    none = encode_request(replace(base, tool_choice=ToolChoice(ToolChoiceMode.NONE),
                                  response_format=JsonObjectFormat()), "m", P, stream=False)
    assert none["tool_choice"] == "none" and none["text"] == {"format": {"type": "json_object"}}
    effort = encode_request(replace(base, reasoning=ReasoningConfig(
        effort=ReasoningEffort.MINIMAL, include_thoughts=False)), "m", P, stream=False)
    assert effort["reasoning"] == {"effort": "minimal"}


@pytest.mark.parametrize("change, feature", [
    ({"generation": GenerationConfig(top_k=40)}, "top_k"),
    ({"generation": GenerationConfig(min_p=0.1)}, "min_p"),
    ({"generation": GenerationConfig(presence_penalty=0.5)}, "presence_penalty"),
    ({"generation": GenerationConfig(frequency_penalty=0.5)}, "frequency_penalty"),
    ({"generation": GenerationConfig(repetition_penalty=1.1)}, "repetition_penalty"),
    ({"generation": GenerationConfig(seed=7)}, "seed"),
    ({"generation": GenerationConfig(stop_sequences=("END",))}, "stop sequences"),
    ({"reasoning": ReasoningConfig(budget_tokens=1024)}, "a reasoning token budget"),
    ({"response_format": RegexFormat(r"\d+")}, "regex-constrained output"),
    ({"response_format": GrammarFormat("root ::= x")}, "grammar-constrained output"),
    ({"response_format": ChoiceFormat(("a", "b"))}, "choice-constrained output"),
    ({"messages": (user(ImagePart("image/png", uri="gs://b/x.png")),)},
     "image URIs other than http(s)"),
])
def test_refusals_name_the_feature(change: dict[str, Any], feature: str) -> None:
    request = replace(ChatRequest("m", (user(TextPart("x")),)), **change)
    with pytest.raises(UnsupportedFeature) as exc:
        encode_request(request, "m", P, stream=False)
    assert exc.value.metadata == {"provider": P, "feature": feature}


# --- response -------------------------------------------------------------------


def test_decode_text_and_usage() -> None:
    response = decode_response(fx.RESPONSE_TEXT, "req_1")
    assert response.message == Message(Role.ASSISTANT, (TextPart(fx.TEXT),))
    assert (response.id, response.model) == (fx.RESPONSE_ID, fx.MODEL)
    assert (response.finish_reason, response.provider_finish_reason) == (
        FinishReason.STOP, "completed")
    assert response.usage == Usage(328, 148, cached_input_tokens=256, reasoning_tokens=64)
    assert response.upstream_request_id == "req_1"


def test_decode_reasoning_and_parallel_tool_calls() -> None:
    response = decode_response(fx.RESPONSE_REASONING_TOOLS)
    assert response.message.parts == (
        ReasoningPart("\n\n".join(fx.SUMMARY), fx.ENCRYPTED,
                      id="rs_6820f383d7c08191846711c5df8233bc", provider_type=P),
        ToolCallPart("call_12345xyz", "get_weather", '{"location":"Paris, France"}'),
        ToolCallPart("call_67890abc", "get_time", '{"tz":"Europe/Paris"}'),
    )
    assert (response.finish_reason, response.provider_finish_reason) == (
        FinishReason.TOOL_CALLS, "completed")


def test_reasoning_round_trips_into_the_next_request() -> None:
    first = decode_response(fx.RESPONSE_REASONING_TOOLS)
    request = ChatRequest("m", (
        user(TextPart("Weather and time in Paris?")),
        first.message,
        Message(Role.TOOL, (ToolResultPart("call_12345xyz", (TextPart("18C"),)),
                            ToolResultPart("call_67890abc", (TextPart("12:00"),)))),
    ))
    body = encode_request(request, "gpt-5", P, stream=False)
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["input"][1:] == [
        {"type": "reasoning", "id": "rs_6820f383d7c08191846711c5df8233bc",
         "summary": [{"type": "summary_text", "text": "\n\n".join(fx.SUMMARY)}],
         "encrypted_content": fx.ENCRYPTED},
        {"type": "function_call", "call_id": "call_12345xyz", "name": "get_weather",
         "arguments": '{"location":"Paris, France"}'},
        {"type": "function_call", "call_id": "call_67890abc", "name": "get_time",
         "arguments": '{"tz":"Europe/Paris"}'},
        {"type": "function_call_output", "call_id": "call_12345xyz", "output": "18C"},
        {"type": "function_call_output", "call_id": "call_67890abc", "output": "12:00"},
    ]


@pytest.mark.parametrize("body, reason, raw", [
    (fx.RESPONSE_TEXT, FinishReason.STOP, "completed"),
    (fx.RESPONSE_REASONING_TOOLS, FinishReason.TOOL_CALLS, "completed"),
    (fx.RESPONSE_REFUSAL, FinishReason.REFUSAL, "completed"),
    (fx.response_incomplete("max_output_tokens"), FinishReason.LENGTH, "max_output_tokens"),
    (fx.response_incomplete("content_filter"), FinishReason.CONTENT_FILTER, "content_filter"),
    (fx.response([], status="incomplete"), FinishReason.OTHER, "incomplete"),
    (fx.response([], status="cancelled"), FinishReason.OTHER, "cancelled"),
])
def test_every_finish_reason(body: dict[str, Any], reason: FinishReason, raw: str) -> None:
    response = decode_response(body)
    assert (response.finish_reason, response.provider_finish_reason) == (reason, raw)


def test_refusal_and_cut_short_text() -> None:
    assert decode_response(fx.RESPONSE_REFUSAL).message.parts == (TextPart(fx.REFUSAL),)
    incomplete = decode_response(fx.response_incomplete("max_output_tokens"))
    assert incomplete.message.parts == (TextPart("The story begins"),)


def test_empty_reasoning_item_and_missing_usage() -> None:
    body = fx.response([fx.reasoning(encrypted=None), fx.message(fx.output_text("42"))],
                       usage=None)
    response = decode_response(body)
    assert response.message.parts == (
        ReasoningPart(id="rs_6820f383d7c08191846711c5df8233bc", provider_type=P),
        TextPart("42"))
    assert response.usage == Usage()


# --- failures -------------------------------------------------------------------


@pytest.mark.parametrize("document, expected", [
    (fx.RESPONSE_FAILED, (500, {"code": "server_error",
                                "message": "The model failed to generate a response."})),
    ({"type": "response.failed", "response": fx.RESPONSE_FAILED},
     (500, fx.RESPONSE_FAILED["error"])),
    (fx.ERROR_EVENT, (429, {"code": "rate_limit_exceeded",
                            "message": fx.ERROR_EVENT["message"]})),
    ({"type": "error", "error": {"type": "invalid_request_error", "code": None,
                                 "message": "bad"}},
     (400, {"type": "invalid_request_error", "code": None, "message": "bad"})),
    (fx.response([], status="failed", error={"code": "invalid_image_url", "message": "x"}),
     (400, {"code": "invalid_image_url", "message": "x"})),
    (fx.response([], status="failed"), (500, {"message": "the response failed without an error"})),
    (fx.RESPONSE_TEXT, None),
    ({"type": "response.output_text.delta", "delta": "x"}, None),
])
def test_failure_reports(document: dict[str, Any], expected: object) -> None:
    assert failure(document) == expected
