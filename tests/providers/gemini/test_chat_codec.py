"""The Gemini request codec alone: neutral request -> generateContent body."""

import pytest
from llm_gateway.core.errors import InvalidRequest, UnsupportedFeature
from llm_gateway.core.types import (
    ChatRequest,
    ChoiceFormat,
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
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
)
from llm_gateway.providers.gemini.chat_codec import encode_chat, result_object

from tests.fixtures import gemini as fx

WEATHER = {"type": "object", "properties": {"location": {"type": "string"}},
           "required": ["location"], "additionalProperties": False}


def conversation() -> ChatRequest:
    return ChatRequest(
        model="ignored",
        system=(TextPart("You are terse."), TextPart("Answer in English.")),
        messages=(
            Message(Role.USER, (TextPart("Weather in Paris? See:"),
                                ImagePart("image/png", data=b"\x89PNG"),
                                ImagePart("image/jpeg", uri="gs://bucket/paris.jpg"),
                                ImagePart("", uri="https://example.com/map.webp"))),
            Message(Role.ASSISTANT, (
                ReasoningPart("Weather first.", fx.SIG_A, provider_type="gemini"),
                ReasoningPart("theirs", "anthropic-sig", provider_type="anthropic"),
                TextPart("Checking.", thought_signature=fx.SIG_A),
                ToolCallPart("call_fc-1_0", "get_weather", '{"location": "Paris"}',
                             thought_signature=fx.SIG_B),
                ToolCallPart("call_fc-1_1", "get_time", "{}"))),
            Message(Role.TOOL, (
                ToolResultPart("call_fc-1_0", (TextPart("18C, sunny"),)),
                ToolResultPart("call_fc-1_1", (TextPart('{"time": "12:00"}'),), "get_time"),
            )),
            Message(Role.USER, (TextPart("Thanks"),)),
        ),
        generation=GenerationConfig(max_output_tokens=256, temperature=0.2, top_p=0.9,
                                    top_k=40, presence_penalty=0.5, frequency_penalty=0.25,
                                    stop_sequences=("END",), seed=7),
        tools=(FunctionTool("get_weather", "Current weather", WEATHER),
               FunctionTool("get_time")),
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel_tool_calls=True),
        response_format=JsonSchemaFormat({"type": "object"}, name="answer",
                                         description="The answer", strict=True),
        reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH, include_thoughts=True),
    )


