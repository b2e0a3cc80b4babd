"""Streams decoded a read at a time: a list per read, errors after what came
before them, the framing closed when the stream ends early."""

from collections.abc import AsyncIterator

import pytest
from llm_gateway.core.errors import UpstreamProtocolError
from llm_gateway.providers.reads import ReadStep, decode_reads, each, flatten


class Reads:
    def __init__(self, *reads: list[str]) -> None:
        self.reads = reads
        self.closed = False

    async def __call__(self) -> AsyncIterator[list[str]]:
        try:
            for read in self.reads:
                yield read
        finally:
            self.closed = True


def decoded(reads: AsyncIterator[list[str]], decode: ReadStep[str, str]
            ) -> AsyncIterator[list[str]]:
    return decode_reads(reads, decode, provider="p", model="m")


def step(item: str, out: list[str]) -> bool:
    if item == "bad":
        raise UpstreamProtocolError("bad item", provider="p")
    if item != "skip":
        out.append(item.upper())
    return item == "end"


async def test_one_list_per_read_and_none_for_a_read_that_decodes_to_nothing() -> None:
    reads = Reads(["a", "b"], ["skip"], ["c"])
    assert [r async for r in decoded(reads(), each(step))] == [["A", "B"], ["C"]]
    assert reads.closed


async def test_an_error_comes_after_the_events_decoded_before_it() -> None:
    got = []
    with pytest.raises(UpstreamProtocolError):
        async for events in decoded(Reads(["a"], ["b", "bad", "c"])(), each(step)):
            got.append(events)
    assert got == [["A"], ["B"]]


async def test_the_terminal_item_ends_the_stream_and_closes_the_framing() -> None:
    reads = Reads(["a", "end", "after"], ["never"])
    assert [r async for r in decoded(reads(), each(step))] == [["A", "END"]]
    assert reads.closed


async def test_flatten_gives_the_events_one_at_a_time() -> None:
    reads = Reads(["a", "b"], ["c"])
    stream = flatten(decoded(reads(), each(step)))
    assert await anext(stream) == "A"
    await stream.aclose()  # closing early closes everything below
    assert reads.closed


async def test_a_read_decoder_takes_each_read_whole() -> None:
    seen = []

    def read(items: list[str], out: list[str]) -> bool:
        seen.append(list(items))
        out.append("+".join(items))
        return "end" in items

    reads = Reads(["a", "b"], ["c", "end"], ["never"])
    assert [r async for r in decoded(reads(), read)] == [["a+b"], ["c+end"]]
    assert seen == [["a", "b"], ["c", "end"]]
    assert reads.closed


async def test_an_item_of_an_unexpected_shape_is_a_protocol_error() -> None:
    def shaped(item: str, out: list[str]) -> bool:
        out.append({"ok": "OK"}[item])  # KeyError for anything else
        return False

    got = []
    with pytest.raises(UpstreamProtocolError, match="unexpected shape") as exc:
        async for events in decoded(Reads(["ok"], ["ok", "[1, 2]"])(), each(shaped)):
            got.append(events)
    assert got == [["OK"], ["OK"]]  # what came before it first
    assert exc.value.metadata["provider"] == "p"
