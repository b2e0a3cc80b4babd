"""The Ollama chat codec alone: neutral request -> /api/chat body, body and
NDJSON lines -> neutral, from the documented fixtures."""

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.errors import InvalidRequest, UnsupportedFeature
from llm_gateway.core.events import (
    ReasoningDelta,
    StreamDone,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
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
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)
from llm_gateway.providers.ollama.chat_codec import (
    ChatStreamDecoder,
    decode_chat,
    encode_chat,
)

from tests.fixtures import ollama as fx

P = "ollama"
WEATHER_SCHEMA = {"type": "object", "required": ["city"],
                  "properties": {"city": {"type": "string"}}}


def user(text: str = "Hi") -> Message:
    return Message(Role.USER, (TextPart(text),))


def conversation() -> ChatRequest:
    return ChatRequest(
        model="ignored",
        system=(TextPart("You are terse. "), TextPart("Answer in English.")),
        messages=(
            Message(Role.USER, (TextPart("Weather in New York? "), TextPart("And London."),
                                ImagePart("image/png", data=b"\x89PNG"))),
            Message(Role.ASSISTANT, (
                ReasoningPart("Two cities, two calls.", signature="sig-from-elsewhere",
                              provider_type="anthropic"),
                TextPart("Checking."),
                ToolCallPart("call_1", "get_temperature", '{"city": "New York"}'),
                ToolCallPart("call_2", "get_temperature", '{"city":"London","deep":{"a":[1]}}'),
            )),
            Message(Role.TOOL, (ToolResultPart("call_1", (TextPart("22"), TextPart("C")),
                                               "get_temperature"),
                                ToolResultPart("call_2", (TextPart("15C"),)))),
        ),
        generation=GenerationConfig(max_output_tokens=50, temperature=0.2, top_p=0.9, top_k=40,
                                    min_p=0.05, presence_penalty=0.5, frequency_penalty=0.25,
                                    repetition_penalty=1.1, stop_sequences=("END", "\n\n"),
                                    seed=7),
        tools=(FunctionTool("get_temperature", "Temperature of a city", WEATHER_SCHEMA),
               FunctionTool("get_time")),
        tool_choice=ToolChoice(ToolChoiceMode.AUTO, parallel_tool_calls=True),
        response_format=JsonSchemaFormat({"type": "object"}, name="answer", strict=True),
        reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH),
    )


def test_encode_full_conversation() -> None:
    body = encode_chat(conversation(), "qwen3:8b", P, stream=True,
                       options={"keep_alive": "10m", "options": {"num_ctx": 8192, "seed": 9}})
    assert body == {
        "model": "qwen3:8b",
        "messages": [
            {"role": "system", "content": "You are terse. Answer in English."},
            {"role": "user", "content": "Weather in New York? And London.",
             "images": ["iVBORw=="]},
            {"role": "assistant", "content": "Checking.",
             "thinking": "Two cities, two calls.",
             "tool_calls": [
                 {"id": "call_1", "function": {"index": 0, "name": "get_temperature",
                                               "arguments": {"city": "New York"}}},
                 {"id": "call_2", "function": {"index": 1, "name": "get_temperature",
                                               "arguments": {"city": "London",
                                                             "deep": {"a": [1]}}}}]},
            {"role": "tool", "content": "22C", "tool_name": "get_temperature",
             "tool_call_id": "call_1"},
            # The name comes from the call the result answers.
            {"role": "tool", "content": "15C", "tool_name": "get_temperature",
             "tool_call_id": "call_2"},
        ],
        "stream": True,
        "tools": [
            {"type": "function", "function": {"name": "get_temperature",
                                              "description": "Temperature of a city",
                                              "parameters": WEATHER_SCHEMA}},
            {"type": "function", "function": {"name": "get_time",
                                              "parameters": {"type": "object",
                                                             "properties": {}}}},
        ],
        "format": {"type": "object"},
        "think": "high",
        "options": {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
                    "seed": 9, "num_predict": 50, "repeat_penalty": 1.1,
                    "presence_penalty": 0.5, "frequency_penalty": 0.25,
                    "stop": ["END", "\n\n"], "num_ctx": 8192},
        "keep_alive": "10m",
    }


def test_minimal_unary_request() -> None:
    body = encode_chat(ChatRequest("m", (user(),)), "llama3.2", P, stream=False)
    assert body == {"model": "llama3.2", "stream": False,
                    "messages": [{"role": "user", "content": "Hi"}]}


def test_tool_results_with_images_and_json_mode() -> None:
    request = ChatRequest("m", (
        user("Describe the chart"),
        Message(Role.ASSISTANT, (ToolCallPart("c", "render", ""),)),
        Message(Role.TOOL, (ToolResultPart("c", (TextPart("here"),
                                                 ImagePart("image/png", data=b"img"))),)),
    ), response_format=JsonObjectFormat())
    body = encode_chat(request, "gemma3", P, stream=False)
    assert body["messages"][1]["tool_calls"][0]["function"]["arguments"] == {}
    assert body["messages"][2] == {"role": "tool", "content": "here", "images": ["aW1n"],
                                   "tool_name": "render", "tool_call_id": "c"}
    assert body["format"] == "json"


