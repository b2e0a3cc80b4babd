"""The Anthropic request codec alone: neutral request -> Messages body."""

import base64

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
    RequestMetadata,
    Role,
    TextFormat,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
)
from llm_gateway.providers.anthropic.messages_codec import (
    EncodeSettings,
    encode_count_tokens,
    encode_request,
)
from llm_gateway.providers.anthropic.thinking import ThinkingSettings

from tests.fixtures import anthropic as fx

SETTINGS = EncodeSettings(provider="anthropic")
PNG = b"\x89PNG\r\n\x1a\n"
WEATHER_SCHEMA = {"type": "object", "properties": {"location": {"type": "string"}},
                  "required": ["location"]}


def ask(*messages: Message, **fields: object) -> ChatRequest:
    msgs = messages or (Message(Role.USER, (TextPart("Hello"),)),)
    return ChatRequest("anthropic/m", msgs, **fields)  # type: ignore[arg-type]


def body(request: ChatRequest, model: str = fx.MODEL, settings: EncodeSettings = SETTINGS,
         **kwargs: object) -> dict:
    return encode_request(request, model, settings, stream=bool(kwargs.pop("stream", False)),
                          **kwargs)  # type: ignore[arg-type]


def conversation() -> ChatRequest:
    return ChatRequest(
        model="anthropic/claude",
        system=(TextPart("You are terse."), TextPart("Answer in French.")),
        messages=(
            Message(Role.USER, (TextPart("Weather and time in Paris?"),
                                ImagePart("image/png", data=PNG))),
            Message(Role.ASSISTANT, (
                ReasoningPart("The user wants two things.", fx.SIGNATURE,
                              provider_type="anthropic"),
                TextPart("Checking."),
                ToolCallPart("toolu_1", "get_weather", '{"location": "Paris"}'),
                ToolCallPart("toolu_2", "get_time", ""),
            )),
            Message(Role.TOOL, (ToolResultPart("toolu_1", (TextPart("18C"),), "get_weather"),)),
            Message(Role.TOOL, (ToolResultPart(
                "toolu_2", (TextPart("noon"), ImagePart("image/jpeg", uri="https://x.io/c.jpg")),
                "get_time", is_error=True),)),
            Message(Role.USER, (TextPart("Thanks"),)),
        ),
        generation=GenerationConfig(max_output_tokens=500, temperature=0.2, top_p=0.9, top_k=40,
                                    stop_sequences=("END",)),
        tools=(FunctionTool("get_weather", "Weather by city", WEATHER_SCHEMA, strict=True),
               FunctionTool("get_time")),
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel_tool_calls=False),
        response_format=JsonSchemaFormat({"type": "object"}, name="answer", strict=True),
        metadata=RequestMetadata(end_user_id="user-7"),
    )


def test_encode_full_conversation() -> None:
    encoded = body(conversation(), stream=True, options={"service_tier": "standard_only"})
    assert encoded == {
        "model": fx.MODEL,
        "max_tokens": 500,
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Weather and time in Paris?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": base64.b64encode(PNG).decode()}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "The user wants two things.",
                 "signature": fx.SIGNATURE},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                 "input": {"location": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
            ]},
            # Both tool messages: one user message, as Anthropic requires.
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1",
                 "content": [{"type": "text", "text": "18C"}]},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                 "content": [{"type": "text", "text": "noon"},
                             {"type": "image",
                              "source": {"type": "url", "url": "https://x.io/c.jpg"}}]},
            ]},
            {"role": "user", "content": "Thanks"},
        ],
        "system": [{"type": "text", "text": "You are terse."},
                   {"type": "text", "text": "Answer in French."}],
        "tools": [
            {"name": "get_weather", "description": "Weather by city",
             "input_schema": WEATHER_SCHEMA, "strict": True},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "user-7"},
        "stream": True,
        "service_tier": "standard_only",
    }


def test_minimal_request_uses_the_default_max_tokens() -> None:
    assert body(ask()) == {"model": fx.MODEL, "max_tokens": 4096,
                           "messages": [{"role": "user", "content": "Hello"}]}
    settings = EncodeSettings(provider="anthropic", default_max_tokens=1000)
    assert body(ask(), settings=settings)["max_tokens"] == 1000


