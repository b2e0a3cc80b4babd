"""The OpenAI chat codec alone: neutral request -> body, body -> neutral."""

import pytest
from llm_gateway.core.coalesce import coalesce
from llm_gateway.core.errors import UnsupportedFeature
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
    ImagePart,
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
from llm_gateway.providers.openai.chat_codec import (
    ChatStreamDecoder,
    decode_chat,
    encode_chat,
)
from llm_gateway.providers.openai.presets import PRESETS

from tests.fixtures import openai as fx

OPENAI, VLLM, DEEPSEEK = PRESETS["openai"], PRESETS["vllm"], PRESETS["deepseek"]


def conversation() -> ChatRequest:
    return ChatRequest(
        model="ignored",
        system=(TextPart("You are terse."),),
        messages=(
            Message(Role.USER, (TextPart("Weather in Paris?"),
                                ImagePart("image/png", data=b"\x89PNG"))),
            Message(Role.ASSISTANT, (ReasoningPart("think", "sig", provider_type="anthropic"),
                                     TextPart("Checking."),
                                     ToolCallPart("call_1", "get_weather", '{"city":"Paris"}'),
                                     ToolCallPart("call_2", "get_time", "{}"))),
            Message(Role.TOOL, (ToolResultPart("call_1", (TextPart("18C"),), "get_weather"),
                                ToolResultPart("call_2", (TextPart("noon"),), "get_time"))),
        ),
        generation=GenerationConfig(max_output_tokens=50, temperature=0.0, top_p=1.0,
                                    stop_sequences=("END",), seed=3),
        tools=(FunctionTool("get_weather", "Weather", {"type": "object"}, strict=True),
               FunctionTool("get_time")),
        tool_choice=ToolChoice(ToolChoiceMode.REQUIRED, parallel_tool_calls=True),
        response_format=JsonSchemaFormat({"type": "object"}, name="answer", strict=True),
        reasoning=ReasoningConfig(effort=ReasoningEffort.MAX),
        metadata=RequestMetadata(end_user_id="user-7"),
    )


def test_encode_full_conversation() -> None:
    body = encode_chat(conversation(), "gpt-4.1", OPENAI, "openai", stream=True,
                       options={"service_tier": "flex"})
    assert body == {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "Weather in Paris?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}}]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
                {"id": "call_2", "type": "function",
                 "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": "noon"},
        ],
        "max_completion_tokens": 50, "temperature": 0.0, "top_p": 1.0, "stop": ["END"],
        "seed": 3,
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                              "parameters": {"type": "object"}, "strict": True}},
            {"type": "function", "function": {"name": "get_time",
                                              "parameters": {"type": "object",
                                                             "properties": {}}}},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": True,
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "answer", "schema": {"type": "object"}, "strict": True}},
        "reasoning_effort": "xhigh",
        "user": "user-7",
        "stream": True,
        "stream_options": {"include_usage": True},
        "service_tier": "flex",
    }


def test_presets_differ_where_the_servers_do() -> None:
    request = ChatRequest(model="m", messages=conversation().messages[:2],
                          generation=GenerationConfig(max_output_tokens=5, top_k=40, min_p=0.1,
                                                      repetition_penalty=1.1),
                          response_format=RegexFormat(r"\d+"))
    body = encode_chat(request, "qwen", VLLM, "vllm", stream=False)
    assert (body["max_tokens"], body["top_k"], body["min_p"], body["repetition_penalty"]) == (
        5, 40, 0.1, 1.1)
    assert body["structured_outputs"] == {"regex": r"\d+"}
    assert "stream" not in body and "max_completion_tokens" not in body
    choice = encode_chat(ChatRequest("m", request.messages,
                                     response_format=ChoiceFormat(("yes", "no"))),
                         "q", VLLM, "vllm", stream=False)
    assert choice["structured_outputs"] == {"choice": ["yes", "no"]}
    with pytest.raises(UnsupportedFeature) as exc:
        encode_chat(request, "gpt", OPENAI, "openai", stream=False)
    assert exc.value.metadata == {"provider": "openai", "feature": "top_k"}
    # DeepSeek wants its reasoning back within a turn.
    deep = encode_chat(ChatRequest("m", conversation().messages), "d", DEEPSEEK, "deepseek",
                       stream=False)
    assert deep["messages"][1]["reasoning_content"] == "think"


