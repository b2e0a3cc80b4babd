"""The `application/vnd.amazon.eventstream` framing of ConverseStream,
decoded by botocore.

Each message is a binary frame: a prelude (total length, headers length,
CRC32 of both), typed headers, a payload and a CRC32 of the whole message.
botocore's `EventStreamBuffer` takes raw bytes in any split, validates both
checksums and yields complete messages; this module only feeds it the chunks
as they arrive and turns its parser errors into UPSTREAM_PROTOCOL_ERROR.

The encoding: https://docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html
(the same for every AWS streaming API). Headers that matter here:
`:message-type` is `event`,
`exception` or `error`; events carry `:event-type` (messageStart, ...),
modeled exceptions `:exception-type`, service errors `:error-code` and
`:error-message`. Payloads are JSON.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from botocore.eventstream import EventStreamBuffer, ParserError

from ...core.errors import UpstreamProtocolError
from ..reads import framed


@dataclass(frozen=True, slots=True)
class Frame:
    message_type: str  # "event" | "exception" | "error"
    # The event name, exception type or error code, by message type.
    kind: str
    payload: bytes
    error_message: str = ""


class FrameDecoder:
    """Raw bytes in, complete frames out. Feed chunks as they arrive; call
    `close()` at the end of the body to detect a truncated frame."""

    __slots__ = ("_buffer", "_model", "_pending", "_provider")

    def __init__(self, provider: str, model: str) -> None:
        self._buffer = EventStreamBuffer()
        self._provider = provider
        self._model = model
        # Bytes received but not yet consumed by a complete frame.
        self._pending = 0

    def feed(self, chunk: bytes) -> Iterator[Frame]:
        """The frames completed by `chunk`, each yielded before a corrupt
        frame that follows it raises."""
        self._buffer.add_data(chunk)
        self._pending += len(chunk)
        while True:
            try:
                message = next(self._buffer)
            except StopIteration:
                return
            # botocore raises ParserError subclasses (ChecksumMismatch,
            # InvalidHeadersLength, ...); a frame whose checksums match but
            # whose headers are garbage surfaces as struct/lookup errors.
            except (ParserError, struct.error, KeyError, IndexError, UnicodeDecodeError) as exc:
                raise UpstreamProtocolError(
                    f"the event stream carried a corrupt frame ({type(exc).__name__})",
                    provider=self._provider, model=self._model) from None
            self._pending -= message.prelude.total_length
            yield _frame(message.headers, message.payload)

    def close(self) -> list[Frame]:
        if self._pending:
            raise UpstreamProtocolError(
                f"the event stream ended inside a frame ({self._pending} bytes left over)",
                provider=self._provider, model=self._model)
        return []


def _frame(headers: dict[str, object], payload: bytes) -> Frame:
    message_type = str(headers.get(":message-type", ""))
    if message_type == "event":
        kind = headers.get(":event-type", "")
    elif message_type == "exception":
        kind = headers.get(":exception-type", "")
    else:
        kind = headers.get(":error-code", "")
    return Frame(message_type, str(kind), payload, str(headers.get(":error-message", "")))


def iter_frames(chunks: AsyncIterator[bytes], provider: str, model: str
                ) -> AsyncIterator[list[Frame]]:
    """The frames of a response body, a list per read (providers/reads.py)."""
    return framed(chunks, FrameDecoder(provider, model))
