"""Streams decoded a network read at a time.

An adapter's stream yields, for each read of the upstream's body, the list of
events decoded from it (`ProviderBase.stream_reads`). The gateway merges what
arrived together (core/coalesce.py) and pays the per-event machinery of an
async generator once per read, not once per event: one read of a fast
upstream carries dozens of SSE events.

    framed(chunks, SSEDecoder())    bytes  -> a list of SSE events per read
    decode_reads(reads, each(step)) items  -> a list of neutral events per read
    flatten(reads)                  lists  -> the events one at a time

`each(step)` decodes a read's items one at a time; an adapter whose reads
can be decoded faster as a whole (OpenAI's: one pass for a read's chunks of
plain text) passes its own read decoder instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from typing import Protocol, TypeVar

from ..core.errors import GatewayError, UpstreamProtocolError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Event = TypeVar("Event")
Framed = TypeVar("Framed", covariant=True)


class Framing(Protocol[Framed]):
    """A pure, incremental framing decoder (SSE, NDJSON, AWS event stream)."""

    def feed(self, chunk: bytes) -> list[Framed]:
        """The items this chunk completes."""

    def close(self) -> list[Framed]:
        """The end of the body: what it completes, or an error for a torn item."""


async def framed(chunks: AsyncIterator[bytes], framing: Framing[Item]
                 ) -> AsyncIterator[list[Item]]:
    """The items of a byte stream, a list per read: each item as soon as its
    last byte arrives; reads that complete no item yield nothing."""
    async for chunk in chunks:
        items = framing.feed(chunk)
        if items:
            yield items
    items = framing.close()
    if items:
        yield items


# Decodes one framed item (an SSE event, an NDJSON line, an event-stream
# frame), appending the events it yields to the list; True when the item ends
# the stream (nothing may follow it).
Step = Callable[[Item, list[Event]], bool]
# The same for all the items of one read, in order: True when one of them
# ended the stream (the items after it are ignored).
ReadStep = Callable[[Sequence[Item], list[Event]], bool]


def each(step: Step[Item, Event]) -> ReadStep[Item, Event]:
    """A read's items decoded one at a time by `step`."""

    def read(items: Sequence[Item], out: list[Event]) -> bool:
        for item in items:
            if step(item, out):
                return True
        return False

    return read


# What a decoder raises when an upstream item has an unexpected shape (a
# string where an object belongs, a list where a number does): decoders are
# pure functions of the upstream's data, written for its documented shapes.
SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


async def decode_reads(reads: AsyncIterator[Sequence[Item]], decode: ReadStep[Item, Event],
                       *, provider: str, model: str) -> AsyncIterator[list[Event]]:
    """The events of each read's items, one list per read (none when a read
    decodes to nothing). An upstream error raised by `decode` comes after the
    events it decoded before the error, as it would have one event at a time;
    an item of an unexpected shape is an UpstreamProtocolError, not a crash."""
    async with aclosing(reads):  # ending early must not leave the framing open
        async for items in reads:
            out: list[Event] = []
            error: GatewayError | None = None
            ended = False
            try:
                ended = decode(items, out)
            except GatewayError as exc:
                error = exc
            except SHAPE_ERRORS as exc:
                # Logged with its traceback: a decoder's own bug looks the same.
                log.warning("an upstream stream item of an unexpected shape",
                            extra={"provider": provider, "model": model}, exc_info=exc)
                error = UpstreamProtocolError("the stream carried an item of an unexpected shape",
                                              provider=provider, model=model)
            if out:
                yield out
            if error is not None:
                raise error
            if ended:
                return


async def flatten(reads: AsyncIterator[list[Event]]) -> AsyncIterator[Event]:
    """The events of `reads` one at a time."""
    async with aclosing(reads):
        async for events in reads:
            for event in events:
                yield event