@pytest.mark.parametrize("request_, feature", [
    (ChatRequest("m", (Message(Role.USER, (ImagePart("", uri="gs://b/x.png"),)),)),
     "image URIs other than http(s)"),
    (ChatRequest("m", (Message(Role.USER, (TextPart("x"),)),),
                 reasoning=ReasoningConfig(budget_tokens=100)), "a reasoning token budget"),
])
def test_refusals_name_the_feature(request_: ChatRequest, feature: str) -> None:
    with pytest.raises(UnsupportedFeature) as exc:
        encode_chat(request_, "m", OPENAI, "openai", stream=False)
    assert exc.value.metadata["feature"] == feature


def test_decode_text_and_usage() -> None:
    response = decode_chat(fx.CHAT_TEXT, "req_1")
    assert response.message.parts == (TextPart("Hello! How can I assist you today?"),)
    assert (response.id, response.model) == (fx.CHAT_TEXT["id"], "gpt-4.1-2025-04-14")
    assert response.finish_reason is FinishReason.STOP and response.provider_finish_reason == "stop"
    assert response.usage == Usage(19, 10, cached_input_tokens=0, reasoning_tokens=0)
    assert response.upstream_request_id == "req_1"


def test_decode_parallel_tool_calls() -> None:
    response = decode_chat(fx.CHAT_TOOL_CALLS)
    assert response.message.parts == (
        ToolCallPart("call_abc123", "get_current_weather",
                     '{\n"location": "Boston, MA"\n}'),
        ToolCallPart("call_def456", "get_current_time", '{"tz": 5}'),
    )
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.usage == Usage(82, 17, cached_input_tokens=64, reasoning_tokens=5)


@pytest.mark.parametrize("raw, reason", [
    ("stop", FinishReason.STOP), ("length", FinishReason.LENGTH),
    ("tool_calls", FinishReason.TOOL_CALLS), ("content_filter", FinishReason.CONTENT_FILTER),
    ("function_call", FinishReason.TOOL_CALLS), ("eos", FinishReason.OTHER),
])
def test_every_finish_reason(raw: str, reason: FinishReason) -> None:
    body = {**fx.CHAT_TEXT, "choices": [{**fx.CHAT_TEXT["choices"][0], "finish_reason": raw}]}
    response = decode_chat(body)
    assert (response.finish_reason, response.provider_finish_reason) == (reason, raw)


def test_refusal() -> None:
    body = {**fx.CHAT_TEXT, "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": None, "refusal": "I can't help with that."}}]}
    response = decode_chat(body)
    assert response.message.parts == (TextPart("I can't help with that."),)
    assert response.finish_reason is FinishReason.REFUSAL


def feed_all(chunks: list) -> list:
    decoder = ChatStreamDecoder("req_9")
    events = []
    for c in chunks:
        if c == "[DONE]":
            break
        events += decoder.feed(c)
    return events + decoder.finish()


def test_stream_tool_call_arguments_as_deltas() -> None:
    usage = Usage(9, 12, cached_input_tokens=0, reasoning_tokens=0)
    assert feed_all(fx.STREAM_TOOL_CALLS) == [
        StreamStart("chatcmpl-123", "gpt-4o-mini", "req_9"),
        ToolCallStart(0, "call_A", "get_weather"),
        ToolCallDelta(0, '{"lo'),
        ToolCallDelta(0, 'cation": "Paris"}'),
        ToolCallStart(1, "call_B", "get_time"),
        ToolCallDelta(1, "{}"),
        ToolCallEnd(0, ToolCallPart("call_A", "get_weather", '{"location": "Paris"}')),
        ToolCallEnd(1, ToolCallPart("call_B", "get_time", "{}")),
        UsageUpdate(usage),
        StreamDone(FinishReason.TOOL_CALLS, "tool_calls", usage=usage),
    ]


def test_stream_reasoning_both_field_names() -> None:
    events = feed_all(fx.STREAM_REASONING)
    assert events[1:4] == [ReasoningDelta(0, text="Think"), ReasoningDelta(0, text="ing."),
                           TextDelta(1, "42")]


def test_stream_whole_tool_call_in_one_chunk_and_reused_index() -> None:
    chunks = [
        fx.chunk({"tool_calls": [{"index": 0, "id": "a", "type": "function",
                                  "function": {"name": "f", "arguments": '{"x":1}'}}]}),
        fx.chunk({"tool_calls": [{"index": 0, "id": "b", "type": "function",
                                  "function": {"name": "g", "arguments": "{}"}}]}),
        fx.chunk({}, "tool_calls"),
    ]
    events = feed_all(chunks)
    ends = [e.tool_call for e in events if isinstance(e, ToolCallEnd)]
    assert ends == [ToolCallPart("a", "f", '{"x":1}'), ToolCallPart("b", "g", "{}")]


