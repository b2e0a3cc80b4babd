"""The gateway: what servicers call. It resolves the model, refuses features
the model lacks, hands the call to the provider adapter with the caller's
deadline, and stamps the result with the provider and request id.

Servicers speak protobuf and call this with core types; adapters speak their
provider's wire format. This module is the only place that knows both the
router and the adapters.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import replace

from .config.schema import GatewayConfig
from .core.coalesce import coalesce
from .core.completions import (
    CompletionDone,
    CompletionEvent,
    CompletionRequest,
    CompletionResponse,
    CompletionStart,
)
from .core.embeddings import EmbedRequest, EmbedResponse
from .core.errors import (
    GatewayError,
    ProviderNotFound,
    UnsupportedFeature,
    UnsupportedOperation,
    UpstreamProtocolError,
    redact,
)
from .core.events import StreamDone, StreamEvent, StreamStart
from .core.features import FEATURE_NAMES, OPERATIONS, chat_needs, missing
from .core.local_models import LocalModelDetails, PullProgress
from .core.models import ModelInfo
from .core.tokens import TokenCount
from .core.types import ChatRequest, ChatResponse
from .providers.base import CallContext, ProviderBase
from .providers.registry import build_provider
from .routing.router import Route, Router

log = logging.getLogger(__name__)


def new_request_id() -> str:
    """32 random hex digits (uuid4's shape, at a quarter of its cost)."""
    return os.urandom(16).hex()


class Gateway:
    def __init__(self, providers: Mapping[str, ProviderBase], aliases: Mapping[str, str]) -> None:
        self.router = Router(providers, aliases)

    @classmethod
    def from_config(cls, config: GatewayConfig) -> Gateway:
        providers = {name: build_provider(name, pc) for name, pc in config.providers.items()}
        return cls(providers, config.aliases)

    @property
    def providers(self) -> Mapping[str, ProviderBase]:
        return self.router.providers

    async def start(self) -> None:
        """Discovers models where configured. A provider that can't be reached
        is logged and keeps its configured models: start-up never depends on
        an upstream."""
        results = await asyncio.gather(
            *(p.refresh_models() for p in self.providers.values()), return_exceptions=True
        )
        for provider, result in zip(self.providers.values(), results, strict=True):
            if isinstance(result, BaseException):
                log.warning("model discovery failed", extra={
                    "provider": provider.name, "error": _safe_message(result, provider)})
        self.router.invalidate()

    async def aclose(self) -> None:
        await asyncio.gather(*(p.aclose() for p in self.providers.values()),
                             return_exceptions=True)

    # --- routing -----------------------------------------------------------

    def _route(self, model: str, needs: list[str]) -> Route:
        route = self.router.resolve(model)
        lacking = missing(route.model.capabilities, needs)
        if lacking is not None:
            error = UnsupportedOperation if lacking in OPERATIONS else UnsupportedFeature
            raise error(route.provider.name, FEATURE_NAMES[lacking],
                        f"model {route.model.name!r} does not offer it")
        return route

    @staticmethod
    def _context(route: Route, request_id: str, deadline: float | None) -> CallContext:
        return CallContext(model=route.model.id, request_id=request_id, deadline=deadline)

    # --- chat ----------------------------------------------------------------

    async def chat(self, request: ChatRequest, *, request_id: str,
                   deadline: float | None = None) -> ChatResponse:
        route = self._route(request.model, chat_needs(request, streaming=False))
        with _redacting(route.provider):
            ctx = self._context(route, request_id, deadline)
            response = await route.provider.chat(request, ctx)
        return replace(response, provider=route.provider.name, request_id=request_id)

    async def stream(self, request: ChatRequest, *, request_id: str,
                     deadline: float | None = None) -> AsyncIterator[StreamEvent]:
        """Forwards the adapter's events as they come (deltas that arrived
        in one read leave as one: core/coalesce.py), and guarantees the
        stream contract: one StreamStart first, exactly one StreamDone last."""
        route = self._route(request.model, chat_needs(request, streaming=True))
        provider = route.provider
        ctx = self._context(route, request_id, deadline)
        started = done = False
        with _redacting(provider):
            async with aclosing(provider.stream_reads(request, ctx)) as reads:
                async for events in reads:
                    if done:
                        break  # nothing may follow StreamDone
                    for event in coalesce(events):
                        if isinstance(event, StreamStart):
                            if started:
                                continue
                            started = True
                            event = StreamStart(event.id, event.model,
                                                event.upstream_request_id, provider.name,
                                                request_id)
                        elif not started:
                            started = True
                            yield StreamStart(id="", model=ctx.model, provider=provider.name,
                                              request_id=request_id)
                        done = isinstance(event, StreamDone)
                        yield event
                        if done:
                            # Nothing may follow; asking for more lets the adapter
                            # end on its own (cheaper than closing it mid-stream).
                            break
            if not done:
                raise UpstreamProtocolError("the stream ended before the response was complete",
                                            provider=provider.name, model=ctx.model)

    async def count_tokens(self, request: ChatRequest, *, request_id: str,
                           deadline: float | None = None) -> TokenCount:
        route = self._route(request.model, ["token_counting"])
        with _redacting(route.provider):
            count = await route.provider.count_tokens(
                request, self._context(route, request_id, deadline))
        return replace(count, model=count.model or route.model.id, provider=route.provider.name)

    # --- embeddings ------------------------------------------------------------

    async def embed(self, request: EmbedRequest, *, request_id: str,
                    deadline: float | None = None) -> EmbedResponse:
        route = self._route(request.model, ["embeddings"])
        with _redacting(route.provider):
            response = await route.provider.embed(request,
                                                  self._context(route, request_id, deadline))
        if len(response.vectors) != len(request.inputs):
            raise UpstreamProtocolError(
                f"returned {len(response.vectors)} embeddings for {len(request.inputs)} inputs",
                provider=route.provider.name, model=route.model.id)
        return replace(response, provider=route.provider.name, request_id=request_id)

    # --- text completion ---------------------------------------------------------

    async def complete(self, request: CompletionRequest, *, request_id: str,
                       deadline: float | None = None) -> CompletionResponse:
        route = self._route(request.model, ["text_completion"])
        with _redacting(route.provider):
            response = await route.provider.complete(
                request, self._context(route, request_id, deadline))
        return replace(response, provider=route.provider.name, request_id=request_id)

    async def stream_complete(self, request: CompletionRequest, *, request_id: str,
                              deadline: float | None = None) -> AsyncIterator[CompletionEvent]:
        route = self._route(request.model, ["text_completion"])
        provider = route.provider
        ctx = self._context(route, request_id, deadline)
        done = False
        with _redacting(provider):
            async with aclosing(provider.stream_complete(request, ctx)) as events:
                async for event in events:
                    if isinstance(event, CompletionStart):
                        event = replace(event, provider=provider.name, request_id=request_id)
                    done = isinstance(event, CompletionDone)
                    yield event
                    if done:
                        break
            if not done:
                raise UpstreamProtocolError("the stream ended before the response was complete",
                                            provider=provider.name, model=ctx.model)

    # --- models ------------------------------------------------------------------

    def list_models(self, provider: str = "") -> list[ModelInfo]:
        if provider and provider not in self.providers:
            raise ProviderNotFound(provider)
        return self.router.models(provider)

    def get_model(self, name: str) -> ModelInfo:
        return self.router.resolve(name).model

    # --- local model management ------------------------------------------------------

    def _provider(self, name: str) -> ProviderBase:
        provider = self.providers.get(name)
        if provider is None:
            raise ProviderNotFound(name)
        return provider

    async def pull_model(self, provider_name: str, model: str, insecure: bool
                         ) -> AsyncIterator[PullProgress]:
        provider = self._provider(provider_name)
        with _redacting(provider):
            async with aclosing(provider.pull_model(model, insecure)) as progress:
                async for item in progress:
                    yield item
        self.router.invalidate()

    async def show_model(self, provider_name: str, model: str) -> LocalModelDetails:
        provider = self._provider(provider_name)
        with _redacting(provider):
            return await provider.show_model(model)

    async def delete_model(self, provider_name: str, model: str) -> None:
        provider = self._provider(provider_name)
        with _redacting(provider):
            await provider.delete_model(model)
        self.router.invalidate()


class _redacting:
    """Scrubs the provider's secrets from any GatewayError leaving it: a safety
    net under the adapters' own care."""

    __slots__ = ("_provider",)

    def __init__(self, provider: ProviderBase) -> None:
        self._provider = provider

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, GatewayError):
            secrets = self._provider.secrets()
            if secrets:
                exc.message = redact(exc.message, secrets)
                exc.args = (exc.message,)
                exc.metadata = {k: redact(v, secrets) for k, v in exc.metadata.items()}


def _safe_message(exc: BaseException, provider: ProviderBase) -> str:
    return redact(str(exc), provider.secrets())
