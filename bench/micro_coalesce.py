"""Per-event cost of stream coalescing (core/coalesce.py), in microseconds.

    .venv/bin/python bench/micro_coalesce.py

A source of 20,000 text deltas, either all ready at once (one network read
carrying many events) or suspending before each one (a real model's token
stream: one read per token), consumed plainly and through `coalesce`.
Figures are in bench/README.md ("What was done").
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable

from llm_gateway.core.coalesce import coalesce
from llm_gateway.core.events import StreamEvent, TextDelta

EVENTS = 20_000
ROUNDS = 5


async def source(suspend: bool) -> AsyncIterator[StreamEvent]:
    for _ in range(EVENTS):
        if suspend:
            await asyncio.sleep(0)  # one turn of the loop, as a read that had to wait
        yield TextDelta(0, "x")


def plain(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    return events


async def per_event_us(wrap: Callable[[AsyncIterator[StreamEvent]], AsyncIterator[StreamEvent]],
                       suspend: bool) -> tuple[float, int]:
    started = time.perf_counter()
    out = 0
    async for _ in wrap(source(suspend)):
        out += 1
    return (time.perf_counter() - started) / EVENTS * 1e6, out


async def main() -> None:
    print(f"{'source':<24} {'consumer':<10} {'us/event':>9} {'messages out':>13}")
    for suspend in (False, True):
        for name, wrap in (("plain", plain), ("coalesce", coalesce)):
            runs = [await per_event_us(wrap, suspend) for _ in range(ROUNDS)]
            label = "suspends before each" if suspend else "all ready"
            print(f"{label:<24} {name:<10} {statistics.median(r[0] for r in runs):>9.2f} "
                  f"{runs[0][1]:>13,}")


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
