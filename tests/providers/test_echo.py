"""The echo provider's documented rules (docs/echo.md), through its core API."""

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.embeddings import EmbedRequest
from llm_gateway.core.errors import (
    InvalidRequest,
    UpstreamBillingFailed,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from llm_gateway.core.events import StreamDone, StreamStart
from llm_gateway.core.types import (
    ChatRequest,
    FinishReason,
    FunctionTool,
    GenerationConfig,
    JsonObjectFormat,
    Message,
    ReasoningConfig,
    ReasoningEffort,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolChoiceMode,
    ToolResultPart,
)
from llm_gateway.providers.base import CallContext
from llm_gateway.providers.echo import EchoProvider, signature_for

CTX = CallContext(model="echo", request_id="r1")


def user(text: str) -> Message:
    return Message(Role.USER, (TextPart(text),))


def request(*messages: Message, **kwargs: object) -> ChatRequest:
    return ChatRequest(model="echo", messages=messages or (user("hello big world"),),
                       **kwargs)  # type: ignore[arg-type]


async def test_replies_with_the_last_user_text() -> None:
    response = await EchoProvider().chat(request(user("first"), user("hello big world")), CTX)
    assert response.message.parts == (TextPart("hello big world"),)
    assert response.finish_reason is FinishReason.STOP
    assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 3)


async def test_stream_rebuilds_the_unary_response() -> None:
    echo = EchoProvider()
    for req in (
        request(),
        request(reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH)),
        request(tools=(FunctionTool("a"), FunctionTool("b")),
                tool_choice=ToolChoice(ToolChoiceMode.REQUIRED)),
    ):
        events = [e async for e in echo.stream(req, CTX)]
        assert isinstance(events[0], StreamStart) and isinstance(events[-1], StreamDone)
        assert accumulate(events) == await echo.chat(req, CTX)
        assert sum(isinstance(e, StreamDone) for e in events) == 1


async def test_required_tool_choice_calls_every_tool_in_parallel() -> None:
    tools = (FunctionTool("get_weather"), FunctionTool("get_time"))
    response = await EchoProvider().chat(
        request(tools=tools, tool_choice=ToolChoice(ToolChoiceMode.REQUIRED)), CTX)
    assert response.message.parts == (
        ToolCallPart("call_1_0", "get_weather", '{"text":"hello big world"}'),
        ToolCallPart("call_1_1", "get_time", '{"text":"hello big world"}'),
    )
    assert response.finish_reason is FinishReason.TOOL_CALLS
    serial = await EchoProvider().chat(request(tools=tools, tool_choice=ToolChoice(
        ToolChoiceMode.REQUIRED, parallel_tool_calls=False)), CTX)
    assert [p.name for p in serial.message.parts] == ["get_weather"]  # type: ignore[union-attr]


async def test_named_tool_then_tool_results() -> None:
    echo = EchoProvider()
    first = await echo.chat(request(tools=(FunctionTool("a"), FunctionTool("b")),
                                    tool_choice=ToolChoice(function_name="b")), CTX)
    (call,) = first.message.parts
    assert isinstance(call, ToolCallPart) and call.name == "b"
    follow_up = request(
        user("hello big world"), first.message,
        Message(Role.TOOL, (ToolResultPart(call.id, (TextPart("42"),), name="b"),)),
        tools=(FunctionTool("b"),), tool_choice=ToolChoice(function_name="b"))
    second = await echo.chat(follow_up, CTX)
    assert second.message.parts == (TextPart("Tool results: b=42"),)
    assert second.finish_reason is FinishReason.STOP


async def test_reasoning_is_signed_and_checked_on_the_way_back() -> None:
    echo = EchoProvider()
    first = await echo.chat(request(reasoning=ReasoningConfig(budget_tokens=100)), CTX)
    thought = first.message.parts[0]
    assert isinstance(thought, ReasoningPart)
    assert thought.signature == signature_for(thought.text) and thought.provider_type == "echo"
    assert first.usage.reasoning_tokens == 5
    # Sent back unchanged: accepted.
    await echo.chat(request(user("q"), first.message, user("again")), CTX)
    # Altered: refused, naming the field.
    forged = Message(Role.ASSISTANT, (ReasoningPart("forged", thought.signature,
                                                    provider_type="echo"),))
    with pytest.raises(InvalidRequest) as exc:
        await echo.chat(request(user("q"), forged, user("again")), CTX)
    assert exc.value.violations[0].field == "input.messages[1].parts[0].reasoning.signature"


async def test_limits_stop_sequences_and_json() -> None:
    echo = EchoProvider()
    short = await echo.chat(request(generation=GenerationConfig(max_output_tokens=2)), CTX)
    assert short.message.parts == (TextPart("hello big"),)
    assert short.finish_reason is FinishReason.LENGTH
    stopped = await echo.chat(request(generation=GenerationConfig(stop_sequences=(" big",))),
                              CTX)
    assert stopped.message.parts == (TextPart("hello"),)
    assert stopped.stop_sequence == " big"
    as_json = await echo.chat(request(response_format=JsonObjectFormat()), CTX)
    assert as_json.message.parts == (TextPart('{"echo":"hello big world"}'),)


async def test_embeddings_are_deterministic_unit_vectors() -> None:
    echo = EchoProvider()
    a = await echo.embed(EmbedRequest("echo-embed", ("x", "y", "x")), CTX)
    assert len(a.vectors) == 3 and len(a.vectors[0]) == 16
    assert a.vectors[0] == a.vectors[2] != a.vectors[1]
    assert abs(sum(v * v for v in a.vectors[1]) - 1.0) < 1e-9
    b = await echo.embed(EmbedRequest("echo-embed", ("x",), dimensions=40), CTX)
    assert len(b.vectors[0]) == 40


async def test_failure_options() -> None:
    echo = EchoProvider()
    with pytest.raises(UpstreamRateLimited) as exc:
        await echo.chat(request(provider_options={"echo": {"fail": "rate_limited"}}), CTX)
    assert exc.value.retry_after == 2.0
    with pytest.raises(UpstreamBillingFailed) as billing:
        await echo.chat(request(provider_options={"echo": {"fail": "billing"}}), CTX)
    assert (billing.value.retry_after, billing.value.metadata["upstream_status"]) == (None, "402")
    events = []
    with pytest.raises(UpstreamUnavailable):
        async for event in echo.stream(request(provider_options={
                "echo": {"fail": "unavailable", "fail_after_events": 2}}), CTX):
            events.append(event)
    assert len(events) == 2
    with pytest.raises(InvalidRequest) as bad:
        await echo.chat(request(provider_options={"echo": {"warp": 9, "fail": "x"}}), CTX)
    assert "unknown echo option(s): fail" not in str(bad.value)
    assert "warp" in str(bad.value)
