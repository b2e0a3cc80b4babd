"""Coalescing: deltas that are ready together leave as one; nothing waits."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.coalesce import coalesce, merge
from llm_gateway.core.errors import UpstreamUnavailable
from llm_gateway.core.events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageUpdate,
)
from llm_gateway.core.types import FinishReason, Usage


def test_merge_rules() -> None:
    assert merge(TextDelta(0, "a", "s1"), TextDelta(0, "b", "s2")) == TextDelta(0, "ab", "s1s2")
    assert merge(ToolCallDelta(2, "{"), ToolCallDelta(2, "}")) == ToolCallDelta(2, "{}")
    assert merge(ReasoningDelta(1, "x", "sig", b"\x01", "id1", "anthropic"),
                 ReasoningDelta(1, "y", "nature", b"\x02")) == ReasoningDelta(
        1, "xy", "signature", b"\x01\x02", "id1", "anthropic")
    assert merge(TextDelta(0, "a"), TextDelta(1, "b")) is None
    assert merge(TextDelta(0, "a"), ToolCallDelta(0, "b")) is None
    assert merge(StreamStart("i", "m"), StreamStart("i", "m")) is None
    done = StreamDone(FinishReason.STOP, usage=Usage(3, 4))
    assert merge(UsageUpdate(Usage(3, 1)), UsageUpdate(Usage(3, 2))) == UsageUpdate(Usage(3, 2))
    assert merge(UsageUpdate(Usage(3, 2)), done) == done
    assert merge(done, UsageUpdate(Usage(3, 2))) is None


class Source:
    """Yields scripted batches; between batches it waits for the test."""

    def __init__(self, *batches: list[StreamEvent], fail: Exception | None = None) -> None:
        self.batches = batches
        self.fail = fail
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()
        self.cancelled = False

    async def events(self) -> AsyncIterator[StreamEvent]:
        try:
            for i, batch in enumerate(self.batches):
                if i:
                    self.waiting.set()
                    await self.release.wait()
                    self.release.clear()
                for event in batch:
                    yield event
            if self.fail is not None:
                raise self.fail
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_ready_deltas_merge_and_nothing_waits_for_more() -> None:
    source = Source(
        [StreamStart("i", "m"), TextDelta(0, "Hel"), TextDelta(0, "lo"), ToolCallStart(1, "c", "f"),
         ToolCallDelta(1, '{"a"'), ToolCallDelta(1, ": 1}")],
        [TextDelta(2, " late")],
        [StreamDone(FinishReason.STOP)])
    stream = coalesce(source.events())
    got = [await anext(stream) for _ in range(3)]
    assert got == [StreamStart("i", "m"), TextDelta(0, "Hello"), ToolCallStart(1, "c", "f")]
    # The merged tool delta goes out while the source is blocked on more input.
    assert await anext(stream) == ToolCallDelta(1, '{"a": 1}')
    assert source.waiting.is_set()
    source.release.set()
    assert await anext(stream) == TextDelta(2, " late")
    source.release.set()
    rest = [e async for e in stream]
    assert rest == [StreamDone(FinishReason.STOP)]


async def test_coalescing_keeps_the_rebuilt_response() -> None:
    events: list[StreamEvent] = [StreamStart("i", "m"), *(TextDelta(0, c) for c in "abcdef"),
                                 StreamDone(FinishReason.STOP)]

    async def source() -> AsyncIterator[StreamEvent]:
        for event in events:
            yield event

    merged = [e async for e in coalesce(source())]
    assert len(merged) == 3
    assert accumulate(merged) == accumulate(events)


async def test_events_before_a_failure_are_delivered_then_it_raises() -> None:
    source = Source([StreamStart("i", "m"), TextDelta(0, "a"), TextDelta(0, "b")],
                    fail=UpstreamUnavailable("overloaded", provider="p"))
    received = []
    with pytest.raises(UpstreamUnavailable):
        async for event in coalesce(source.events()):
            received.append(event)
    assert received == [StreamStart("i", "m"), TextDelta(0, "ab")]


async def test_closing_early_cancels_the_pending_read() -> None:
    source = Source([TextDelta(0, "a")], [TextDelta(0, "never")])
    stream = coalesce(source.events())
    assert await anext(stream) == TextDelta(0, "a")  # the read of the next one is pending
    await stream.aclose()
    assert source.cancelled


async def test_a_read_resumed_after_suspending_delivers_and_can_be_cancelled() -> None:
    source = Source([TextDelta(0, "a")], [TextDelta(0, "b")], [TextDelta(0, "never")])
    received: asyncio.Queue[StreamEvent] = asyncio.Queue()

    async def consume() -> None:
        async for event in coalesce(source.events()):
            received.put_nowait(event)

    consumer = asyncio.ensure_future(consume())
    # Each get returns once the consumer is suspended again, in the next read.
    assert await received.get() == TextDelta(0, "a")
    source.release.set()
    assert await received.get() == TextDelta(0, "b")  # the suspended read, resumed
    consumer.cancel()  # while the source waits inside the read after "b"
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert source.cancelled