def test_reasoning_of_other_providers_is_not_sent_and_redacted_goes_back() -> None:
    request = ask(
        Message(Role.USER, (TextPart("Hi"),)),
        Message(Role.ASSISTANT, (
            ReasoningPart("openai thoughts", "enc", provider_type="openai_responses"),
            ReasoningPart(redacted_data=fx.REDACTED.encode(), provider_type="anthropic"),
            TextPart("Hello", thought_signature="gemini-sig"),
            TextPart(""),
        )),
        # A turn with foreign reasoning alone has nothing to send.
        Message(Role.ASSISTANT, (ReasoningPart("gemini thought", provider_type="gemini"),)),
        Message(Role.USER, (TextPart("Again"),)),
    )
    assert body(request)["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": [
            {"type": "redacted_thinking", "data": fx.REDACTED},
            {"type": "text", "text": "Hello"},
        ]},
        {"role": "user", "content": "Again"},
    ]


def test_reasoning_of_another_anthropic_host_is_sent_by_its_own_adapter() -> None:
    part = ReasoningPart("t", "sig", provider_type="anthropic_vertex")
    request = ask(Message(Role.USER, (TextPart("Hi"),)), Message(Role.ASSISTANT, (part,)))
    assert len(body(request)["messages"]) == 1
    settings = EncodeSettings(provider="v", provider_type="anthropic_vertex")
    assert body(request, settings=settings)["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "t", "signature": "sig"}]


@pytest.mark.parametrize("choice, has_tools, expected", [
    (ToolChoice(ToolChoiceMode.AUTO), True, {"type": "auto"}),
    (ToolChoice(ToolChoiceMode.REQUIRED), True, {"type": "any"}),
    (ToolChoice(ToolChoiceMode.NONE), True, {"type": "none"}),
    (ToolChoice(function_name="get_weather"), True, {"type": "tool", "name": "get_weather"}),
    (ToolChoice(function_name="get_weather", parallel_tool_calls=False), True,
     {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}),
    (ToolChoice(parallel_tool_calls=False), True,
     {"type": "auto", "disable_parallel_tool_use": True}),
    (ToolChoice(ToolChoiceMode.NONE, parallel_tool_calls=False), True, {"type": "none"}),
    (ToolChoice(ToolChoiceMode.AUTO, parallel_tool_calls=True), True, {"type": "auto"}),
    (ToolChoice(parallel_tool_calls=True), True, None),
    (ToolChoice(parallel_tool_calls=False), False, None),
])
def test_tool_choice(choice: ToolChoice, has_tools: bool, expected: dict | None) -> None:
    tools = (FunctionTool("get_weather"),) if has_tools else ()
    encoded = body(ask(tools=tools, tool_choice=choice))
    assert encoded.get("tool_choice") == expected


@pytest.mark.parametrize("request_, feature", [
    (ask(generation=GenerationConfig(seed=1)), "seed"),
    (ask(generation=GenerationConfig(presence_penalty=0.5)), "presence penalty"),
    (ask(generation=GenerationConfig(frequency_penalty=0.5)), "frequency penalty"),
    (ask(generation=GenerationConfig(repetition_penalty=1.1)), "repetition penalty"),
    (ask(generation=GenerationConfig(min_p=0.1)), "min_p sampling"),
    (ask(response_format=JsonObjectFormat()), "JSON object output without a schema"),
    (ask(response_format=RegexFormat("a+")), "regex-constrained output"),
    (ask(response_format=GrammarFormat("root ::= x")), "grammar-constrained output"),
    (ask(response_format=ChoiceFormat(("a", "b"))), "choice-constrained output"),
    (ask(Message(Role.USER, (TextPart("Hi"), ImagePart("image/png", uri="gs://b/x.png")))),
     "image URIs other than http(s)"),
    (ask(Message(Role.USER, (TextPart("Hi"), ImagePart("image/bmp", data=b"BM")))),
     "image/bmp images"),
    (ask(reasoning=ReasoningConfig(include_thoughts=True)),
     "include_thoughts without an effort or budget"),
])
def test_refusals_name_the_feature(request_: ChatRequest, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        body(request_)
    assert exc.value.metadata == {"provider": "anthropic", "feature": feature}


@pytest.mark.parametrize("arguments", ["[1, 2]", "not json", '"text"'])
def test_tool_arguments_must_be_an_object(arguments: str) -> None:
    request = ask(Message(Role.USER, (TextPart("Hi"),)),
                  Message(Role.ASSISTANT, (TextPart("x"), ToolCallPart("t1", "f", arguments))))
    with pytest.raises(InvalidRequest) as exc:
        body(request)
    assert exc.value.violations[0].field == "input.messages[1].parts[1].tool_call.arguments_json"


def test_redacted_data_that_is_not_utf8_is_refused() -> None:
    part = ReasoningPart(redacted_data=b"\xff\xfe", provider_type="anthropic")
    request = ask(Message(Role.USER, (TextPart("Hi"),)), Message(Role.ASSISTANT, (part,)))
    with pytest.raises(InvalidRequest) as exc:
        body(request)
    assert exc.value.violations[0].field == "input.messages[1].parts[0].reasoning.redacted_data"


def test_text_format_and_empty_tool_results() -> None:
    request = ask(Message(Role.USER, (TextPart("Hi"),)),
                  Message(Role.ASSISTANT, (ToolCallPart("t1", "f", "{}"),)),
                  Message(Role.TOOL, (ToolResultPart("t1", ()),)),
                  response_format=TextFormat())
    encoded = body(request)
    assert "output_config" not in encoded
    assert encoded["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1"}]}


