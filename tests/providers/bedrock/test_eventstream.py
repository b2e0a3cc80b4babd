"""Event-stream framing: any split of the bytes decodes to the same frames;
a corrupted or truncated frame is a protocol error."""

import pytest
from llm_gateway.core.errors import UpstreamProtocolError
from llm_gateway.providers.bedrock.eventstream import Frame, FrameDecoder

from tests.fixtures import bedrock as fx

STREAM = b"".join([
    fx.event("messageStart", {"role": "assistant"}),
    fx.event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "caf\u00e9"}}),
    fx.exception("throttlingException", {"message": "slow down"}),
    fx.error_frame("InternalFailure", "boom"),
])
EXPECTED = [
    Frame("event", "messageStart", b'{"role": "assistant"}'),
    Frame("event", "contentBlockDelta",
          b'{"contentBlockIndex": 0, "delta": {"text": "caf\\u00e9"}}'),
    Frame("exception", "throttlingException", b'{"message": "slow down"}'),
    Frame("error", "InternalFailure", b"", "boom"),
]


def decode(chunks: list[bytes]) -> list[Frame]:
    decoder = FrameDecoder("bedrock", "m")
    frames = [f for chunk in chunks for f in decoder.feed(chunk)]
    decoder.close()
    return frames


def test_whole_stream() -> None:
    assert decode([STREAM]) == EXPECTED


def test_split_at_every_byte_offset() -> None:
    for cut in range(len(STREAM) + 1):
        assert decode([STREAM[:cut], STREAM[cut:]]) == EXPECTED, cut


def test_one_byte_at_a_time() -> None:
    assert decode([STREAM[i:i + 1] for i in range(len(STREAM))]) == EXPECTED


def test_frames_come_out_as_soon_as_they_are_complete() -> None:
    first = fx.event("messageStart", {"role": "assistant"})
    decoder = FrameDecoder("bedrock", "m")
    assert list(decoder.feed(first[:-1])) == []
    assert list(decoder.feed(first[-1:])) == [EXPECTED[0]]


@pytest.mark.parametrize("position", ["prelude_crc", "payload", "message_crc"])
def test_a_bad_crc_is_a_protocol_error(position: str) -> None:
    good = fx.event("messageStart", {"role": "assistant"})
    index = {"prelude_crc": 9, "payload": len(good) - 8, "message_crc": len(good) - 1}[position]
    bad = bytearray(good)
    bad[index] ^= 0x01
    decoder = FrameDecoder("bedrock", "m")
    frames = []
    with pytest.raises(UpstreamProtocolError, match="corrupt frame"):
        for f in decoder.feed(good + bytes(bad)):
            frames.append(f)
    assert frames == [EXPECTED[0]]  # the frame before the corrupt one still came out


def test_a_truncated_frame_is_a_protocol_error() -> None:
    decoder = FrameDecoder("bedrock", "m")
    assert list(decoder.feed(STREAM[:-3])) == EXPECTED[:3]
    with pytest.raises(UpstreamProtocolError, match="ended inside a frame"):
        decoder.close()