def test_tool_choice_none_sends_no_tools() -> None:
    request = ChatRequest("m", (user(),), tools=(FunctionTool("f"),),
                          tool_choice=ToolChoice(ToolChoiceMode.NONE, parallel_tool_calls=False),
                          response_format=TextFormat())
    body = encode_chat(request, "m", P, stream=False)
    assert "tools" not in body and "format" not in body


@pytest.mark.parametrize("reasoning, think", [
    (ReasoningConfig(effort=ReasoningEffort.NONE), False),
    (ReasoningConfig(effort=ReasoningEffort.MINIMAL), "low"),
    (ReasoningConfig(effort=ReasoningEffort.LOW), "low"),
    (ReasoningConfig(effort=ReasoningEffort.MEDIUM, include_thoughts=True), "medium"),
    (ReasoningConfig(effort=ReasoningEffort.XHIGH), "high"),
    (ReasoningConfig(effort=ReasoningEffort.MAX), "high"),
    (ReasoningConfig(include_thoughts=True), True),
    (ReasoningConfig(include_thoughts=False), False),
    (ReasoningConfig(effort=ReasoningEffort.NONE, include_thoughts=False), False),
    (ReasoningConfig(budget_tokens=0), False),
])
def test_think(reasoning: ReasoningConfig, think: object) -> None:
    body = encode_chat(ChatRequest("m", (user(),), reasoning=reasoning), "m", P, stream=False)
    assert body["think"] == think


def test_no_think_without_a_choice() -> None:
    body = encode_chat(ChatRequest("m", (user(),), reasoning=ReasoningConfig()), "m", P,
                       stream=False)
    assert "think" not in body