# --- reasoning ----------------------------------------------------------------------------

ADAPTIVE = EncodeSettings("anthropic", thinking=ThinkingSettings("adaptive"))
BUDGET = EncodeSettings("anthropic", thinking=ThinkingSettings("budget"))


@pytest.mark.parametrize("effort, level", [
    (ReasoningEffort.MINIMAL, "low"), (ReasoningEffort.LOW, "low"),
    (ReasoningEffort.MEDIUM, "medium"), (ReasoningEffort.HIGH, "high"),
    (ReasoningEffort.XHIGH, "xhigh"), (ReasoningEffort.MAX, "max"),
])
def test_effort_as_adaptive_thinking(effort: ReasoningEffort, level: str) -> None:
    encoded = body(ask(reasoning=ReasoningConfig(effort=effort)), settings=ADAPTIVE)
    assert encoded["thinking"] == {"type": "adaptive"}
    assert encoded["output_config"] == {"effort": level}
    assert encoded["max_tokens"] == 4096


@pytest.mark.parametrize("effort, budget", [
    (ReasoningEffort.MINIMAL, 1024), (ReasoningEffort.LOW, 4096),
    (ReasoningEffort.MEDIUM, 8192), (ReasoningEffort.HIGH, 16384),
    (ReasoningEffort.XHIGH, 24576), (ReasoningEffort.MAX, 32768),
])
def test_effort_as_a_budget(effort: ReasoningEffort, budget: int) -> None:
    encoded = body(ask(reasoning=ReasoningConfig(effort=effort)), settings=BUDGET)
    assert encoded["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert "output_config" not in encoded
    # Thinking counts toward max_tokens: the default leaves room for the answer.
    assert encoded["max_tokens"] == 4096 + budget


@pytest.mark.parametrize("model, thinking", [
    ("claude-opus-4-6", {"type": "adaptive"}),
    ("claude-sonnet-4-6", {"type": "adaptive"}),
    ("claude-opus-4-7", {"type": "adaptive"}),
    ("claude-sonnet-4-5-20250929", {"type": "enabled", "budget_tokens": 8192}),
    ("claude-haiku-4-5", {"type": "enabled", "budget_tokens": 8192}),
    ("claude-opus-4-1-20250805", {"type": "enabled", "budget_tokens": 8192}),
    ("claude-sonnet-4-20250514", {"type": "enabled", "budget_tokens": 8192}),
    ("claude-3-7-sonnet-latest", {"type": "enabled", "budget_tokens": 8192}),
])
def test_auto_effort_mode_picks_by_model(model: str, thinking: dict) -> None:
    encoded = body(ask(reasoning=ReasoningConfig(effort=ReasoningEffort.MEDIUM)), model=model)
    assert encoded["thinking"] == thinking


@pytest.mark.parametrize("reasoning", [
    ReasoningConfig(effort=ReasoningEffort.NONE),
    ReasoningConfig(budget_tokens=0),
    ReasoningConfig(effort=ReasoningEffort.NONE, include_thoughts=True),
])
def test_reasoning_off(reasoning: ReasoningConfig) -> None:
    encoded = body(ask(reasoning=reasoning), settings=ADAPTIVE)
    assert encoded["thinking"] == {"type": "disabled"}
    assert encoded["max_tokens"] == 4096 and "output_config" not in encoded


def test_explicit_budget_is_sent_as_is_in_every_mode() -> None:
    for settings in (ADAPTIVE, BUDGET):
        encoded = body(ask(reasoning=ReasoningConfig(budget_tokens=3000)), settings=settings)
        assert encoded["thinking"] == {"type": "enabled", "budget_tokens": 3000}
        assert encoded["max_tokens"] == 7096
    capped = body(ask(reasoning=ReasoningConfig(budget_tokens=3000),
                      generation=GenerationConfig(max_output_tokens=5000)))
    assert capped["max_tokens"] == 5000


def test_include_thoughts_sets_display() -> None:
    shown = body(ask(reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH,
                                               include_thoughts=True)), settings=ADAPTIVE)
    assert shown["thinking"] == {"type": "adaptive", "display": "summarized"}
    hidden = body(ask(reasoning=ReasoningConfig(budget_tokens=2048, include_thoughts=False)))
    assert hidden["thinking"] == {"type": "enabled", "budget_tokens": 2048,
                                  "display": "omitted"}


