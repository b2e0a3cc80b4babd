"""The Gemini response codec alone: GenerateContentResponse (unary and SSE
fragments) -> the neutral model."""

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.errors import ContentFiltered, UnsupportedFeature, UpstreamProtocolError
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
    ChatResponse,
    FinishReason,
    ImagePart,
    Message,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    Usage,
)
from llm_gateway.providers.gemini.response_codec import (
    FINISH_REASONS,
    ChatStreamDecoder,
    decode_chat,
    decode_usage,
)

from tests.fixtures import gemini as fx


def decode(body: dict) -> ChatResponse:
    return decode_chat(body, provider="gemini", model="gemini-2.5-flash",
                       upstream_request_id="req-1")


def test_text() -> None:
    assert decode(fx.TEXT) == ChatResponse(
        id="mAitaLmkHPPlz7IPvtfUqQ4", model="gemini-2.5-flash",
        message=Message(Role.ASSISTANT, (TextPart("Hello! How can I help you today?"),)),
        finish_reason=FinishReason.STOP, provider_finish_reason="STOP",
        usage=Usage(11, 9), upstream_request_id="req-1")


def test_thoughts_signature_and_usage() -> None:
    response = decode(fx.THINKING)
    assert response.message.parts == (
        ReasoningPart("**Adding the numbers**\n\n2 plus 2 is 4.", provider_type="gemini"),
        TextPart("4", thought_signature=fx.SIG_A),
    )
    # input includes cached; output includes thoughts.
    assert response.usage == Usage(input_tokens=120, output_tokens=61,
                                   cached_input_tokens=100, reasoning_tokens=60)
    assert response.model == "gemini-2.5-pro"


def test_parallel_function_calls_get_stable_ids() -> None:
    response = decode(fx.FUNCTION_CALLS)
    assert response.message.parts == (
        ToolCallPart("call_fc-1_0", "get_weather", '{"location":"Paris"}',
                     thought_signature=fx.SIG_B),
        ToolCallPart("call_fc-1_1", "get_time", '{"tz":"Europe/Paris"}'),
    )
    assert (response.finish_reason, response.provider_finish_reason) == (
        FinishReason.TOOL_CALLS, "STOP")
    assert decode(fx.FUNCTION_CALLS) == response  # the same ids every time


def test_gemini_call_ids_are_kept() -> None:
    assert decode(fx.FUNCTION_CALL_WITH_ID).message.parts == (
        ToolCallPart("fc_7f3a", "get_weather", "{}"),)


def test_tool_use_prompt_tokens_count_as_input() -> None:
    assert decode_usage({"promptTokenCount": 10, "toolUsePromptTokenCount": 5,
                         "candidatesTokenCount": 3}) == Usage(15, 3)
    assert decode_usage(None) == Usage()


@pytest.mark.parametrize("raw, expected", [
    ("FINISH_REASON_UNSPECIFIED", FinishReason.UNSPECIFIED),
    ("STOP", FinishReason.STOP),
    ("MAX_TOKENS", FinishReason.LENGTH),
    ("SAFETY", FinishReason.CONTENT_FILTER),
    ("RECITATION", FinishReason.CONTENT_FILTER),
    ("LANGUAGE", FinishReason.OTHER),
    ("OTHER", FinishReason.OTHER),
    ("BLOCKLIST", FinishReason.CONTENT_FILTER),
    ("PROHIBITED_CONTENT", FinishReason.CONTENT_FILTER),
    ("SPII", FinishReason.CONTENT_FILTER),
    ("MALFORMED_FUNCTION_CALL", FinishReason.MALFORMED_TOOL_CALL),
    ("IMAGE_SAFETY", FinishReason.CONTENT_FILTER),
    ("IMAGE_PROHIBITED_CONTENT", FinishReason.CONTENT_FILTER),
    ("IMAGE_RECITATION", FinishReason.CONTENT_FILTER),
    ("IMAGE_OTHER", FinishReason.OTHER),
    ("NO_IMAGE", FinishReason.OTHER),
    ("UNEXPECTED_TOOL_CALL", FinishReason.MALFORMED_TOOL_CALL),
    ("TOO_MANY_TOOL_CALLS", FinishReason.OTHER),
    ("SOMETHING_NEW", FinishReason.OTHER),
])
def test_every_finish_reason(raw: str, expected: FinishReason) -> None:
    response = decode(fx.candidate_finish(raw))
    assert (response.finish_reason, response.provider_finish_reason) == (expected, raw)
    assert response.message.parts == ()


def test_the_table_covers_every_documented_reason() -> None:
    assert len(FINISH_REASONS) == 18


def test_a_blocked_prompt_is_content_filtered() -> None:
    with pytest.raises(ContentFiltered) as exc:
        decode(fx.BLOCKED_PROMPT)
    assert "SAFETY" in exc.value.message
    assert exc.value.metadata["upstream_request_id"] == "req-1"


