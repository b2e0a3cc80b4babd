"""Gateway.stream: the stream contract holds whatever an adapter yields, and
what arrived in one read is coalesced."""

from collections.abc import AsyncIterator

import pytest
from llm_gateway.core.errors import UpstreamProtocolError
from llm_gateway.core.events import (
    StreamDone,
    StreamEvent,
    StreamStart,
    TextDelta,
    UsageUpdate,
)
from llm_gateway.core.models import Capabilities
from llm_gateway.core.types import ChatRequest, FinishReason, Message, Role, TextPart, Usage
from llm_gateway.gateway import Gateway
from llm_gateway.providers.base import CallContext, ModelSpec, ProviderBase

DONE = StreamDone(FinishReason.STOP, usage=Usage(1, 2))


class Scripted(ProviderBase):
    """An adapter whose stream is a fixed list of reads."""

    type = "scripted"
    chat_capabilities = Capabilities(chat=True, streaming=True)

    def __init__(self, *reads: list[StreamEvent]) -> None:
        super().__init__("scripted", [ModelSpec("m")])
        self.reads = reads
        self.read_count = 0
        self.closed = False

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        try:
            for read in self.reads:
                self.read_count += 1
                yield read
        finally:
            self.closed = True


async def run(provider: Scripted) -> list[StreamEvent]:
    gateway = Gateway({"scripted": provider}, {})
    request = ChatRequest("scripted/m", (Message(Role.USER, (TextPart("hi"),)),))
    return [e async for e in gateway.stream(request, request_id="rid")]


async def test_reads_are_coalesced_and_start_is_stamped() -> None:
    provider = Scripted([StreamStart("id", "m"), TextDelta(0, "a"), TextDelta(0, "b")],
                        [TextDelta(0, "c"), UsageUpdate(Usage(1, 1)), DONE])
    assert await run(provider) == [
        StreamStart("id", "m", provider="scripted", request_id="rid"), TextDelta(0, "ab"),
        TextDelta(0, "c"), DONE]
    assert provider.closed


async def test_a_missing_start_is_added_and_a_second_one_dropped() -> None:
    events = await run(Scripted([TextDelta(0, "a")], [StreamStart("late", "m"), DONE]))
    assert events == [StreamStart("", "m", provider="scripted", request_id="rid"),
                      TextDelta(0, "a"), DONE]


async def test_nothing_follows_done_and_the_adapter_is_not_read_further() -> None:
    provider = Scripted([TextDelta(0, "a"), DONE, TextDelta(0, "in the same read")],
                        [TextDelta(0, "in the next read")], [TextDelta(0, "never read")])
    events = await run(provider)
    assert events[1:] == [TextDelta(0, "a"), DONE]
    assert provider.read_count == 2 and provider.closed


async def test_a_stream_without_done_is_a_protocol_error() -> None:
    with pytest.raises(UpstreamProtocolError, match="ended before the response was complete"):
        await run(Scripted([StreamStart("id", "m"), TextDelta(0, "a")]))
