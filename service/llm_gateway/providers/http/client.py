"""The one pooled HTTP client of a provider, and the boundary where transport
failures become core errors.

Adapters call `post_json` / `get_json` / `request_json` for unary calls and
`stream` for streamed bodies; they never see a transport library. Every
request's timeouts are capped by the caller's deadline (CallContext), and
cancelling the calling task closes the upstream connection at once (a
response left unread is closed, not pooled, so the provider stops
generating).

Errors: an adapter reads its provider's error bodies with a `problem` parser
(status, parsed body) -> UpstreamProblem, mapped by the shared table in
http/errors.py; an adapter whose errors also live in headers (Bedrock's
x-amzn-errortype) or need their own classes passes a full `errors` mapper.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from ...config.schema import HttpProviderConfig, Timeouts
from ...core.errors import (
    UpstreamError,
    UpstreamFailure,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from ..base import CallContext
from .errors import UpstreamProblem, request_id, to_error
from .h1 import H1Transport
from .transport import (
    AiohttpTransport,
    HttpxTransport,
    OutgoingRequest,
    RequestAuth,
    RequestTimeout,
    Transport,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)

# Reads a provider's error body (already parsed as JSON when it is JSON).
ProblemParser = Callable[[int, Any], UpstreamProblem]


@dataclass(frozen=True, slots=True)
class ErrorContext:
    provider: str
    model: str
    secrets: tuple[str, ...]


# Builds the error for an HTTP error status from (status, parsed body, headers).
ErrorMapper = Callable[[int, Any, Mapping[str, str], ErrorContext], UpstreamError]


def default_problem(status: int, body: Any) -> UpstreamProblem:
    """The common `{"error": {"message", "type", "code"}}` shape, or text."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            code = err.get("code") or err.get("type") or ""
            return UpstreamProblem(str(err.get("message") or ""), str(code),
                                   billing=err.get("type") == "insufficient_quota")
        if isinstance(err, str):
            return UpstreamProblem(err)
    if isinstance(body, str) and body.strip():
        return UpstreamProblem(body.strip()[:500])
    return UpstreamProblem(f"HTTP {status}")


def problem_errors(problem: ProblemParser) -> ErrorMapper:
    """The usual mapper: the adapter's problem parser, then the shared table."""

    def errors(status: int, body: Any, headers: Mapping[str, str], ctx: ErrorContext
               ) -> UpstreamError:
        return to_error(status, problem(status, body), provider=ctx.provider, model=ctx.model,
                        headers=headers, secrets=ctx.secrets)

    return errors


