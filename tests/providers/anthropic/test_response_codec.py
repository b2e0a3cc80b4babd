"""Anthropic response decoding alone: Message -> ChatResponse, and the
streamed events -> neutral events."""

import copy

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.errors import UpstreamProtocolError
from llm_gateway.core.events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from llm_gateway.core.types import (
    FinishReason,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    Usage,
)
from llm_gateway.providers.anthropic.response_codec import decode_message, decode_usage
from llm_gateway.providers.anthropic.stream_codec import MessagesStreamDecoder

from tests.fixtures import anthropic as fx


def decoder() -> MessagesStreamDecoder:
    return MessagesStreamDecoder("req_1", provider="anthropic", model=fx.MODEL)


def feed_all(events: list[dict]) -> list[StreamEvent]:
    d = decoder()
    out: list[StreamEvent] = []
    for event in events:
        out.extend(d.feed(event))
    assert d.finished
    return out


# --- unary -------------------------------------------------------------------------------


def test_decode_text_with_cache_usage() -> None:
    response = decode_message(fx.MESSAGE_TEXT, "anthropic", "req_x")
    assert response.id == "msg_013Zva2CMHLNnXjNJJKqJ2EF" and response.model == fx.MODEL
    assert response.message.parts == (TextPart("Hi! My name is Claude."),)
    assert (response.finish_reason, response.provider_finish_reason) == (FinishReason.STOP,
                                                                         "end_turn")
    # The gateway's input counts cache reads and writes; Anthropic's does not.
    assert response.usage == Usage(input_tokens=2095 + 100 + 1000, output_tokens=503,
                                   cached_input_tokens=1000, cache_write_tokens=100)
    assert response.upstream_request_id == "req_x"


def test_decode_thinking_and_parallel_tool_calls_in_order() -> None:
    response = decode_message(fx.MESSAGE_THINKING_TOOLS, "anthropic")
    assert response.message.parts == (
        ReasoningPart("The user wants the weather and the time in Paris.", fx.SIGNATURE,
                      provider_type="anthropic"),
        TextPart("I'll check both."),
        ToolCallPart("toolu_01A09q90qw90lq917835lq9", "get_weather",
                     '{"location":"Paris, France"}'),
        ToolCallPart("toolu_01B19r01rx01mr028946mr0", "get_time", "{}"),
    )
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.usage == Usage(472, 89, cached_input_tokens=0, cache_write_tokens=0)


def test_decode_redacted_thinking_as_utf8_bytes() -> None:
    response = decode_message(fx.MESSAGE_REDACTED, "anthropic")
    assert response.message.parts[1] == ReasoningPart(redacted_data=fx.REDACTED.encode(),
                                                      provider_type="anthropic")
    assert response.usage == Usage(10, 20)


@pytest.mark.parametrize("stop, sequence, finish", [
    ("end_turn", None, FinishReason.STOP),
    ("stop_sequence", "###", FinishReason.STOP),
    ("max_tokens", None, FinishReason.LENGTH),
    ("tool_use", None, FinishReason.TOOL_CALLS),
    ("pause_turn", None, FinishReason.PAUSED),
    ("refusal", None, FinishReason.REFUSAL),
    ("model_context_window_exceeded", None, FinishReason.CONTEXT_LENGTH),
    ("some_future_reason", None, FinishReason.OTHER),
    (None, None, FinishReason.UNSPECIFIED),
])
def test_stop_reasons(stop: str | None, sequence: str | None, finish: FinishReason) -> None:
    response = decode_message(fx.message([{"type": "text", "text": "x"}], stop, sequence),
                              "anthropic")
    assert response.finish_reason is finish
    assert response.provider_finish_reason == (stop or "")
    assert response.stop_sequence == (sequence or "")


