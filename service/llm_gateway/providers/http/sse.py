"""Incremental Server-Sent Events decoder (WHATWG HTML, "event stream
interpretation"), pure and transport-free.

Feed it bytes as they arrive, in any split; it returns the complete events.
Lines end with CRLF, LF or CR (a CR at the end of one chunk followed by LF at
the start of the next is one line end); lines starting with ':' are comments;
several `data:` lines join with '\\n'; a blank line dispatches the event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NamedTuple

from ..reads import framed


class ServerSentEvent(NamedTuple):
    # A tuple: a stream makes one per upstream event, and tuples are cheap.
    data: str
    event: str = "message"
    id: str = ""


_new = tuple.__new__
_NEXT_DATA = "\n\ndata: "  # a blank line, then the next event's `data:` line


class SSEDecoder:
    __slots__ = ("_buffer", "_data", "_event", "_id", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._id = ""
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._pending_cr:
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                # Might be half of a CRLF: decide when the next chunk comes.
                self._pending_cr = True
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[ServerSentEvent] = []
        if not (self._data or self._event):
            # At an event boundary: the complete events are decoded from
            # UTF-8 at once (a blank line never falls inside a character),
            # and those of one `data:` line (nearly every event of an LLM
            # stream) are taken without a line loop (while no `id:` has been
            # seen: the last event id persists), and made without the named
            # tuple's keyword-handling constructor.
            complete, blank, buffer = buffer.rpartition(b"\n\n")
            if blank:
                text = complete.decode("utf-8", "replace")
                datas = (text[6:].split(_NEXT_DATA) if not self._id and text[:6] == "data: "
                         else None)
                if datas is not None and complete.count(b"\n") == 2 * (len(datas) - 1):
                    # Only one-line `data:` events: every line break is in a
                    # blank line followed by the next `data: `.
                    events = [_new(ServerSentEvent, (data, "message", "")) for data in datas]
                else:
                    self._blocks(text, events)
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        for raw in lines:
            self._line(raw.decode("utf-8", "replace"), events)
        return events

    def _blocks(self, text: str, events: list[ServerSentEvent]) -> None:
        """Complete events (`text` ends at a blank line), one block at a time."""
        append = events.append
        for block in text.split("\n\n"):
            if block[:6] == "data: " and "\n" not in block and not self._id:
                append(_new(ServerSentEvent, (block[6:], "message", "")))
            else:
                for line in block.split("\n"):
                    self._line(line, events)
                self._line("", events)

    def close(self) -> list[ServerSentEvent]:
        """End of stream: a final line without terminator counts; an event
        without its blank line is incomplete and is dropped (as browsers do)."""
        events: list[ServerSentEvent] = []
        if self._buffer:
            self._line(self._buffer.decode("utf-8", "replace"), events)
            self._buffer = b""
        return events

    def _line(self, line: str, events: list[ServerSentEvent]) -> None:
        if not line:
            if self._data:
                events.append(ServerSentEvent("\n".join(self._data), self._event or "message",
                                              self._id))
            self._data = []
            self._event = ""
            return
        if line[0] == ":":  # a comment (keep-alives)
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        # "retry" and unknown fields are ignored.


def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[ServerSentEvent]]:
    """The events of a byte stream, a list per read (providers/reads.py)."""
    return framed(chunks, SSEDecoder())