def parse_json(data: str | bytes, provider: str, model: str) -> Any:
    """One JSON document of a stream (an SSE `data` field, an NDJSON line)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamProtocolError("the stream carried malformed JSON",
                                    provider=provider, model=model) from None


def parse_json_all(documents: list[str]) -> list[Any] | None:
    """Several JSON documents of a stream parsed in one pass, or None when
    one is malformed (the caller then takes them one at a time, with
    `parse_json`, to fail at that one)."""
    try:
        return list(map(orjson.loads, documents))
    except orjson.JSONDecodeError:
        return None


def _decode_body(content: bytes) -> Any:
    """An error body: JSON when it is JSON, else text."""
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return content.decode("utf-8", errors="replace")


class UpstreamResponse:
    """What an adapter gets back: parsed JSON and the headers it may need."""

    __slots__ = ("body", "headers", "request_id")

    def __init__(self, body: Any, headers: Mapping[str, str]) -> None:
        self.body = body
        self.headers = headers
        self.request_id = request_id(headers)


def make_transport(config: HttpProviderConfig) -> Transport:
    """The lean HTTP/1.1 client (h1.py) unless HTTP/2 is wanted, or another
    transport is asked for by name."""
    pool: dict[str, Any] = {"max_connections": config.max_connections,
                            "max_keepalive_connections": config.max_keepalive_connections,
                            "keepalive_expiry": config.keepalive_expiry}
    if config.http2 or config.transport == "httpx":
        return HttpxTransport(**pool, http2=config.http2)
    if config.transport == "aiohttp":
        return AiohttpTransport(**pool)
    return H1Transport(**pool)


class UpstreamClient:
    def __init__(self, provider: str, base_url: str, *, headers: Mapping[str, str],
                 timeouts: Timeouts, transport: Transport, secrets: tuple[str, ...] = (),
                 problem: ProblemParser = default_problem, errors: ErrorMapper | None = None,
                 auth: RequestAuth | None = None) -> None:
        self.provider = provider
        self.secrets = secrets
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._timeouts = timeouts
        self._transport = transport
        self._errors = errors or problem_errors(problem)
        self._auth = auth

    @classmethod
    def from_config(cls, name: str, config: HttpProviderConfig, headers: Mapping[str, str],
                    **kwargs: Any) -> UpstreamClient:
        extra = {k: v.get_secret_value() for k, v in config.headers.items()}
        kwargs.setdefault("transport", make_transport(config))
        return cls(name, config.base_url, headers={**headers, **extra},
                   timeouts=config.timeout, secrets=tuple(config.secret_values()), **kwargs)

    # --- building a request --------------------------------------------------

    def _timeout(self, ctx: CallContext) -> RequestTimeout:
        t = self._timeouts
        cap = ctx.timeout(None)
        if cap is None:
            return RequestTimeout(t.connect, t.read, t.write, t.pool)
        return RequestTimeout(min(t.connect, cap), min(t.read, cap), min(t.write, cap),
                              min(t.pool, cap))

    async def _build(self, method: str, path: str, json: Any,
                     params: Mapping[str, str] | None, headers: Mapping[str, str] | None
                     ) -> OutgoingRequest:
        """`path` is appended to the base URL, unless it is an absolute URL."""
        url = path if path.startswith(("http://", "https://")) else self._base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        merged = dict(self._headers)
        body = None
        if json is not None:
            body = orjson.dumps(json)
            merged["content-type"] = "application/json"
        if headers:
            merged.update(headers)
        request = OutgoingRequest(method, url, merged, body)
        if self._auth is not None:
            await self._auth.apply(request)
        return request

    # --- unary ---------------------------------------------------------------

    async def request_json(self, method: str, path: str, ctx: CallContext, *,
                           json: Any = None, params: Mapping[str, str] | None = None,
                           headers: Mapping[str, str] | None = None) -> UpstreamResponse:
        request = await self._build(method, path, json, params, headers)
        try:
            response = await self._transport.send(request, self._timeout(ctx))
        except TransportError as exc:
            raise self._transport_error(exc, ctx) from None
        if response.status >= 400:
            raise self.status_error(response.status, response.body, response.headers, ctx)
        return UpstreamResponse(self._parse(response.body, ctx), response.headers)

    async def post_json(self, path: str, ctx: CallContext, body: Any, **kwargs: Any
                        ) -> UpstreamResponse:
        return await self.request_json("POST", path, ctx, json=body, **kwargs)

    async def get_json(self, path: str, ctx: CallContext, **kwargs: Any) -> UpstreamResponse:
        return await self.request_json("GET", path, ctx, **kwargs)

    # --- streams ---------------------------------------------------------------

    @asynccontextmanager
    async def stream(self, method: str, path: str, ctx: CallContext, *, json: Any = None,
                     params: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None
                     ) -> AsyncIterator[tuple[Mapping[str, str], AsyncIterator[bytes]]]:
        """Yields the response headers and its body as raw chunks, as they
        arrive. Leaving the block early closes the connection. The body is
        read inside the block: a transport failure while reading it leaves
        the block as the UpstreamError it stands for."""
        request = await self._build(method, path, json, params, headers)
        try:
            async with self._transport.stream(request, self._timeout(ctx)) as (
                    status, response_headers, chunks):
                if status >= 400:
                    body = b"".join([chunk async for chunk in chunks])
                    raise self.status_error(status, body, response_headers, ctx)
                try:
                    yield response_headers, chunks
                finally:
                    # A reader that stopped early leaves the body generator
                    # suspended: close it now, not in a task when collected.
                    close = getattr(chunks, "aclose", None)
                    if close is not None:
                        await close()
        except TransportError as exc:
            raise self._transport_error(exc, ctx, during_stream=True) from None

    # --- errors ------------------------------------------------------------------

    def _parse(self, content: bytes, ctx: CallContext) -> Any:
        try:
            return orjson.loads(content) if content else None
        except orjson.JSONDecodeError:
            raise UpstreamProtocolError("the response is not valid JSON",
                                        provider=self.provider, model=ctx.model) from None

    def status_error(self, status: int, content: bytes, headers: Mapping[str, str],
                     ctx: CallContext) -> UpstreamError:
        return self._errors(status, _decode_body(content), headers,
                            ErrorContext(self.provider, ctx.model, self.secrets))

    def _transport_error(self, exc: TransportError, ctx: CallContext,
                         during_stream: bool = False) -> UpstreamError:
        common = {"provider": self.provider, "model": ctx.model}
        if isinstance(exc, TransportTimeout):
            return UpstreamTimeout(f"no answer in time ({exc})", **common)
        if isinstance(exc, TransportConnectError):
            return UpstreamUnreachable(f"cannot connect ({exc})", **common)
        if during_stream:
            return UpstreamFailure(f"the connection failed mid-response ({exc})", **common)
        return UpstreamFailure(f"request failed ({exc})", **common)

    async def aclose(self) -> None:
        await self._transport.aclose()
