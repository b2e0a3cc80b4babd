"""Builds a real provider adapter (real httpx client, real sockets) pointed at
the fake upstream, the way the gateway builds it from configuration."""

from __future__ import annotations

from typing import Any

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
