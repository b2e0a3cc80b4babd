"""SSE framing: every split of a stream decodes to the same events."""

import pytest
from llm_gateway.providers.http.ndjson import NDJSONDecoder
from llm_gateway.providers.http.sse import ServerSentEvent, SSEDecoder

STREAM = (
    b": keep-alive comment\r\n"
    b"event: message_start\r\n"
    b"data: {\"a\":\r\n"
    b"data: 1}\r\n"
    b"\r\n"
    b"data: caf\xc3\xa9\n\n"
    b"data: bad\xff\xc3\n\n"
    b"id: 7\rdata: cr-only\r\r"
    b"data:no-space\n"
    b"retry: 100\n"
    b"unknown: field\n\n"
    b"event: ping\ndata: \n\n"
    b"data: late\nevent: named\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent('{"a":\n1}', "message_start"),
    ServerSentEvent("café"),
    ServerSentEvent("bad\ufffd\ufffd"),
    ServerSentEvent("cr-only", id="7"),
    ServerSentEvent("no-space", id="7"),
    ServerSentEvent("", "ping", id="7"),
    ServerSentEvent("late", "named", id="7"),
    ServerSentEvent("[DONE]", id="7"),
]


def decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = []
    for c in chunks:
        events += decoder.feed(c)
    return events + decoder.close()


def test_whole_stream() -> None:
    assert decode([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16])
def test_every_split(size: int) -> None:
    assert decode([STREAM[i:i + size] for i in range(0, len(STREAM), size)]) == EXPECTED


def test_every_two_way_split() -> None:
    # Includes a split between \r and \n and inside the multi-byte é.
    for cut in range(len(STREAM) + 1):
        assert decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


@pytest.mark.parametrize(("read", "expected"), [
    # One-line `data:` events only: taken in one split.
    (b"data: a\n\ndata: b: c\n\ndata: \n\ndata:  two spaces\n\n",
     [ServerSentEvent("a"), ServerSentEvent("b: c"), ServerSentEvent(""),
      ServerSentEvent(" two spaces")]),
    # Anything else among them goes line by line, with the same result.
    (b"data: a\n\n\n\ndata: b\n\n", [ServerSentEvent("a"), ServerSentEvent("b")]),
    (b"data: a\ndata: b\n\ndata: c\n\n", [ServerSentEvent("a\nb"), ServerSentEvent("c")]),
    (b"data: a\n\nevent: x\ndata: b\n\n", [ServerSentEvent("a"), ServerSentEvent("b", "x")]),
    (b"data: a\n\n: keep-alive\n\ndata: b\n\n", [ServerSentEvent("a"), ServerSentEvent("b")]),
    (b"data: a\n\ndata:b\n\n", [ServerSentEvent("a"), ServerSentEvent("b")]),
    (b"data: a\n\nid: 1\n\ndata: b\n\n", [ServerSentEvent("a"), ServerSentEvent("b", id="1")]),
    (b"data: a\n\ndata: b\ndata", [ServerSentEvent("a")]),  # the rest is incomplete
])
def test_a_read_of_many_events(read: bytes, expected: list[ServerSentEvent]) -> None:
    assert SSEDecoder().feed(read) == expected


def test_event_without_blank_line_is_dropped_at_end() -> None:
    assert decode([b"data: complete\n\ndata: partial"]) == [ServerSentEvent("complete")]


def test_ndjson_lines_across_splits() -> None:
    data = b'{"a": 1}\n\n{"b": "x\\ny"}\n{"c": 3}'
    for cut in range(len(data) + 1):
        d = NDJSONDecoder()
        assert d.feed(data[:cut]) + d.feed(data[cut:]) + d.close() == [
            b'{"a": 1}', b'{"b": "x\\ny"}', b'{"c": 3}'], cut


def reference(stream: bytes) -> list[ServerSentEvent]:
    """The WHATWG algorithm, line by line, as plainly as it reads."""
    text = stream.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")[:-1]  # a last line without its end is not a line
    events, data, name, last_id = [], [], "", ""
    for line in lines:
        if line == "":
            if data:
                events.append(ServerSentEvent("\n".join(data), name or "message", last_id))
            data, name = [], ""
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value
            elif field == "id" and "\0" not in value:
                last_id = value
    return events


def test_random_streams_and_splits_decode_as_the_reference() -> None:
    import random

    rng = random.Random(7)
    pieces = [b"data: {\"a\": 1}\n\n", b"data: x\n\n", b"data:\n\n", b"data: two\ndata: lines\n\n",
              b"event: e\ndata: y\n\n", b"id: 3\n\n", b": ping\n\n", b"\n",
              b"data: caf\xc3\xa9\n\n", b"data: cr\r\n\r\n", b"retry: 1\n", b"data: \xff\n\n",
              b"data: [DONE]\n\n"]
    for _ in range(300):
        stream = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        cuts = sorted(rng.sample(range(len(stream) + 1), rng.randint(0, min(4, len(stream)))))
        chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        assert decode(chunks) == reference(stream), (stream, cuts)
