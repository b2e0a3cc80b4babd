"""The Responses stream decoder alone: documented events -> neutral events,
and the stream rebuilding exactly what unary decoding says."""

from typing import Any

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.events import (
    ReasoningDelta,
    StreamDone,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)
from llm_gateway.core.types import FinishReason, ToolCallPart, Usage
from llm_gateway.providers.openai_responses.responses_codec import decode_response
from llm_gateway.providers.openai_responses.responses_stream import ResponsesStreamDecoder

from tests.fixtures import openai_responses as fx

P = "openai_responses"
USAGE = Usage(328, 148, cached_input_tokens=256, reasoning_tokens=64)
START = StreamStart(fx.RESPONSE_ID, fx.MODEL, "req_9")


def feed_all(events: list[dict[str, Any]]) -> list[Any]:
    decoder = ResponsesStreamDecoder("req_9")
    out = []
    for event in events:
        assert not decoder.finished
        out += decoder.feed(event)
    assert decoder.finished
    return out


def test_text() -> None:
    assert feed_all(fx.STREAM_TEXT) == [
        START,
        TextDelta(0, "On a peaceful"),
        TextDelta(0, " moonlit night"),
        StreamDone(FinishReason.STOP, "completed", usage=USAGE),
    ]


def test_reasoning_summary_signature_and_streamed_arguments() -> None:
    assert feed_all(fx.STREAM_REASONING_TOOLS) == [
        START,
        ReasoningDelta(0, id=fx.RS_ID, provider_type=P),
        ReasoningDelta(0, text="**Planning the lookups**\n\n"),
        ReasoningDelta(0, text="I need the weather and the time."),
        # The second summary part, separated as unary decoding joins them.
        ReasoningDelta(0, text="\n\n**Calling both tools**\n\nThey are independent."),
        ReasoningDelta(0, signature=fx.ENCRYPTED, provider_type=P),
        ToolCallStart(1, "call_12345xyz", "get_weather"),
        ToolCallDelta(1, '{"location":'),
        ToolCallDelta(1, '"Paris, France"}'),
        ToolCallEnd(1, ToolCallPart("call_12345xyz", "get_weather",
                                    '{"location":"Paris, France"}')),
        ToolCallStart(2, "call_67890abc", "get_time"),
        ToolCallDelta(2, '{"tz":"Europe/Paris"}'),
        ToolCallEnd(2, ToolCallPart("call_67890abc", "get_time", '{"tz":"Europe/Paris"}')),
        StreamDone(FinishReason.TOOL_CALLS, "completed", usage=USAGE),
    ]


@pytest.mark.parametrize("stream, unary", [
    (fx.STREAM_TEXT, fx.completed([fx.message(fx.output_text("On a peaceful moonlit night"))])
     ["response"]),
    (fx.STREAM_REASONING_TOOLS, fx.RESPONSE_REASONING_TOOLS),
    (fx.STREAM_REFUSAL, fx.RESPONSE_REFUSAL),
    (fx.STREAM_INCOMPLETE, fx.response_incomplete("max_output_tokens")),
])
def test_a_stream_rebuilds_the_unary_response(stream: list, unary: dict) -> None:
    rebuilt = accumulate(feed_all(stream))
    expected = decode_response(unary, "req_9")
    assert rebuilt.message == expected.message
    assert (rebuilt.id, rebuilt.model, rebuilt.upstream_request_id) == (
        expected.id, expected.model, "req_9")
    assert (rebuilt.finish_reason, rebuilt.provider_finish_reason) == (
        expected.finish_reason, expected.provider_finish_reason)
    assert rebuilt.usage == expected.usage


def test_refusal_and_incomplete_finish() -> None:
    refusal = feed_all(fx.STREAM_REFUSAL)
    assert refusal[1:3] == [TextDelta(0, "I'm sorry, "), TextDelta(0, "I can't help with that.")]
    assert refusal[-1].finish_reason is FinishReason.REFUSAL
    incomplete = feed_all(fx.STREAM_INCOMPLETE)[-1]
    assert (incomplete.finish_reason, incomplete.provider_finish_reason) == (
        FinishReason.LENGTH, "max_output_tokens")


def test_unknown_events_are_ignored() -> None:
    events = [fx.CREATED,
              {"type": "response.web_search_call.searching", "output_index": 0, "item_id": "w"},
              {"type": "response.some_future_event", "output_index": 0},
              *fx.STREAM_TEXT[2:]]
    assert feed_all(events) == feed_all(fx.STREAM_TEXT)


def test_items_without_deltas_still_arrive_whole() -> None:
    # A server that sends only the finished items (no added, no deltas).
    events = [
        fx.CREATED,
        {"type": "response.output_item.done", "output_index": 0,
         "item": fx.reasoning("Short.")},
        {"type": "response.output_item.done", "output_index": 1,
         "item": fx.message(fx.output_text("Hi"))},
        {"type": "response.output_item.done", "output_index": 2,
         "item": fx.function_call("call_1", "f", "")},
        fx.completed([]),
    ]
    assert feed_all(events) == [
        START,
        ReasoningDelta(0, id=fx.RS_ID, provider_type=P),
        ReasoningDelta(0, text="Short."),
        ReasoningDelta(0, signature=fx.ENCRYPTED, provider_type=P),
        TextDelta(1, "Hi"),
        ToolCallStart(2, "call_1", "f"),
        ToolCallEnd(2, ToolCallPart("call_1", "f", "{}")),
        StreamDone(FinishReason.TOOL_CALLS, "completed", usage=USAGE),
    ]


def test_a_call_cut_short_ends_with_what_arrived() -> None:
    events = [fx.CREATED, *fx.call_events(0, "fc_1", "call_1", "f", '{"a":')[:2],
              {"type": "response.incomplete",
               "response": fx.response_incomplete("max_output_tokens")}]
    out = feed_all(events)
    assert out[-2:] == [
        ToolCallEnd(0, ToolCallPart("call_1", "f", '{"a":')),
        StreamDone(FinishReason.LENGTH, "max_output_tokens", usage=USAGE),
    ]


def test_nothing_is_finished_before_the_terminal_event() -> None:
    decoder = ResponsesStreamDecoder()
    for event in fx.STREAM_TEXT[:-1]:
        decoder.feed(event)
    assert not decoder.finished
