import pytest
from llm_gateway.core.accumulate import StreamAccumulator, StreamProtocolError, accumulate
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
    FinishReason,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    Usage,
)


def test_rebuilds_every_part_kind_in_index_order() -> None:
    call = ToolCallPart("call_1", "get_weather", '{"city":"Paris"}')
    events = [
        StreamStart("msg_1", "m", upstream_request_id="req_9"),
        ReasoningDelta(0, text="Let me "),
        ReasoningDelta(0, text="think."),
        ReasoningDelta(0, signature="sig-part-1"),
        ReasoningDelta(0, signature="sig-part-2", provider_type="anthropic"),
        TextDelta(1, "Checking "),
        ToolCallStart(2, "call_1", "get_weather"),
        TextDelta(1, "now."),
        ToolCallDelta(2, '{"city":'),
        ToolCallDelta(2, '"Paris"}'),
        ToolCallEnd(2, call),
        UsageUpdate(Usage(10, 3)),
        StreamDone(FinishReason.TOOL_CALLS, "tool_use", usage=Usage(10, 7, reasoning_tokens=2)),
    ]
    response = accumulate(events)
    assert response.id == "msg_1"
    assert response.upstream_request_id == "req_9"
    assert response.message.role is Role.ASSISTANT
    assert response.message.parts == (
        ReasoningPart("Let me think.", "sig-part-1sig-part-2", provider_type="anthropic"),
        TextPart("Checking now."),
        call,
    )
    assert response.finish_reason is FinishReason.TOOL_CALLS
    assert response.provider_finish_reason == "tool_use"
    assert response.usage == Usage(10, 7, reasoning_tokens=2)


def test_tool_call_without_end_uses_concatenated_fragments() -> None:
    response = accumulate([
        StreamStart("x", "m"),
        ToolCallStart(0, "c", "f", thought_signature="ts"),
        ToolCallDelta(0, "{}"),
        StreamDone(FinishReason.TOOL_CALLS),
    ])
    assert response.message.parts == (ToolCallPart("c", "f", "{}", thought_signature="ts"),)


@pytest.mark.parametrize("events, problem", [
    ([StreamStart("a", "m"), StreamStart("b", "m")], "second StreamStart"),
    ([StreamDone(FinishReason.STOP), TextDelta(0, "late")], "after StreamDone"),
    ([TextDelta(0, "a"), ToolCallDelta(0, "{")], "part 0 is text"),
])
def test_contract_violations_are_reported(events: list, problem: str) -> None:
    acc = StreamAccumulator()
    with pytest.raises(StreamProtocolError, match=problem):
        for event in events:
            acc.add(event)
