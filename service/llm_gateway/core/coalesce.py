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
from collections.abc import AsyncIterator, Generator

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


class _NextEvent:
    """`anext(source)`, run at once as far as it goes without suspending.

    If the source had the event ready, `ready` is true and `result()` gives
    it (or raises what the source raised). Otherwise the source is suspended
    on something (a read from the network), and awaiting this object resumes
    it exactly where it stopped: the steps an asyncio Task would have taken.
    It tells what a task per event would, without a task and a turn of the
    event loop per event: coalescing costs 1-2 us per event instead of about
    5 (bench/micro_coalesce.py).
    """

    __slots__ = ("_error", "_step", "_value", "_waiting_on", "ready")

    def __init__(self, source: AsyncIterator[StreamEvent]) -> None:
        self._step = anext(source).__await__()
        self._waiting_on: object = None
        self.ready = False
        self._value: StreamEvent | None = None
        self._error: BaseException | None = None
        self._advance(None)

    def _advance(self, thrown: BaseException | None) -> None:
        try:
            if thrown is None:
                self._waiting_on = self._step.send(None)
            else:
                self._waiting_on = self._step.throw(thrown)
        except StopIteration as stop:
            self.ready, self._value = True, stop.value
        except BaseException as exc:  # the source's own failure, or its end
            self.ready, self._error = True, exc

    def result(self) -> StreamEvent:
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def __await__(self) -> Generator[object, None, StreamEvent]:
        while not self.ready:
            try:
                yield self._waiting_on  # what the source awaits, to the event loop
            except BaseException as exc:  # cancelled while waiting: the source sees it
                self._advance(exc)
            else:
                self._advance(None)
        return self.result()

    async def cancel(self) -> None:
        """Cancels a suspended source read and lets the source clean up."""
        if self.ready:
            return
        self._advance(asyncio.CancelledError())
        try:
            await self
        except (asyncio.CancelledError, StopAsyncIteration, Exception):
            pass


async def coalesce(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """`events`, with adjacent mergeable deltas that are ready together merged.

    After a mergeable event, the next one is asked for without waiting: if
    the source has it ready (it did not have to suspend) it may be merged;
    otherwise the held event goes out at once and the read of the next one
    is resumed after. A failure of the source still delivers what arrived
    before it, then raises.
    """
    held: StreamEvent | None = None
    pending: _NextEvent | None = None
    try:
        while True:
            try:
                if held is None or not isinstance(held, _MERGEABLE):
                    event = await anext(events)
                else:
                    pending = _NextEvent(events)
                    if not pending.ready:
                        yield held  # nothing ready: don't hold this event back
                        held = None
                    event = await pending
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
        if pending is not None:
            await pending.cancel()
    if held is not None:
        yield held