def refused(**kwargs: object) -> ChatRequest:
    messages = kwargs.pop("messages", (user(),))
    return ChatRequest("m", messages, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("request_, feature", [
    (refused(messages=(Message(Role.USER, (ImagePart("image/png", uri="https://x/y.png"),)),)),
     "image URIs"),
    (refused(tools=(FunctionTool("f"),), tool_choice=ToolChoice(ToolChoiceMode.REQUIRED)),
     "tool choice REQUIRED"),
    (refused(tools=(FunctionTool("f"),), tool_choice=ToolChoice(function_name="f")),
     "a named tool choice"),
    (refused(tools=(FunctionTool("f"),), tool_choice=ToolChoice(parallel_tool_calls=False)),
     "disabling parallel tool calls"),
    (refused(tools=(FunctionTool("f", parameters={"type": "object"}, strict=True),)),
     "strict tools"),
    (refused(response_format=RegexFormat(r"\d+")), "regex-constrained output"),
    (refused(response_format=GrammarFormat("root ::= 'a'")), "grammar-constrained output"),
    (refused(response_format=ChoiceFormat(("yes", "no"))), "choice-constrained output"),
    (refused(response_format=JsonSchemaFormat({"type": "object"}, description="An answer")),
     "a response schema description"),
    (refused(reasoning=ReasoningConfig(budget_tokens=1024)), "a reasoning token budget"),
    (refused(reasoning=ReasoningConfig(effort=ReasoningEffort.LOW, include_thoughts=False)),
     "reasoning without returning the thoughts"),
])
def test_refusals_name_the_feature(request_: ChatRequest, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        encode_chat(request_, "m", P, stream=False)
    assert exc.value.metadata == {"provider": P, "feature": feature}


@pytest.mark.parametrize("arguments", ["[1, 2]", "{not json", '"text"'])
def test_tool_call_arguments_must_be_an_object(arguments: str) -> None:
    request = ChatRequest("m", (user(), Message(Role.ASSISTANT, (
        TextPart("ok"), ToolCallPart("c", "f", arguments)))))
    with pytest.raises(InvalidRequest) as exc:
        encode_chat(request, "m", P, stream=False)
    assert exc.value.violations[0].field == "input.messages[1].parts[1].tool_call.arguments_json"


# --- response -------------------------------------------------------------------


def test_decode_text_and_usage() -> None:
    response = decode_chat(fx.CHAT_TEXT, "req-1")
    assert response.message == Message(Role.ASSISTANT,
                                       (TextPart("Hello! How can I help you today?"),))
    assert (response.id, response.model) == ("", "gemma3")
    assert (response.finish_reason, response.provider_finish_reason) == (FinishReason.STOP,
                                                                         "stop")
    assert response.usage == Usage(11, 18)
    assert response.upstream_request_id == "req-1"


def test_decode_parallel_tool_calls_with_thinking() -> None:
    response = decode_chat(fx.CHAT_TOOL_CALLS)
    assert response.message.parts == (
        ReasoningPart("The user wants both; call both tools."),
        ToolCallPart("call_h7k2m9qa", "get_temperature", '{"city":"New York"}'),
        ToolCallPart("call_p3x8z1wd", "get_conditions",
                     '{"city":"New York","units":{"system":"metric"}}'),
    )
    # Ollama says "stop" for a turn that calls tools.
    assert (response.finish_reason, response.provider_finish_reason) == (
        FinishReason.TOOL_CALLS, "stop")
    assert response.usage == Usage(122, 33)


def test_decode_tool_call_without_id_gets_one() -> None:
    response = decode_chat(fx.CHAT_TOOL_CALL_NO_ID)
    assert response.message.parts == (ToolCallPart(
        "call_0", "get_current_weather", '{"format":"celsius","location":"Paris, FR"}'),)


def test_decode_thinking_and_cached_tokens() -> None:
    response = decode_chat(fx.CHAT_THINKING)
    assert response.message.parts == (
        ReasoningPart("s-t-r-a-w-b-e-r-r-y: r at 3, 8 and 9."),
        TextPart("There are 3 letter r in strawberry."))
    assert response.usage == Usage(17, 64, cached_input_tokens=12)


@pytest.mark.parametrize("raw, reason", [
    ("stop", FinishReason.STOP), ("length", FinishReason.LENGTH),
    ("load", FinishReason.OTHER), ("unload", FinishReason.OTHER),
    ("connection_closed", FinishReason.OTHER), ("", FinishReason.UNSPECIFIED),
])
def test_every_finish_reason(raw: str, reason: FinishReason) -> None:
    response = decode_chat({**fx.CHAT_TEXT, "done_reason": raw})
    assert (response.finish_reason, response.provider_finish_reason) == (reason, raw)


# --- stream ---------------------------------------------------------------------


def feed_all(lines: list) -> list:
    decoder = ChatStreamDecoder("req-9")
    events = []
    for line in lines:
        events += decoder.feed(line)
    assert decoder.finished
    return events


def test_stream_text() -> None:
    usage = Usage(26, 282)
    assert feed_all(fx.STREAM_TEXT) == [
        StreamStart("", "qwen3:8b", "req-9"),
        TextDelta(0, "The"), TextDelta(0, " sky is"), TextDelta(0, " blue."),
        UsageUpdate(usage), StreamDone(FinishReason.STOP, "stop", usage=usage),
    ]


def test_stream_thinking_then_text() -> None:
    events = feed_all(fx.STREAM_THINKING)
    assert events[1:4] == [ReasoningDelta(0, text="17 x 23"), ReasoningDelta(0, text=" = 391."),
                           TextDelta(1, "391")]


def test_stream_tool_calls_arrive_whole() -> None:
    usage = Usage(90, 45)
    first = ToolCallPart("call_a1", "get_temperature", '{"city":"New York"}')
    second = ToolCallPart("call_b2", "get_temperature", '{"city":"London"}')
    assert feed_all(fx.STREAM_TOOL_CALLS) == [
        StreamStart("", "qwen3:8b", "req-9"),
        ReasoningDelta(0, text="Need the temperature in both cities."),
        ToolCallStart(1, "call_a1", "get_temperature"),
        ToolCallDelta(1, '{"city":"New York"}'),
        ToolCallEnd(1, first),
        ToolCallStart(2, "call_b2", "get_temperature"),
        ToolCallDelta(2, '{"city":"London"}'),
        ToolCallEnd(2, second),
        UsageUpdate(usage),
        StreamDone(FinishReason.TOOL_CALLS, "stop", usage=usage),
    ]


def test_stream_without_ids_numbers_the_calls_and_text_on_the_last_line() -> None:
    lines = [fx.chunk(tool_calls=[{"function": {"name": "f", "arguments": {}}},
                                  {"function": {"name": "g", "arguments": {"x": 1}}}]),
             fx.last("length", content="!")]
    rebuilt = accumulate(feed_all(lines))
    assert rebuilt.message.parts == (ToolCallPart("call_0", "f", "{}"),
                                     ToolCallPart("call_1", "g", '{"x":1}'), TextPart("!"))
    assert rebuilt.finish_reason is FinishReason.LENGTH


def test_stream_rebuilds_what_the_unary_decoding_says() -> None:
    message = fx.CHAT_TOOL_CALLS["message"]
    lines = [fx.chunk(thinking=message["thinking"]),
             fx.chunk(tool_calls=message["tool_calls"]),
             fx.last("stop", prompt=122, output=33)]
    unary = decode_chat(fx.CHAT_TOOL_CALLS)
    rebuilt = accumulate(feed_all(lines))
    assert rebuilt.message == unary.message
    assert (rebuilt.finish_reason, rebuilt.usage) == (unary.finish_reason, unary.usage)


def test_names_and_error_flags_are_left_out_as_the_contract_says() -> None:
    request = ChatRequest("m", (
        Message(Role.USER, (TextPart("x"),), name="alice"),
        Message(Role.ASSISTANT, (ToolCallPart("c", "f", "{}"),)),
        Message(Role.TOOL, (ToolResultPart("c", (TextPart("boom"),), "f", is_error=True),))))
    messages = encode_chat(request, "m", P, stream=False)["messages"]
    assert messages[0] == {"role": "user", "content": "x"}
    assert messages[2]["content"] == "boom" and "is_error" not in messages[2]