def test_citations_and_server_tool_blocks_are_not_parts() -> None:
    content = [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
         "input": {"query": "x"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        {"type": "text", "text": "Cited.", "citations": [
            {"type": "char_location", "cited_text": "c", "document_index": 0,
             "document_title": None, "start_char_index": 0, "end_char_index": 1}]},
    ]
    assert decode_message(fx.message(content, "end_turn"), "anthropic").message.parts == (
        TextPart("Cited."),)


def test_usage_with_thinking_tokens() -> None:
    raw = {"input_tokens": 5, "output_tokens": 40, "output_tokens_details": {
        "thinking_tokens": 30}}
    assert decode_usage(raw) == Usage(5, 40, reasoning_tokens=30)


# --- stream ---------------------------------------------------------------------------------


def test_stream_text() -> None:
    assert feed_all(fx.STREAM_TEXT) == [
        StreamStart("msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "claude-3-7-sonnet-20250219",
                    "req_1"),
        UsageUpdate(Usage(25, 1)),
        TextDelta(0, "Hello"),
        TextDelta(0, "!"),
        UsageUpdate(Usage(25, 15)),
        StreamDone(FinishReason.STOP, "end_turn", usage=Usage(25, 15)),
    ]


def test_stream_parallel_tool_calls_arguments_as_they_arrive() -> None:
    events = feed_all(fx.STREAM_TOOL_USE)
    arguments = '{"location": "San Francisco, CA", "unit": "fahrenheit"}'
    assert events[2:] == [
        TextDelta(0, "Okay"),
        TextDelta(0, ", let's check:"),
        ToolCallStart(1, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        ToolCallDelta(1, '{"location":'),
        ToolCallDelta(1, ' "San Francisco, CA"'),
        ToolCallDelta(1, ', "unit": "fahrenheit"}'),
        ToolCallEnd(1, ToolCallPart("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather",
                                    arguments)),
        ToolCallStart(2, "toolu_02U2y2gK45rBnl3uOUsO8Vq7", "get_time"),
        ToolCallDelta(2, "{}"),
        ToolCallEnd(2, ToolCallPart("toolu_02U2y2gK45rBnl3uOUsO8Vq7", "get_time", "{}")),
        UsageUpdate(Usage(472, 89)),
        StreamDone(FinishReason.TOOL_CALLS, "tool_use", usage=Usage(472, 89)),
    ]


def test_stream_thinking_signature_and_redacted() -> None:
    events = feed_all(fx.STREAM_THINKING)
    assert events == [
        StreamStart("msg_01ThinkStream", "claude-3-7-sonnet-20250219", "req_1"),
        ReasoningDelta(0, text="Let me solve this step by step:\n\n1. First break down 27 * 453",
                       provider_type="anthropic"),
        ReasoningDelta(0, text="\n2. 453 = 400 + 50 + 3", provider_type="anthropic"),
        ReasoningDelta(0, signature=fx.SIGNATURE, provider_type="anthropic"),
        ReasoningDelta(1, redacted_data=fx.REDACTED.encode(), provider_type="anthropic"),
        TextDelta(2, "27 * 453 = 12,231"),
        StreamDone(FinishReason.STOP, "end_turn"),
    ]
    rebuilt = accumulate(events)
    assert rebuilt.message.parts == (
        ReasoningPart("Let me solve this step by step:\n\n1. First break down 27 * 453"
                      "\n2. 453 = 400 + 50 + 3", fx.SIGNATURE, provider_type="anthropic"),
        ReasoningPart(redacted_data=fx.REDACTED.encode(), provider_type="anthropic"),
        TextPart("27 * 453 = 12,231"),
    )


def test_stream_usage_is_cumulative_and_replaced() -> None:
    events = feed_all(fx.STREAM_CUMULATIVE_USAGE)
    usages = [ev.usage for ev in events if isinstance(ev, UsageUpdate)]
    start = Usage(1250, 1, cached_input_tokens=1000, cache_write_tokens=200)
    assert usages == [start, Usage(1250, 10, 1000, 200), Usage(1250, 25, 1000, 200)]
    assert events[-1] == StreamDone(FinishReason.STOP, "stop_sequence", "END",
                                    Usage(1250, 25, 1000, 200))


def test_stream_and_unary_decode_agree() -> None:
    unary = fx.message([{"type": "text", "text": "Okay, let's check:"},
                        {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                         "name": "get_weather",
                         "input": {"location": "San Francisco, CA", "unit": "fahrenheit"}},
                        {"type": "tool_use", "id": "toolu_02U2y2gK45rBnl3uOUsO8Vq7",
                         "name": "get_time", "input": {}}], "tool_use")
    streamed = accumulate(feed_all(fx.STREAM_TOOL_USE)).message.parts
    decoded = decode_message(unary, "anthropic").message.parts
    assert [type(p) for p in streamed] == [type(p) for p in decoded]
    assert streamed[0] == decoded[0]
    for s, d in zip(streamed[1:], decoded[1:], strict=True):
        assert isinstance(s, ToolCallPart) and isinstance(d, ToolCallPart)
        assert (s.id, s.name) == (d.id, d.name)


def test_ignored_events_and_deltas() -> None:
    events = copy.deepcopy(fx.STREAM_TEXT)
    events[1]["content_block"]["citations"] = []
    extra = [
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {
            "type": "citations_delta", "citation": {
                "type": "char_location", "cited_text": "Hello", "document_index": 0,
                "document_title": "Doc", "start_char_index": 0, "end_char_index": 5}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta"}},
        {"type": "some_future_event", "payload": 1},
    ]
    events[4:4] = extra
    assert feed_all(events) == feed_all(fx.STREAM_TEXT)


def test_a_start_with_text_and_server_tool_blocks() -> None:
    events = [fx.STREAM_TEXT[0],
              {"type": "content_block_start", "index": 0,
               "content_block": {"type": "server_tool_use", "id": "srvtoolu_1",
                                 "name": "web_search", "input": {}}},
              {"type": "content_block_delta", "index": 0,
               "delta": {"type": "input_json_delta", "partial_json": "{\"q\": 1}"}},
              {"type": "content_block_stop", "index": 0},
              {"type": "content_block_start", "index": 1,
               "content_block": {"type": "text", "text": "Pre"}},
              {"type": "content_block_stop", "index": 1},
              {"type": "message_delta", "delta": {"stop_reason": "end_turn"}},
              {"type": "message_stop"}]
    assert feed_all(events)[2:] == [TextDelta(1, "Pre"),
                                    StreamDone(FinishReason.STOP, "end_turn", usage=Usage(25, 1))]


@pytest.mark.parametrize("events, what", [
    ([{"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}],
     "content_block_start before message_start"),
    ([fx.STREAM_TEXT[0], fx.STREAM_TEXT[0]], "a second message_start"),
    ([fx.STREAM_TEXT[0], {"type": "content_block_delta", "index": 3,
                          "delta": {"type": "text_delta", "text": "x"}}],
     "a delta for content block 3, which is not open"),
    ([fx.STREAM_TEXT[0], {"type": "content_block_stop", "index": 0}],
     "content_block_stop for block 0, which is not open"),
    ([fx.STREAM_TEXT[0], fx.STREAM_TEXT[1], fx.STREAM_TEXT[1]],
     "content block 0 started twice"),
    ([fx.STREAM_TEXT[0], {"type": "content_block_start", "content_block": {"type": "text"}}],
     "content_block_start without a valid index"),
    ([fx.STREAM_TEXT[0], fx.STREAM_TEXT[1], {"type": "content_block_delta", "index": 0,
                                             "delta": {"type": "input_json_delta",
                                                       "partial_json": "{"}}],
     "a input_json_delta for a text block"),
    ([*fx.STREAM_TOOL_USE[:7], fx.STREAM_TOOL_USE[-1]],
     "the tool call in block 1 was never closed"),
    ([*fx.STREAM_TEXT, fx.STREAM_TEXT[3]], "content_block_delta after message_stop"),
])
def test_malformed_streams(events: list[dict], what: str) -> None:
    d = decoder()
    with pytest.raises(UpstreamProtocolError) as exc:
        for event in events:
            d.feed(event)
    assert exc.value.message == f"anthropic: malformed stream: {what}"
