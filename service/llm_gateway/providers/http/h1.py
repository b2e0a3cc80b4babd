"""A lean HTTP/1.1 client: the default transport to HTTP/1.1 upstreams.

Why it exists: aiohttp cost the gateway about 0.22 ms of CPU per upstream
call, as much as gRPC's own per-call machinery (bench/floor.py). This client
does only what the gateway needs: one request at a time per connection,
keep-alive pooling per origin, bodies by Content-Length, chunked or until
close, gzip/deflate, TLS, read timeouts between bytes, and a write timeout
while the upstream does not take the request's bytes. Parsing is
llhttp's (Node's HTTP parser) through httptools (uvicorn's parser); new
connections race their addresses (happy eyeballs, aiohappyeyeballs); TLS is
asyncio's. It is one of three transports behind the seam in transport.py.

A connection whose exchange did not end cleanly (cancelled, timed out,
body left unread, `Connection: close`) is closed, never pooled, so the
upstream sees an abandoned request end at once.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import zlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast
from urllib.parse import urlsplit

import aiohappyeyeballs
import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from .transport import (
    OutgoingRequest,
    RequestTimeout,
    StreamContext,
    TransportConnectError,
    TransportError,
    TransportResponse,
    TransportTimeout,
)

Origin = tuple[str, str, int]  # scheme, host, port

# A stream whose reader falls behind stops reading the socket at HIGH
# buffered bytes (TCP pushes back on the upstream) and resumes below LOW.
HIGH_WATER = 1 << 20
LOW_WATER = 1 << 18
_FORBIDDEN = ("\r", "\n", "\0")
_SET_BY_CLIENT = frozenset({"content-length", "transfer-encoding", "connection"})
_DEFAULT_PORT = {"http": 80, "https": 443}


class _Connection(asyncio.Protocol):
    """One socket; one exchange at a time. Parser callbacks fill `_Exchange`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, origin: Origin) -> None:
        self.loop = loop
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.exchange: _Exchange | None = None

    # --- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not asyncio.Transport subclasses)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        exchange = self.exchange
        if exchange is None or exchange.complete:
            self.close()  # bytes nobody asked for: this connection can't be trusted
            return
        exchange.last_read = self.loop.time()
        try:
            exchange.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            # A callback's own failure (a bad encoding) comes as the cause.
            cause = exc.__cause__ or exc.__context__
            exchange.fail(cause if isinstance(cause, TransportError)
                          else TransportError(f"invalid HTTP response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        exchange = self.exchange
        if exchange is not None and not exchange.complete:
            exchange.end_of_input()

    # The transport calls these when its send buffer passes the high-water
    # mark and when it drains again: an upstream that stops reading the
    # request body gets the write timeout.
    def pause_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.writing_paused()

    def resume_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.writing_resumed()

    # --- the gateway's side -------------------------------------------------------

    def usable(self, now: float, keepalive: float) -> bool:
        return (not self.closed and self.transport is not None
                and not self.transport.is_closing() and now - self.idle_since < keepalive)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def start(self, head: bytes, body: bytes | None, timeout: RequestTimeout,
              streaming: bool) -> _Exchange:
        assert self.transport is not None
        exchange = _Exchange(self, timeout, streaming)
        self.exchange = exchange
        if body and len(body) > 65536:
            self.transport.writelines((head, body))  # no copy of a large body
        else:
            self.transport.write(head + body if body else head)
        return exchange


class _Exchange:
    """One response as it arrives: httptools calls the `on_*` methods."""

    def __init__(self, conn: _Connection, timeout: RequestTimeout, streaming: bool) -> None:
        self.conn = conn
        self.parser = httptools.HttpResponseParser(self)
        self.streaming = streaming
        self.status = 0
        self.headers: CIMultiDictProxy[str] | None = None
        self.complete = False
        self.keep_alive = False
        self.error: TransportError | None = None
        self._raw_headers: list[tuple[str, str]] = []
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._decoder: zlib._Decompress | None = None
        self._until_close = False
        self._informational = False
        self._waiter: asyncio.Future[None] | None = None
        self.last_read = conn.loop.time()
        self._read_timeout = timeout.read
        self._write_timeout = timeout.write
        self._timer: asyncio.TimerHandle | None = conn.loop.call_at(
            self.last_read + timeout.read, self._check_timeout)
        self._write_timer: asyncio.TimerHandle | None = None

    # --- httptools callbacks ------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # informational (103 Early Hints): the real reply follows
            self._informational = True
            self._raw_headers = []
            return
        self.status = status
        headers = CIMultiDict(self._raw_headers)
        self.headers = CIMultiDictProxy(headers)
        self._decoder = _decoder_for(headers.get("content-encoding", ""))
        self._until_close = ("content-length" not in headers
                             and "chunked" not in headers.get("transfer-encoding", "").lower())
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._decoder is not None:
            try:
                body = self._decoder.decompress(body)
            except zlib.error as exc:
                raise TransportError(f"invalid compressed body: {exc}") from None
        if body:
            self._push(body)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self.keep_alive = self.parser.should_keep_alive()
        self._finish()

    # --- events from the connection -------------------------------------------------

    def end_of_input(self) -> None:
        """The upstream closed the connection: the end of a body that runs
        until close, a failure otherwise."""
        if self.headers is not None and self._until_close and self.error is None:
            self.keep_alive = False
            self._finish()
        else:
            self.fail(TransportError("the upstream closed the connection"))

    def fail(self, error: TransportError) -> None:
        if self.complete or self.error is not None:
            return
        self.error = error
        self.stop()
        self._wake()

    def _finish(self) -> None:
        if self._decoder is not None:
            tail = self._decoder.flush()
            if tail:
                self._push(tail)
        self.complete = True
        self.stop()
        self._wake()

    def _push(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self.streaming:
            self._wake()
            if self._buffered > HIGH_WATER and not self._paused and self.conn.transport:
                self._paused = True
                self.conn.transport.pause_reading()

    def _check_timeout(self) -> None:
        self._timer = None
        if self.complete or self.error is not None:
            return
        now = self.conn.loop.time()
        if self._paused:  # a slow reader is not a slow upstream
            self._timer = self.conn.loop.call_at(now + self._read_timeout, self._check_timeout)
            return
        due = self.last_read + self._read_timeout
        if now < due:
            self._timer = self.conn.loop.call_at(due, self._check_timeout)
            return
        self.fail(TransportTimeout("ReadTimeout"))
        self.conn.close()

    def writing_paused(self) -> None:
        if self._write_timer is None and not self.complete and self.error is None:
            self._write_timer = self.conn.loop.call_later(self._write_timeout,
                                                          self._write_timed_out)

    def writing_resumed(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _write_timed_out(self) -> None:
        self._write_timer = None
        self.fail(TransportTimeout("WriteTimeout"))
        self.conn.close()

    def stop(self) -> None:
        """No more timeouts: the exchange ended, or the gateway is done with it."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.writing_resumed()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = self.conn.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    # --- the reader's side ----------------------------------------------------------

    async def head(self) -> None:
        """Waits for the status line and headers."""
        while self.headers is None:
            if self.error is not None:
                raise self.error
            await self._wait()

    async def body(self) -> bytes:
        while not self.complete:
            if self.error is not None:
                raise self.error
            await self._wait()
        return b"".join(self._chunks)

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._chunks:
                # Everything that arrived since the last read, as one: the
                # stream decoders work a read at a time (providers/reads.py).
                chunks = self._chunks
                chunk = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                self._buffered -= len(chunk)
                if self._paused and self._buffered < LOW_WATER and self.conn.transport:
                    self._paused = False
                    self.last_read = self.conn.loop.time()  # the upstream's time starts now
                    self.conn.transport.resume_reading()
                yield chunk
            elif self.error is not None:
                raise self.error
            elif self.complete:
                return
            else:
                await self._wait()


def _decoder_for(encoding: str) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, detected
    raise TransportError(f"unsupported content-encoding {encoding!r}")


def _split(url: str) -> tuple[Origin, str]:
    """The origin and the request target, sent exactly as given (no requoting:
    SigV4 signs the percent-encoded path)."""
    url = url.partition("#")[0]  # a fragment never goes on the wire
    netloc = url.find("://") + 3
    end = len(url)
    for c in "/?":  # the authority ends at the path or the query
        i = url.find(c, netloc)
        if 0 <= i < end:
            end = i
    target = url[end:]
    return _origin(url[:end]), target if target.startswith("/") else "/" + target


@functools.lru_cache(maxsize=256)
def _origin(prefix: str) -> Origin:
    """`scheme://host[:port]`, parsed once per upstream."""
    try:
        parts = urlsplit(prefix)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        raise TransportError("unsupported URL") from None
    if scheme not in _DEFAULT_PORT or not host:
        raise TransportError("unsupported URL")
    return scheme, host, port or _DEFAULT_PORT[scheme]


def _host_header(origin: Origin) -> str:
    scheme, host, port = origin
    if ":" in host:
        host = f"[{host}]"
    return host if port == _DEFAULT_PORT[scheme] else f"{host}:{port}"


def _request_head(request: OutgoingRequest, origin: Origin, target: str) -> bytes:
    lines = [f"{request.method} {target} HTTP/1.1"]
    has_host = False  # a signed request brings its own
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered in _SET_BY_CLIENT:
            continue
        has_host = has_host or lowered == "host"
        if any(c in name or c in value for c in _FORBIDDEN):
            # Never the value itself in the message: it may be a secret.
            raise TransportError(f"header {name!r} holds a line break or NUL")
        lines.append(f"{name}: {value}")
    if not has_host:
        lines.insert(1, f"Host: {_host_header(origin)}")
    if request.body is not None or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(request.body or b'')}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise TransportError("a header holds characters outside latin-1") from None


class H1Transport:
    """The transport seam (transport.Transport) over pooled `_Connection`s."""

    def __init__(self, *, max_connections: int, max_keepalive_connections: int,
                 keepalive_expiry: float, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: how https upstreams are verified (default: the system's
        trust store, hostname checked)."""
        self._slots = asyncio.Semaphore(max_connections)
        self._max_idle = max_keepalive_connections
        self._keepalive = keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._tls = tls
        self._closed = False

    async def send(self, request: OutgoingRequest, timeout: RequestTimeout
                   ) -> TransportResponse:
        conn, exchange = await self._begin(request, timeout, streaming=False)
        reusable = False
        try:
            await exchange.head()
            body = await exchange.body()
            reusable = exchange.keep_alive
            assert exchange.headers is not None
            return TransportResponse(exchange.status, exchange.headers, body)
        finally:
            self._release(conn, reusable)

    @asynccontextmanager
    async def stream(self, request: OutgoingRequest, timeout: RequestTimeout
                     ) -> AsyncIterator[StreamContext]:
        conn, exchange = await self._begin(request, timeout, streaming=True)
        reusable = False
        try:
            await exchange.head()
            assert exchange.headers is not None
            yield exchange.status, exchange.headers, exchange.chunks()
            # Pooled again only if the body was read to its end.
            reusable = exchange.complete and exchange.keep_alive
        finally:
            self._release(conn, reusable)

    async def aclose(self) -> None:
        self._closed = True
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()

    # --- connections --------------------------------------------------------------------

    async def _begin(self, request: OutgoingRequest, timeout: RequestTimeout,
                     *, streaming: bool) -> tuple[_Connection, _Exchange]:
        origin, target = _split(request.url)
        head = _request_head(request, origin, target)
        conn = await self._acquire(origin, timeout)
        try:
            return conn, conn.start(head, request.body, timeout, streaming)
        except BaseException:
            self._release(conn, False)
            raise

    async def _acquire(self, origin: Origin, timeout: RequestTimeout) -> _Connection:
        if self._closed:
            raise TransportError("transport closed")
        if self._slots.locked():  # every connection busy: wait at most `pool`
            try:
                async with asyncio.timeout(timeout.pool):
                    await self._slots.acquire()
            except TimeoutError:
                raise TransportTimeout("PoolTimeout") from None
        else:
            await self._slots.acquire()
        try:
            return self._pooled(origin) or await self._connect(origin, timeout.connect)
        except BaseException:
            self._slots.release()
            raise

    def _pooled(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = asyncio.get_running_loop().time()
        while idle:
            conn = idle.pop()  # the most recently used: the likeliest still open
            if conn.usable(now, self._keepalive):
                return conn
            self._discard(conn)
        return None

    async def _connect(self, origin: Origin, seconds: float) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(seconds):
                addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                # Happy eyeballs (RFC 8305): an unroutable IPv6 address does
                # not eat the whole connect timeout before IPv4 is tried.
                sock = await aiohappyeyeballs.start_connection(
                    addresses, happy_eyeballs_delay=0.25, interleave=1)
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop, origin), sock=sock, ssl=tls,
                    server_hostname=host if tls else None)
        except TimeoutError:
            raise TransportTimeout("ConnectTimeout") from None
        except (OSError, ssl.SSLError) as exc:
            raise TransportConnectError(type(exc).__name__) from None
        self._open.add(conn)
        return conn

    def _release(self, conn: _Connection, reusable: bool) -> None:
        self._slots.release()
        exchange = conn.exchange
        if exchange is not None:
            exchange.stop()
            # The parser holds the exchange's callbacks and the exchange the
            # parser: without this, every exchange would wait for the cycle
            # collector instead of going at once.
            exchange.parser = None  # type: ignore[assignment]
            conn.exchange = None
        idle = self._idle.setdefault(conn.origin, [])
        if reusable and not conn.closed and not self._closed and len(idle) < self._max_idle:
            conn.idle_since = asyncio.get_running_loop().time()
            idle.append(conn)
        else:
            self._discard(conn)

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
            self._tls.set_alpn_protocols(["http/1.1"])
        return self._tls
