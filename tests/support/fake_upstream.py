"""A scriptable HTTP/1.1 server on loopback: the stand-in for an LLM provider.

It runs on its own event loop in a background thread, so both the gateway
process and synchronous or asynchronous tests can talk to it. Each test
scripts what a route answers, in the provider's documented wire format, and
afterwards asserts on what the adapter sent (method, path, query, headers,
body) and on what happened to the connection:

    upstream.on("POST", "/v1/chat/completions", Reply(json={...}))
    upstream.on("POST", "/v1/chat/completions", Stream([b"data: ...\\n\\n", gate, ...],
                                                        hold_open=True))
    exchange = upstream.wait_for_exchange()
    exchange.request.json()["model"] == "gpt-4.1-mini"
    exchange.closed.wait(5)      # the client closed the connection

Stream chunks are written one by one with a flush between them (and are
chunked-encoded); a `Gate` in the list stops the stream until the test opens
it, so a test can observe that the gateway forwards events before the
upstream has finished.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

GATE_TIMEOUT = 30.0


class Gate:
    """Holds a stream at its position until `open()` is called."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def open(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


@dataclass
class RecordedRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    chunks: list[bytes | Gate]
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {
        "content-type": "text/event-stream"})
    # After the last chunk, keep the response open (without ending it) until
    # the client goes away: for cancellation and deadline tests.
    hold_open: bool = False


@dataclass
class Raw:
    """Bytes written as they are (status line included), then the connection
    closes: for malformed responses."""

    data: bytes


Response = Reply | Stream | Raw
Handler = Callable[[RecordedRequest], Response]


@dataclass
class Exchange:
    request: RecordedRequest
    # Which TCP connection carried it (1, 2, ... in order of accept): shows
    # keep-alive reuse.
    connection: int = 0
    # The client closed the connection before or while the response was sent.
    closed: threading.Event = field(default_factory=threading.Event)
    # The whole response was written.
    finished: threading.Event = field(default_factory=threading.Event)


class FakeUpstream:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler | Response] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.exchanges: list[Exchange] = []
        self._connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fake-upstream")
        self._thread.start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    # --- scripting (any thread) -------------------------------------------

    def on(self, method: str, path: str, response: Handler | Response) -> None:
        with self._lock:
            self._routes[(method.upper(), path)] = response

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self.exchanges.clear()

    def wait_for_exchange(self, count: int = 1, timeout: float = 10.0) -> Exchange:
        """The count-th exchange since the last reset, once its request arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.exchanges) >= count, timeout):
                raise TimeoutError(f"{len(self.exchanges)} request(s) arrived, wanted {count}")
            return self.exchanges[count - 1]

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [e.request for e in self.exchanges]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        """Stops listening and ends every open connection's task."""
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- server (its own loop) ----------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections += 1  # only this thread's loop touches it
        connection = self._connections
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                exchange = Exchange(request, connection)
                with self._changed:
                    self.exchanges.append(exchange)
                    handler = self._routes.get((request.method, request.path))
                    self._changed.notify_all()
                response = _resolve(handler, request)
                try:
                    keep_open = await self._respond(response, exchange, reader, writer)
                except ConnectionError:
                    exchange.closed.set()  # the client went away while we wrote
                    return
                exchange.finished.set()
                if not keep_open:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _respond(self, response: Response, exchange: Exchange,
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        if isinstance(response, Raw):
            writer.write(response.data)
            await writer.drain()
            return False
        if isinstance(response, Reply):
            body = response.body if response.json is None else json.dumps(response.json).encode()
            headers = {"content-type": "application/json", **response.headers,
                       "content-length": str(len(body))}
            writer.write(_head(response.status, headers) + body)
            await writer.drain()
            return True
        # A stream: watch for the client going away while we write.
        watcher = asyncio.ensure_future(_wait_closed(reader, exchange))
        try:
            # The connection closes after a stream: the watcher reads from the
            # socket, and must not swallow a next request on a kept-alive one.
            headers = {**response.headers, "transfer-encoding": "chunked",
                       "connection": "close"}
            writer.write(_head(response.status, headers))
            await writer.drain()
            for chunk in response.chunks:
                if exchange.closed.is_set():
                    return False
                if isinstance(chunk, Gate):
                    await asyncio.get_running_loop().run_in_executor(
                        None, chunk.wait, GATE_TIMEOUT)
                    continue
                if chunk:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
            if response.hold_open:
                await watcher
                return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return False
        finally:
            watcher.cancel()


def _resolve(handler: Handler | Response | None, request: RecordedRequest) -> Response:
    if handler is None:
        return Reply(404, json={"error": {"message": f"fake upstream: no route for "
                                                     f"{request.method} {request.path}"}})
    if callable(handler):
        return handler(request)
    return handler


async def _wait_closed(reader: asyncio.StreamReader, exchange: Exchange) -> None:
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass
    exchange.closed.set()


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 408: "Request Timeout", 413: "Payload Too Large",
            422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout", 529: "Overloaded"}


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RecordedRequest(method.upper(), target, headers, body)


def sse(*events: Any, event_names: list[str] | None = None) -> list[bytes]:
    """SSE frames, one per event: `data: <json>\\n\\n` (with `event:` lines when
    names are given). Strings are sent as they are (e.g. "[DONE]")."""
    frames = []
    for i, event in enumerate(events):
        data = event if isinstance(event, str) else json.dumps(event)
        name = f"event: {event_names[i]}\n" if event_names else ""
        frames.append(f"{name}data: {data}\n\n".encode())
    return frames