def test_effort_budget_shrinks_to_fit_max_output_tokens() -> None:
    request = ask(reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH),
                  generation=GenerationConfig(max_output_tokens=3000))
    encoded = body(request, settings=BUDGET)
    assert encoded["thinking"] == {"type": "enabled", "budget_tokens": 2999}
    assert encoded["max_tokens"] == 3000
    too_small = ask(reasoning=ReasoningConfig(effort=ReasoningEffort.LOW),
                    generation=GenerationConfig(max_output_tokens=1024))
    with pytest.raises(InvalidRequest) as exc:
        body(too_small, settings=BUDGET)
    assert exc.value.violations[0].field == "input.generation.max_output_tokens"


def test_effort_and_json_schema_share_output_config() -> None:
    request = ask(reasoning=ReasoningConfig(effort=ReasoningEffort.LOW),
                  response_format=JsonSchemaFormat({"type": "object"}))
    assert body(request, settings=ADAPTIVE)["output_config"] == {
        "format": {"type": "json_schema", "schema": {"type": "object"}}, "effort": "low"}


# --- count_tokens ---------------------------------------------------------------------------


def test_count_tokens_body_has_the_input_only() -> None:
    request = conversation()
    counted = encode_count_tokens(request, fx.MODEL, SETTINGS,
                                  {"service_tier": "auto", "cache_control": {"type": "ephemeral"}})
    full = body(request)
    assert set(counted) == {"model", "messages", "system", "tools", "tool_choice",
                            "output_config", "cache_control"}
    for key in ("messages", "system", "tools", "tool_choice", "output_config"):
        assert counted[key] == full[key]
    # Settings that do not change the count are not refused there.
    plain = encode_count_tokens(ask(generation=GenerationConfig(seed=3)), fx.MODEL, SETTINGS)
    assert plain == {"model": fx.MODEL, "messages": [{"role": "user", "content": "Hello"}]}
    thinking = encode_count_tokens(ask(reasoning=ReasoningConfig(budget_tokens=2000)),
                                   fx.MODEL, SETTINGS)
    assert thinking["thinking"] == {"type": "enabled", "budget_tokens": 2000}


def test_message_names_are_left_out_as_the_contract_says() -> None:
    sent = body(ask(Message(Role.USER, (TextPart("Hello"),), name="alice")))
    assert sent["messages"] == [{"role": "user", "content": "Hello"}]