def test_no_candidates_is_a_protocol_error() -> None:
    with pytest.raises(UpstreamProtocolError):
        decode({"modelVersion": "x"})


def test_signature_only_parts_and_images() -> None:
    body = {"candidates": [{"content": {"parts": [
        {"text": "Here:"},
        {"inlineData": {"mimeType": "image/png", "data": "AAE="}},
        {"thoughtSignature": fx.SIG_A},
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
    ]}, "finishReason": "STOP"}]}
    assert decode(body).message.parts == (
        TextPart("Here:"), ImagePart("image/png", data=b"\x00\x01"),
        TextPart("", thought_signature=fx.SIG_A))
    with pytest.raises(UpstreamProtocolError):
        decode({"candidates": [{"content": {"parts": [
            {"inlineData": {"mimeType": "image/png", "data": "!!"}}]}}]})


# --- stream -------------------------------------------------------------------------


def run(frames: list[dict]) -> list:
    decoder = ChatStreamDecoder("gemini", "gemini-2.5-flash", "req-s")
    events = [ev for f in frames for ev in decoder.feed(f)]
    return events + decoder.finish()


def test_stream_text() -> None:
    assert run(fx.STREAM_TEXT) == [
        StreamStart("stream-1", "gemini-2.5-flash", "req-s"),
        TextDelta(0, "Hello"),
        UsageUpdate(Usage(9, 0)),
        TextDelta(0, " there"),  # the repeated usage is not sent again
        TextDelta(0, "!"),
        UsageUpdate(Usage(9, 3)),
        StreamDone(FinishReason.STOP, "STOP", usage=Usage(9, 3)),
    ]


def test_stream_thoughts_then_whole_function_calls() -> None:
    events = run(fx.STREAM_THINKING_TOOLS)
    weather = ToolCallPart("call_stream-1_0", "get_weather", '{"location":"Paris"}',
                           thought_signature=fx.SIG_B)
    time = ToolCallPart("call_stream-1_1", "get_time", "{}")
    final = Usage(30, 32, reasoning_tokens=20)
    assert events == [
        StreamStart("stream-1", "gemini-2.5-flash", "req-s"),
        ReasoningDelta(0, "Need the weather", provider_type="gemini"),
        UsageUpdate(Usage(9, 0)),
        ReasoningDelta(0, " and the time.", provider_type="gemini"),
        ToolCallStart(1, weather.id, "get_weather", thought_signature=fx.SIG_B),
        ToolCallDelta(1, '{"location":"Paris"}'),
        ToolCallEnd(1, weather),
        ToolCallStart(2, time.id, "get_time"),
        ToolCallDelta(2, "{}"),
        ToolCallEnd(2, time),
        UsageUpdate(final),
        StreamDone(FinishReason.TOOL_CALLS, "STOP", usage=final),
    ]
    assert accumulate(events).message.parts == (
        ReasoningPart("Need the weather and the time.", provider_type="gemini"), weather, time)


def test_a_signature_at_the_end_closes_the_text_part() -> None:
    rebuilt = accumulate(run(fx.STREAM_SIGNATURE_AT_END))
    assert rebuilt.message.parts == (TextPart("The answer is 4.", thought_signature=fx.SIG_A),)


def test_text_after_a_signed_part_starts_a_new_part() -> None:
    frames = [fx.frame([{"text": "A", "thoughtSignature": fx.SIG_A}]),
              fx.frame([{"text": "B"}]),
              fx.frame([{"text": "C", "thoughtSignature": fx.SIG_B}], "STOP")]
    rebuilt = accumulate(run(frames))
    assert rebuilt.message.parts == (TextPart("A", thought_signature=fx.SIG_A),
                                     TextPart("BC", thought_signature=fx.SIG_B))


def test_stream_and_unary_decode_agree() -> None:
    unary = decode(fx.FUNCTION_CALLS)
    frames = [{**fx.FUNCTION_CALLS, "candidates": [{**fx.FUNCTION_CALLS["candidates"][0]}]}]
    streamed = accumulate(run(frames))
    assert streamed.message == unary.message
    assert (streamed.finish_reason, streamed.usage) == (unary.finish_reason, unary.usage)


def test_eof_without_finish_reason_is_a_protocol_error() -> None:
    decoder = ChatStreamDecoder("gemini", "m")
    decoder.feed(fx.STREAM_TEXT[0])
    assert not decoder.finished
    with pytest.raises(UpstreamProtocolError):
        decoder.finish()


def test_stream_blocked_prompt_and_images() -> None:
    with pytest.raises(ContentFiltered):
        ChatStreamDecoder("gemini", "m").feed(fx.BLOCKED_PROMPT)
    with pytest.raises(UnsupportedFeature, match="image output in a stream"):
        ChatStreamDecoder("gemini", "m").feed(
            fx.frame([{"inlineData": {"mimeType": "image/png", "data": "AAE="}}]))
