"""ConverseStream events -> neutral events, and agreement with Converse."""

import json

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.errors import UpstreamProtocolError
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
from llm_gateway.core.types import FinishReason, ToolCallPart, Usage
from llm_gateway.providers.bedrock.converse_codec import decode_converse
from llm_gateway.providers.bedrock.converse_stream import ConverseStreamDecoder

from tests.fixtures import bedrock as fx

MODEL = "anthropic.claude-3-7-sonnet-20250219-v1:0"


def run(items: list[tuple[str, dict]], *, finish: bool = True) -> list:
    decoder = ConverseStreamDecoder(MODEL, "req-1", "bedrock")
    out = []
    for name, payload in items:
        out += decoder.feed(name, payload)
    return out + (decoder.finish() if finish else [])


def test_text_stream() -> None:
    assert run(fx.STREAM_TEXT) == [
        StreamStart("req-1", MODEL, "req-1"),
        TextDelta(0, "Hello"),
        TextDelta(0, " there"),
        UsageUpdate(Usage(9, 12)),
        StreamDone(FinishReason.STOP, "end_turn", usage=Usage(9, 12)),
    ]


def test_reasoning_and_parallel_tool_calls_as_they_arrive() -> None:
    usage = Usage(2078, 80, cached_input_tokens=2000, cache_write_tokens=48)
    assert run(fx.STREAM_TOOLS) == [
        StreamStart("req-1", MODEL, "req-1"),
        ReasoningDelta(0, text="The user wants ", provider_type="bedrock"),
        ReasoningDelta(0, text="weather and time.", provider_type="bedrock"),
        ReasoningDelta(0, signature="EqQBCkYIARgCIkD1", provider_type="bedrock"),
        ReasoningDelta(1, redacted_data=b"redacted", provider_type="bedrock"),
        TextDelta(2, "Let me check both."),
        ToolCallStart(3, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather"),
        ToolCallDelta(3, '{"city"'),
        ToolCallDelta(3, ': "Paris"}'),
        ToolCallEnd(3, ToolCallPart("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "get_weather",
                                    '{"city": "Paris"}')),
        ToolCallStart(4, "tooluse_9nQ3l8xYTbOe8mKj0a1b2c", "get_time"),
        ToolCallEnd(4, ToolCallPart("tooluse_9nQ3l8xYTbOe8mKj0a1b2c", "get_time", "{}")),
        UsageUpdate(usage),
        StreamDone(FinishReason.TOOL_CALLS, "tool_use", usage=usage),
    ]


def test_stream_rebuilds_what_converse_returns() -> None:
    streamed = accumulate(run(fx.STREAM_TOOLS))
    unary = decode_converse(fx.CONVERSE_TOOLS, MODEL, "req-1")
    assert streamed.message.parts[:3] == unary.message.parts[:3]
    # Tool input: the stream keeps the model's text, Converse sends an object.
    calls = [(p.id, p.name, json.loads(p.arguments_json)) for p in streamed.message.parts[3:]]
    assert calls == [(p.id, p.name, json.loads(p.arguments_json))
                     for p in unary.message.parts[3:]]
    assert (streamed.id, streamed.finish_reason, streamed.usage) == (
        unary.id, unary.finish_reason, unary.usage)


def test_usage_after_message_stop_is_in_stream_done() -> None:
    decoder = ConverseStreamDecoder(MODEL, "req-1", "bedrock")
    for name, payload in fx.STREAM_TEXT[:-1]:
        out = decoder.feed(name, payload)
        assert not any(isinstance(e, StreamDone) for e in out)  # held for the usage
    assert decoder.finished
    last = decoder.feed(*fx.STREAM_TEXT[-1])
    assert last == [UsageUpdate(Usage(9, 12)),
                    StreamDone(FinishReason.STOP, "end_turn", usage=Usage(9, 12))]
    assert decoder.finish() == []


def test_stream_without_metadata_ends_at_the_end_of_the_body() -> None:
    events = run(fx.STREAM_TEXT[:-1])
    assert events[-1] == StreamDone(FinishReason.STOP, "end_turn", usage=Usage())


def test_stop_sequence_and_missing_content_block_stop() -> None:
    events = run([
        ("messageStart", {"role": "assistant"}),
        ("contentBlockStart", {"contentBlockIndex": 0,
                               "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{}"}}}),
        ("messageStop", {"stopReason": "stop_sequence",
                         "additionalModelResponseFields": {"stop_sequence": "END"}}),
        ("metadata", fx.METADATA),
    ])
    assert events[-3] == ToolCallEnd(0, ToolCallPart("t1", "f", "{}"))
    assert events[-1] == StreamDone(FinishReason.STOP, "stop_sequence", "END",
                                    usage=Usage(9, 12))


def test_a_stream_that_ends_early() -> None:
    with pytest.raises(UpstreamProtocolError, match="before messageStop"):
        run(fx.STREAM_TEXT[:3])


@pytest.mark.parametrize("items", [
    [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "{"}}})],
    [("contentBlockDelta", {"delta": {"text": "x"}})],
    [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "x"}}),
     ("contentBlockDelta", {"contentBlockIndex": 0,
                            "delta": {"reasoningContent": {"text": "y"}}})],
    [("contentBlockDelta", {"contentBlockIndex": 0,
                            "delta": {"reasoningContent": {"redactedContent": "!!"}}})],
])
def test_malformed_events(items: list) -> None:
    with pytest.raises(UpstreamProtocolError):
        run(items, finish=False)


def test_unknown_events_and_fields_are_ignored() -> None:
    events = run([
        ("messageStart", {"role": "assistant", "p": "abcdefgh"}),
        ("someFutureEvent", {"x": 1}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "a"}, "p": "xy"}),
        ("contentBlockDelta", {"contentBlockIndex": 1,
                               "delta": {"citation": {"title": "t"}}}),
        ("messageStop", {"stopReason": "end_turn"}),
        ("metadata", fx.METADATA),
    ])
    assert [type(e).__name__ for e in events] == [
        "StreamStart", "TextDelta", "UsageUpdate", "StreamDone"]
