"""Transports: how bytes reach a provider, behind one small seam.

    Transport.send(request, timeout)    -> TransportResponse (status, headers, body)
    Transport.stream(request, timeout)  -> async context: (status, headers, chunks)

Three implementations, chosen per provider (`HttpProviderConfig.transport`):
- `H1Transport` (h1.py, the default for HTTP/1.1): the gateway's own lean
  HTTP/1.1 client on httptools. Per upstream call it costs about half of
  aiohttp's CPU (bench/floor.py, bench/README.md).
- `AiohttpTransport` (`transport: aiohttp`): an aiohttp connection pool,
  HTTP/1.1 with keep-alive; the default before h1.py (it had cut the CPU per
  unary call from httpx's 2.1 ms to 0.85 ms).
- `HttpxTransport`: httpx with h2, for providers configured `http2: true`.

Each transport turns its library's failures into the three `TransportError`
kinds below at this boundary, so nothing above it knows which library ran.
Leaving a stream's context early (the caller cancelled) closes the connection
instead of returning it to the pool, so the provider sees the request end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import httpx
from yarl import URL


@dataclass(slots=True)
class OutgoingRequest:
    method: str
    url: str  # absolute
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class RequestTimeout:
    """Seconds; already capped by the caller's deadline."""

    connect: float
    read: float
    write: float
    pool: float


@dataclass(frozen=True, slots=True)
class TransportResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


class TransportError(Exception):
    """A request failed below HTTP. `kind` says how."""

    kind = "failed"


class TransportTimeout(TransportError):
    kind = "timeout"


class TransportConnectError(TransportError):
    kind = "connect"


StreamContext = tuple[int, Mapping[str, str], AsyncIterator[bytes]]


class Transport(Protocol):
    async def send(self, request: OutgoingRequest, timeout: RequestTimeout
                   ) -> TransportResponse: ...

    def stream(self, request: OutgoingRequest, timeout: RequestTimeout
               ) -> Any:  # an async context manager of StreamContext
        ...

    async def aclose(self) -> None: ...


class RequestAuth(Protocol):
    """Per-request authentication (a bearer token that refreshes, a SigV4
    signature over the exact body): it may change the request's headers."""

    async def apply(self, request: OutgoingRequest) -> None: ...


# --- aiohttp -------------------------------------------------------------------


class AiohttpTransport:
    def __init__(self, *, max_connections: int, max_keepalive_connections: int,
                 keepalive_expiry: float) -> None:
        self._limit = max_connections
        self._keepalive = max_keepalive_connections
        self._expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        # Created on first use: aiohttp sessions belong to a running loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit,
                                             keepalive_timeout=self._expiry,
                                             enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",),
                trust_env=False, raise_for_status=False)
        return self._session

    @staticmethod
    def _timeout(t: RequestTimeout) -> aiohttp.ClientTimeout:
        # `connect` in aiohttp covers waiting for a pooled connection too.
        return aiohttp.ClientTimeout(total=None, connect=t.pool + t.connect,
                                     sock_connect=t.connect, sock_read=t.read)

    async def send(self, request: OutgoingRequest, timeout: RequestTimeout
                   ) -> TransportResponse:
        try:
            async with self._get_session().request(
                    request.method, _url(request), headers=request.headers, data=request.body,
                    timeout=self._timeout(timeout), allow_redirects=False) as response:
                body = await response.read()
                return TransportResponse(response.status, response.headers, body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _aiohttp_error(exc) from None

    @asynccontextmanager
    async def stream(self, request: OutgoingRequest, timeout: RequestTimeout
                     ) -> AsyncIterator[StreamContext]:
        try:
            response = await self._get_session().request(
                request.method, _url(request), headers=request.headers, data=request.body,
                timeout=self._timeout(timeout), allow_redirects=False)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _aiohttp_error(exc) from None
        try:
            yield response.status, response.headers, _aiohttp_chunks(response)
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()  # unread body: drop the connection, don't pool it

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _url(request: OutgoingRequest) -> URL:
    # Sent exactly as built: requoting would break signatures (SigV4 signs
    # the percent-encoded path) and model ids with reserved characters.
    return URL(request.url, encoded=True)


async def _aiohttp_chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _aiohttp_error(exc) from None


def _aiohttp_error(exc: BaseException) -> TransportError:
    name = type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return TransportTimeout(name)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransportConnectError(name)
    return TransportError(name)


# --- httpx (HTTP/2) -----------------------------------------------------------------


class HttpxTransport:
    def __init__(self, *, max_connections: int, max_keepalive_connections: int,
                 keepalive_expiry: float, http2: bool) -> None:
        self._client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_keepalive_connections,
                                keepalive_expiry=keepalive_expiry),
            http2=http2, follow_redirects=False, trust_env=False)

    @staticmethod
    def _build(client: httpx.AsyncClient, request: OutgoingRequest, t: RequestTimeout
               ) -> httpx.Request:
        timeout = httpx.Timeout(t.read, connect=t.connect, write=t.write, pool=t.pool)
        return client.build_request(request.method, request.url, headers=request.headers,
                                    content=request.body,
                                    extensions={"timeout": timeout.as_dict()})

    async def send(self, request: OutgoingRequest, timeout: RequestTimeout
                   ) -> TransportResponse:
        try:
            response = await self._client.send(self._build(self._client, request, timeout))
        except httpx.HTTPError as exc:
            raise _httpx_error(exc) from None
        return TransportResponse(response.status_code, response.headers, response.content)

    @asynccontextmanager
    async def stream(self, request: OutgoingRequest, timeout: RequestTimeout
                     ) -> AsyncIterator[StreamContext]:
        try:
            response = await self._client.send(self._build(self._client, request, timeout),
                                               stream=True)
        except httpx.HTTPError as exc:
            raise _httpx_error(exc) from None
        try:
            yield response.status_code, response.headers, _httpx_chunks(response)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()


async def _httpx_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        raise _httpx_error(exc) from None


def _httpx_error(exc: httpx.HTTPError) -> TransportError:
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return TransportTimeout(name)
    if isinstance(exc, httpx.ConnectError):
        return TransportConnectError(name)
    return TransportError(name)