# Runs of plain text broken by everything that is not: reasoning, a usage
# update, a second choice, text with the finish reason, a refusal.
STREAM_MIXED: list = [
    fx.chunk({"role": "assistant", "content": ""}),
    fx.chunk({"content": "a"}), fx.chunk({"content": "b"}), fx.chunk({"content": ""}),
    fx.chunk({"content": "c"}),
    fx.chunk({"reasoning_content": "hmm"}),
    fx.chunk({"content": "d"}), fx.chunk({"content": "e"}),
    {**fx.chunk({"content": "f"}), "usage": fx.USAGE_CHUNK["usage"]},
    {**fx.chunk({"content": "g"}), "choices": [
        {"index": 1, "delta": {"content": "other choice"}, "finish_reason": None}]},
    fx.chunk({"content": "h"}), fx.chunk({"refusal": "no"}), fx.chunk({"content": "i"}),
    fx.chunk({"content": "j"}, "stop"),
    fx.USAGE_CHUNK,
]


@pytest.mark.parametrize("stream", [fx.STREAM_TEXT, fx.STREAM_TOOL_CALLS, fx.STREAM_REASONING,
                                    STREAM_MIXED])
def test_a_read_decoded_at_once_is_the_same_stream(stream: list) -> None:
    # A read's chunks decoded at once (the adapter's usual path) give what
    # the gateway would have sent from them decoded one at a time.
    chunks = [c for c in stream if c != "[DONE]"]
    one, whole = ChatStreamDecoder("req_9"), ChatStreamDecoder("req_9")
    each = [event for c in chunks for event in one.feed(c)] + one.finish()
    at_once: list = []
    whole.feed_all(chunks, at_once)
    assert coalesce(at_once + whole.finish()) == coalesce(each)


def test_a_run_of_plain_text_chunks_is_one_delta() -> None:
    decoder = ChatStreamDecoder()
    decoder.feed(fx.chunk({"role": "assistant", "content": "Hi"}))
    out: list = []
    decoder.feed_all([fx.chunk({"content": t}) for t in ("a", "", "b", "c")], out)
    assert out == [TextDelta(0, "abc")]
    out = []
    decoder.feed_all(STREAM_MIXED[5:8], out)
    assert out == [ReasoningDelta(1, text="hmm"), TextDelta(0, "de")]


def test_random_streams_read_at_once_are_the_same_stream() -> None:
    # Reads of random chunks decoded at once (the plain-text shortcut, runs
    # merged) give, read by read, what the general path gives chunk by chunk.
    import random

    rng = random.Random(11)
    kinds = [
        lambda: fx.chunk({"content": rng.choice(["a", "b c", "", "é"])}),
        lambda: fx.chunk({"role": "assistant", "content": "r"}),
        lambda: fx.chunk({"content": None}),
        lambda: fx.chunk({"content": [{"type": "text", "text": "parts"}]}),  # Mistral
        lambda: fx.chunk({"reasoning": "think "}),
        lambda: fx.chunk({"content": "both", "reasoning": "and"}),
        lambda: fx.chunk({"refusal": "no"}),
        lambda: fx.chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                          "function": {"name": "f", "arguments": "{\"x\""}}]}),
        lambda: fx.chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        lambda: {**fx.chunk({"content": "u"}), "usage": fx.USAGE_CHUNK["usage"]},
        lambda: {**fx.chunk({}), "choices": [{"index": 1, "delta": {"content": "x"}}]},
        lambda: fx.chunk({"content": "end"}, rng.choice(["stop", "length"])),
        lambda: fx.USAGE_CHUNK,
    ]
    for _ in range(300):
        chunks = [fx.chunk({"role": "assistant", "content": ""})]
        chunks += [rng.choice(kinds)() for _ in range(rng.randint(0, 15))]
        one, whole = ChatStreamDecoder("r"), ChatStreamDecoder("r")
        i = 0
        while i < len(chunks):  # reads of random sizes: what the gateway sends for each
            read = chunks[i:i + rng.randint(1, 6)]
            i += len(read)
            at_once: list = []
            whole.feed_all(read, at_once)
            # The reference takes every chunk the general way, no shortcut.
            each = [event for c in read for event in one._feed(c)]
            assert coalesce(at_once) == coalesce(each), (chunks, read)
        assert whole.finish() == one.finish()
