"""Incremental newline-delimited JSON framing (Ollama's streams), pure.

It yields each complete line; the adapter parses it (see client.parse_json),
so a malformed line becomes the adapter's UPSTREAM_PROTOCOL_ERROR.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ..reads import framed


class NDJSONDecoder:
    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buffer = self._buffer + chunk if self._buffer else chunk
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        return [line for line in lines if line.strip()]

    def close(self) -> list[bytes]:
        rest, self._buffer = self._buffer, b""
        return [rest] if rest.strip() else []


def iter_ndjson(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    """The lines of a byte stream, a list per read (providers/reads.py)."""
    return framed(chunks, NDJSONDecoder())
