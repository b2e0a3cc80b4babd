"""Coalescing of stream events that are ready at the same time.

Each gRPC stream message costs the server far more than merging two deltas
(bench/README.md: several thread hand-offs per message). When an adapter has
several events decoded and waiting (one network read often carries many SSE
events, and a busy gateway falls behind a fast upstream), adjacent deltas of
the same part are sent as one. Nothing ever waits for more input: an event
goes out as soon as the next one is not already available, so an idle stream
sees each event exactly when it would have without coalescing.

Merging keeps the stream contract: deltas are appends (text, arguments,
signatures, redacted data), and usage is cumulative (a usage update followed
by another, or by `done` with the final usage, adds nothing), so a client
rebuilds exactly the same response.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageUpdate,
)


def merge(a: StreamEvent, b: StreamEvent) -> StreamEvent | None:
    """`a` then `b` as one event, or None when they can't be one."""
    if isinstance(a, UsageUpdate) and isinstance(b, UsageUpdate | StreamDone):
        return b  # usage is cumulative: the later value (or done's final one) supersedes
    if type(a) is not type(b) or getattr(a, "index", None) != getattr(b, "index", None):
        return None
    if isinstance(a, TextDelta) and isinstance(b, TextDelta):
        return TextDelta(a.index, a.text + b.text, a.thought_signature + b.thought_signature)
    if isinstance(a, ToolCallDelta) and isinstance(b, ToolCallDelta):
        return ToolCallDelta(a.index, a.arguments_fragment + b.arguments_fragment)
    if isinstance(a, ReasoningDelta) and isinstance(b, ReasoningDelta):
        return ReasoningDelta(a.index, a.text + b.text, a.signature + b.signature,
                              a.redacted_data + b.redacted_data, b.id or a.id,
                              b.provider_type or a.provider_type)
    return None


_MERGEABLE = (TextDelta, ToolCallDelta, ReasoningDelta, UsageUpdate)


async def coalesce(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """`events`, with adjacent mergeable deltas that are ready together merged.

    After a mergeable event, the next one is asked for without waiting: if it
    is already there (the source did not have to suspend) it may be merged;
    otherwise the held event goes out at once and the request for the next
    one stays pending. A failure of the source still delivers what arrived
    before it, then raises.
    """
    held: StreamEvent | None = None
    pending: asyncio.Future[StreamEvent] | None = None
    try:
        while True:
            try:
                if pending is not None:
                    try:
                        event = await pending
                    finally:
                        pending = None
                elif held is None or not isinstance(held, _MERGEABLE):
                    event = await anext(events)
                else:
                    pending = asyncio.ensure_future(anext(events))
                    await asyncio.sleep(0)  # let the source run until it would block
                    if not pending.done():
                        yield held  # nothing ready: don't hold this event back
                        held = None
                        continue
                    try:
                        event = pending.result()
                    finally:
                        pending = None
            except StopAsyncIteration:
                break
            except Exception:
                if held is not None:
                    yield held
                    held = None
                raise
            if held is None:
                held = event
                continue
            merged = merge(held, event)
            if merged is not None:
                held = merged
            else:
                yield held
                held = event
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
    if held is not None:
        yield held