def test_encode_full_conversation() -> None:
    options = {"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT",
                                   "threshold": "BLOCK_NONE"}],
               "generationConfig": {"responseModalities": ["TEXT"]}}
    assert encode_chat(conversation(), "gemini", options) == {
        "systemInstruction": {"parts": [{"text": "You are terse."},
                                        {"text": "Answer in English."}]},
        "contents": [
            {"role": "user", "parts": [
                {"text": "Weather in Paris? See:"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw=="}},
                {"fileData": {"fileUri": "gs://bucket/paris.jpg", "mimeType": "image/jpeg"}},
                {"fileData": {"fileUri": "https://example.com/map.webp"}},
            ]},
            {"role": "model", "parts": [
                # Gemini's own thought goes back with its signature; the
                # Anthropic reasoning part has no place here and is dropped.
                {"text": "Weather first.", "thought": True, "thoughtSignature": fx.SIG_A},
                {"text": "Checking.", "thoughtSignature": fx.SIG_A},
                {"functionCall": {"name": "get_weather", "args": {"location": "Paris"},
                                  "id": "call_fc-1_0"}, "thoughtSignature": fx.SIG_B},
                {"functionCall": {"name": "get_time", "args": {}, "id": "call_fc-1_1"}},
            ]},
            {"role": "user", "parts": [
                # The name comes from the call when the result has none.
                {"functionResponse": {"name": "get_weather", "id": "call_fc-1_0",
                                      "response": {"output": "18C, sunny"}}},
                {"functionResponse": {"name": "get_time", "id": "call_fc-1_1",
                                      "response": {"time": "12:00"}}},
            ]},
            {"role": "user", "parts": [{"text": "Thanks"}]},
        ],
        "tools": [{"functionDeclarations": [
            {"name": "get_weather", "description": "Current weather",
             "parametersJsonSchema": WEATHER},
            {"name": "get_time"},
        ]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        "generationConfig": {
            "maxOutputTokens": 256, "temperature": 0.2, "topP": 0.9, "topK": 40,
            "presencePenalty": 0.5, "frequencyPenalty": 0.25, "stopSequences": ["END"],
            "seed": 7, "responseMimeType": "application/json",
            "responseJsonSchema": {"type": "object", "description": "The answer"},
            "thinkingConfig": {"thinkingLevel": "HIGH", "includeThoughts": True},
            "responseModalities": ["TEXT"],
        },
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT",
                            "threshold": "BLOCK_NONE"}],
    }


def hello(**kwargs: object) -> ChatRequest:
    return ChatRequest("m", (Message(Role.USER, (TextPart("Hi"),)),), **kwargs)  # type: ignore[arg-type]


def test_minimal_request() -> None:
    assert encode_chat(hello(), "gemini") == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


@pytest.mark.parametrize("choice, strict, expected", [
    (ToolChoice(ToolChoiceMode.AUTO), False, {"mode": "AUTO"}),
    (ToolChoice(ToolChoiceMode.NONE), False, {"mode": "NONE"}),
    (ToolChoice(ToolChoiceMode.REQUIRED), False, {"mode": "ANY"}),
    (ToolChoice(function_name="get_time"), False,
     {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
    (ToolChoice(parallel_tool_calls=True), False, None),
    (None, True, {"mode": "VALIDATED"}),
    (ToolChoice(ToolChoiceMode.AUTO), True, {"mode": "VALIDATED"}),
    (ToolChoice(ToolChoiceMode.REQUIRED), True, {"mode": "ANY"}),
    (ToolChoice(ToolChoiceMode.NONE), True, {"mode": "NONE"}),
])
def test_tool_choice(choice: ToolChoice | None, strict: bool,
                     expected: dict | None) -> None:
    tools = (FunctionTool("get_time", strict=strict), FunctionTool("get_weather"))
    body = encode_chat(hello(tools=tools, tool_choice=choice), "gemini")
    assert body.get("toolConfig") == (None if expected is None
                                      else {"functionCallingConfig": expected})


def test_tool_choice_without_tools_sends_nothing() -> None:
    body = encode_chat(hello(tool_choice=ToolChoice(ToolChoiceMode.REQUIRED)), "gemini")
    assert "toolConfig" not in body and "tools" not in body


@pytest.mark.parametrize("reasoning, expected", [
    (ReasoningConfig(effort=ReasoningEffort.NONE), {"thinkingBudget": 0}),
    (ReasoningConfig(effort=ReasoningEffort.MINIMAL), {"thinkingLevel": "MINIMAL"}),
    (ReasoningConfig(effort=ReasoningEffort.LOW), {"thinkingLevel": "LOW"}),
    (ReasoningConfig(effort=ReasoningEffort.MEDIUM), {"thinkingLevel": "MEDIUM"}),
    (ReasoningConfig(effort=ReasoningEffort.HIGH), {"thinkingLevel": "HIGH"}),
    (ReasoningConfig(effort=ReasoningEffort.XHIGH), {"thinkingLevel": "HIGH"}),
    (ReasoningConfig(effort=ReasoningEffort.MAX), {"thinkingLevel": "HIGH"}),
    (ReasoningConfig(budget_tokens=1024), {"thinkingBudget": 1024}),
    (ReasoningConfig(budget_tokens=-1, include_thoughts=False),
     {"thinkingBudget": -1, "includeThoughts": False}),
    (ReasoningConfig(include_thoughts=True), {"includeThoughts": True}),
])
def test_reasoning(reasoning: ReasoningConfig, expected: dict) -> None:
    body = encode_chat(hello(reasoning=reasoning), "gemini")
    assert body["generationConfig"] == {"thinkingConfig": expected}


@pytest.mark.parametrize("model, effort, expected", [
    ("gemini-3-pro-preview", ReasoningEffort.LOW, {"thinkingLevel": "LOW"}),
    ("gemini-2.5-flash", ReasoningEffort.MINIMAL, {"thinkingBudget": 512}),
    ("gemini-2.5-flash", ReasoningEffort.LOW, {"thinkingBudget": 1024}),
    ("gemini-2.5-pro", ReasoningEffort.MEDIUM, {"thinkingBudget": 8192}),
    ("gemini-2.5-pro", ReasoningEffort.HIGH, {"thinkingBudget": 24576}),
    ("gemini-2.5-flash-lite", ReasoningEffort.MAX, {"thinkingBudget": 24576}),
    ("gemini-2.5-flash", ReasoningEffort.NONE, {"thinkingBudget": 0}),
])
def test_effort_by_model_generation(model: str, effort: ReasoningEffort,
                                    expected: dict) -> None:
    body = encode_chat(hello(reasoning=ReasoningConfig(effort=effort)), "gemini", model=model)
    assert body["generationConfig"] == {"thinkingConfig": expected}


@pytest.mark.parametrize("fmt, expected", [
    (TextFormat(), None),
    (JsonObjectFormat(), {"responseMimeType": "application/json"}),
    (JsonSchemaFormat({"type": "object", "description": "mine"}, description="theirs"),
     {"responseMimeType": "application/json",
      "responseJsonSchema": {"type": "object", "description": "mine"}}),
    (ChoiceFormat(("yes", "no")),
     {"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING",
                                                            "enum": ["yes", "no"]}}),
])
def test_response_formats(fmt: object, expected: dict | None) -> None:
    body = encode_chat(hello(response_format=fmt), "gemini")
    assert body.get("generationConfig") == expected


@pytest.mark.parametrize("request_, feature", [
    (hello(generation=GenerationConfig(min_p=0.1)), "min_p"),
    (hello(generation=GenerationConfig(repetition_penalty=1.1)), "repetition_penalty"),
    (hello(response_format=RegexFormat("[a-z]+")), "regex-constrained output"),
    (hello(response_format=GrammarFormat("root ::= x")), "grammar-constrained output"),
    (hello(reasoning=ReasoningConfig(effort=ReasoningEffort.LOW, budget_tokens=5)),
     "a reasoning effort together with a token budget"),
    (hello(tools=(FunctionTool("f"),), tool_choice=ToolChoice(parallel_tool_calls=False)),
     "disabling parallel tool calls"),
    (ChatRequest("m", (Message(Role.USER, (ImagePart("image/png", uri="http://x/a.png"),)),)),
     "image URIs other than gs:// and https://"),
    (ChatRequest("m", (Message(Role.USER, (ImagePart("image/png", uri="s3://b/a.png"),)),)),
     "image URIs other than gs:// and https://"),
])
def test_refusals_name_the_feature(request_: ChatRequest, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        encode_chat(request_, "gem")
    assert exc.value.metadata == {"provider": "gem", "feature": feature}


def test_tool_call_arguments_must_be_an_object() -> None:
    request = ChatRequest("m", (
        Message(Role.USER, (TextPart("Hi"),)),
        Message(Role.ASSISTANT, (ToolCallPart("c1", "f", "[1, 2]"),)),
    ))
    with pytest.raises(InvalidRequest) as exc:
        encode_chat(request, "gemini")
    assert exc.value.violations[0].field == "input.messages[1].parts[0].tool_call.arguments_json"


def test_tool_result_needs_a_function_name() -> None:
    request = ChatRequest("m", (Message(Role.TOOL, (ToolResultPart("c9", (TextPart("x"),)),)),))
    with pytest.raises(InvalidRequest) as exc:
        encode_chat(request, "gemini")
    assert exc.value.violations[0].field == "input.messages[0].parts[0].tool_result.name"


@pytest.mark.parametrize("content, is_error, expected", [
    ((TextPart("18C"),), False, {"output": "18C"}),
    ((TextPart('{"temp": 18}'),), False, {"temp": 18}),
    ((TextPart("[1, 2]"),), False, {"output": "[1, 2]"}),
    ((TextPart("{not json"),), False, {"output": "{not json"}),
    ((TextPart('{"a"'), TextPart(': 1}')), False, {"a": 1}),
    ((), False, {"output": ""}),
    ((TextPart("city not found"),), True, {"error": "city not found"}),
    ((TextPart('{"code": 404}'),), True, {"error": {"code": 404}}),
])
def test_function_response_object(content: tuple, is_error: bool, expected: dict) -> None:
    assert result_object(ToolResultPart("c", content, "f", is_error=is_error)) == expected


def test_images_in_tool_results_nest_in_the_function_response() -> None:
    request = ChatRequest("m", (Message(Role.TOOL, (ToolResultPart(
        "c1", (TextPart("the chart"), ImagePart("image/png", data=b"\x00\x01")), "plot"),)),))
    assert encode_chat(request, "gemini")["contents"] == [{"role": "user", "parts": [
        {"functionResponse": {"name": "plot", "id": "c1", "response": {"output": "the chart"},
                              "parts": [{"inlineData": {"mimeType": "image/png",
                                                        "data": "AAE="}}]}}]}]


def test_a_turn_of_only_foreign_reasoning_is_left_out() -> None:
    request = ChatRequest("m", (
        Message(Role.USER, (TextPart("Hi"),)),
        Message(Role.ASSISTANT, (ReasoningPart("hmm", "s", provider_type="openai"),)),
        Message(Role.USER, (TextPart("Still there?"),)),
    ))
    assert [c["parts"] for c in encode_chat(request, "gemini")["contents"]] == [
        [{"text": "Hi"}], [{"text": "Still there?"}]]


def test_message_names_are_left_out_as_the_contract_says() -> None:
    named = ChatRequest("m", (Message(Role.USER, (TextPart("Hi"),), name="ann"),))
    assert encode_chat(named, "gemini") == encode_chat(hello(), "gemini")
