"""Builds a real provider adapter (real httpx client, real sockets) pointed at
the fake upstream, the way the gateway builds it from configuration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from llm_gateway.config.loader import validate
from llm_gateway.providers.base import CallContext, ProviderBase
from llm_gateway.providers.registry import build_provider

from .fake_upstream import FakeUpstream


def make_provider(provider_type: str, upstream: FakeUpstream, *, path: str = "",
                  name: str | None = None, **settings: Any) -> ProviderBase:
    name = name or provider_type
    entry = {"type": provider_type, "base_url": upstream.url + path, **settings}
    # (settings may override base_url, e.g. to point at a closed port)
    config = validate({"providers": {name: entry}}, "test")
    return build_provider(name, config.providers[name])


def ctx(model: str, request_id: str = "req-test") -> CallContext:
    return CallContext(model=model, request_id=request_id)


async def assert_cancel_closes_upstream(upstream: FakeUpstream, events: AsyncIterator[Any]
                                        ) -> None:
    """Consumes `events` in a task, cancels it while the upstream still holds
    the request open, and checks that the upstream saw the connection close."""

    async def consume() -> None:
        async for _ in events:
            pass

    task = asyncio.create_task(consume())
    exchange = await asyncio.to_thread(upstream.wait_for_exchange)
    assert not exchange.closed.is_set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(exchange.closed.wait, 5), "the upstream stayed open"
