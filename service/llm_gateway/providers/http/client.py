"""The one pooled HTTP client of a provider, and the boundary where transport
failures become core errors.

Adapters call `post_json` / `get_json` for unary calls and `stream` for
streamed bodies; they never see httpx exceptions. Every request's timeouts are
capped by the caller's deadline (CallContext), and cancelling the calling task
closes the upstream connection at once (httpx drops a connection whose
response was not read to the end, so the provider stops generating).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
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

# Reads a provider's error body (already parsed as JSON when it is JSON).
ProblemParser = Callable[[int, Any], UpstreamProblem]


def default_problem(status: int, body: Any) -> UpstreamProblem:
    """The common `{"error": {"message", "type", "code"}}` shape, or text."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            code = err.get("code") or err.get("type") or ""
            return UpstreamProblem(str(err.get("message") or ""), str(code))
        if isinstance(err, str):
            return UpstreamProblem(err)
    if isinstance(body, str) and body.strip():
        return UpstreamProblem(body.strip()[:500])
    return UpstreamProblem(f"HTTP {status}")


def parse_json(data: str | bytes, provider: str, model: str) -> Any:
    """One JSON document of a stream (an SSE `data` field, an NDJSON line)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamProtocolError("the stream carried malformed JSON",
                                    provider=provider, model=model) from None


class UpstreamResponse:
    """What an adapter gets back: parsed JSON and the headers it may need."""

    __slots__ = ("body", "headers", "request_id")

    def __init__(self, body: Any, headers: httpx.Headers) -> None:
        self.body = body
        self.headers = headers
        self.request_id = request_id(headers)


class UpstreamClient:
    def __init__(self, provider: str, base_url: str, *, headers: Mapping[str, str],
                 timeouts: Timeouts, max_connections: int = 256,
                 max_keepalive_connections: int = 64, http2: bool = False,
                 secrets: tuple[str, ...] = (), problem: ProblemParser = default_problem,
                 transport: httpx.AsyncBaseTransport | None = None,
                 auth: httpx.Auth | None = None) -> None:
        self.provider = provider
        self.secrets = secrets
        self._timeouts = timeouts
        self._problem = problem
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers),
            timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect,
                                  write=timeouts.write, pool=timeouts.pool),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_keepalive_connections),
            http2=http2,
            transport=transport,
            auth=auth,
            follow_redirects=False,
        )

    @classmethod
    def from_config(cls, name: str, config: HttpProviderConfig, headers: Mapping[str, str],
                    **kwargs: Any) -> UpstreamClient:
        extra = {k: v.get_secret_value() for k, v in config.headers.items()}
        return cls(name, config.base_url, headers={**headers, **extra},
                   timeouts=config.timeout, max_connections=config.max_connections,
                   max_keepalive_connections=config.max_keepalive_connections,
                   http2=config.http2, secrets=tuple(config.secret_values()), **kwargs)

    def _timeout(self, ctx: CallContext) -> httpx.Timeout | None:
        if ctx.deadline is None:
            return None  # the client's configured timeouts
        t = self._timeouts
        cap = ctx.timeout(None)
        return httpx.Timeout(min(t.read, cap or t.read), connect=min(t.connect, cap or t.connect),
                             write=min(t.write, cap or t.write), pool=min(t.pool, cap or t.pool))

    def _build(self, method: str, path: str, ctx: CallContext, json: Any,
               params: Mapping[str, str] | None, headers: Mapping[str, str] | None
               ) -> httpx.Request:
        content = orjson.dumps(json) if json is not None else None
        merged = {"content-type": "application/json", **(headers or {})} if content else headers
        extensions = {}
        timeout = self._timeout(ctx)
        if timeout is not None:
            extensions["timeout"] = timeout.as_dict()
        return self._http.build_request(method, path, content=content, params=params,
                                        headers=merged, extensions=extensions)

    async def request_json(self, method: str, path: str, ctx: CallContext, *,
                           json: Any = None, params: Mapping[str, str] | None = None,
                           headers: Mapping[str, str] | None = None) -> UpstreamResponse:
        request = self._build(method, path, ctx, json, params, headers)
        try:
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, ctx) from None
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.content, response.headers,
                                     ctx)
        return UpstreamResponse(self._parse(response.content, ctx), response.headers)

    async def post_json(self, path: str, ctx: CallContext, body: Any, **kwargs: Any
                        ) -> UpstreamResponse:
        return await self.request_json("POST", path, ctx, json=body, **kwargs)

    async def get_json(self, path: str, ctx: CallContext, **kwargs: Any) -> UpstreamResponse:
        return await self.request_json("GET", path, ctx, **kwargs)

    @asynccontextmanager
    async def stream(self, method: str, path: str, ctx: CallContext, *, json: Any = None,
                     params: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None
                     ) -> AsyncIterator[tuple[httpx.Headers, AsyncIterator[bytes]]]:
        """Yields the response headers and its body as raw chunks, as they
        arrive. Leaving the block early closes the connection."""
        request = self._build(method, path, ctx, json, params, headers)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, ctx) from None
        try:
            if response.status_code >= 400:
                try:
                    body = await response.aread()
                except httpx.HTTPError as exc:
                    raise self._transport_error(exc, ctx) from None
                raise self._status_error(response.status_code, body, response.headers, ctx)
            yield response.headers, self._chunks(response, ctx)
        finally:
            await response.aclose()

    async def _chunks(self, response: httpx.Response, ctx: CallContext) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, ctx, during_stream=True) from None

    def _parse(self, content: bytes, ctx: CallContext) -> Any:
        try:
            return orjson.loads(content) if content else None
        except orjson.JSONDecodeError:
            raise UpstreamProtocolError("the response is not valid JSON",
                                        provider=self.provider, model=ctx.model) from None

    def _status_error(self, status: int, content: bytes, headers: httpx.Headers,
                      ctx: CallContext) -> UpstreamError:
        try:
            body: Any = orjson.loads(content) if content else None
        except orjson.JSONDecodeError:
            body = content.decode("utf-8", errors="replace")
        return to_error(status, self._problem(status, body), provider=self.provider,
                        model=ctx.model, headers=headers, secrets=self.secrets)

    def _transport_error(self, exc: httpx.HTTPError, ctx: CallContext,
                         during_stream: bool = False) -> UpstreamError:
        kind = type(exc).__name__
        common = {"provider": self.provider, "model": ctx.model}
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamTimeout(f"no answer in time ({kind})", **common)
        if isinstance(exc, httpx.ConnectError):
            return UpstreamUnreachable(f"cannot connect ({kind})", **common)
        if during_stream or isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
            return UpstreamFailure(f"the connection failed mid-response ({kind})", **common)
        return UpstreamFailure(f"request failed ({kind})", **common)

    async def aclose(self) -> None:
        await self._http.aclose()
