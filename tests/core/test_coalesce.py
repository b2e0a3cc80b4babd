"""Coalescing: deltas that arrived in one read leave as one event."""

from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.coalesce import coalesce
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
from llm_gateway.core.types import FinishReason, ToolCallPart, Usage


def test_runs_of_one_part_merge() -> None:
    assert coalesce([TextDelta(0, "a", "s1"), TextDelta(0, "b"), TextDelta(0, "c", "s2")]) == [
        TextDelta(0, "abc", "s1s2")]
    assert coalesce([ToolCallDelta(2, "{"), ToolCallDelta(2, '"a": 1'), ToolCallDelta(2, "}")]
                    ) == [ToolCallDelta(2, '{"a": 1}')]
    assert coalesce([ReasoningDelta(1, "x", "sig", b"\x01", "id1", "anthropic"),
                     ReasoningDelta(1, "y", "nature", b"\x02")]) == [
        ReasoningDelta(1, "xy", "signature", b"\x01\x02", "id1", "anthropic")]
    # A later id or provider type wins, as each delta would set it in turn.
    assert coalesce([ReasoningDelta(1, id="a"), ReasoningDelta(1, id="b")]) == [
        ReasoningDelta(1, id="b")]


def test_different_parts_kinds_and_other_events_do_not_merge() -> None:
    events: list[StreamEvent] = [
        StreamStart("i", "m"), StreamStart("i", "m"), TextDelta(0, "a"), TextDelta(1, "b"),
        ToolCallDelta(1, "c"), ToolCallStart(2, "id", "f"), ToolCallDelta(2, "{}"),
        ToolCallEnd(2, ToolCallPart("id", "f", "{}")), TextDelta(0, "d")]
    assert coalesce(events) == events


def test_usage_is_superseded_by_newer_usage_only() -> None:
    done = StreamDone(FinishReason.STOP, usage=Usage(3, 4))
    assert coalesce([UsageUpdate(Usage(3, 1)), UsageUpdate(Usage(3, 2)), done]) == [done]
    assert coalesce([TextDelta(0, "a"), UsageUpdate(Usage(3, 1)), TextDelta(0, "b"),
                     UsageUpdate(Usage(3, 2))]) == [
        TextDelta(0, "a"), UsageUpdate(Usage(3, 1)), TextDelta(0, "b"), UsageUpdate(Usage(3, 2))]
    assert coalesce([done, UsageUpdate(Usage(3, 5))]) == [done, UsageUpdate(Usage(3, 5))]


def test_a_read_of_one_event_or_none_is_returned_as_is() -> None:
    one: list[StreamEvent] = [TextDelta(0, "a")]
    assert coalesce(one) is one
    assert coalesce([]) == []


def test_coalescing_keeps_the_rebuilt_response() -> None:
    events: list[StreamEvent] = [
        StreamStart("i", "m"), ReasoningDelta(0, "think"), ReasoningDelta(0, "ing", "sig"),
        *(TextDelta(1, c) for c in "abcdef"), ToolCallStart(2, "c1", "f"),
        *(ToolCallDelta(2, c) for c in '{"x": 1}'),
        ToolCallEnd(2, ToolCallPart("c1", "f", '{"x": 1}')),
        UsageUpdate(Usage(5, 1)), StreamDone(FinishReason.TOOL_CALLS, usage=Usage(5, 9))]
    merged = coalesce(events)
    assert len(merged) == 7
    assert accumulate(merged) == accumulate(events)
