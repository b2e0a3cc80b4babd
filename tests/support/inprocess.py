"""The gateway's gRPC server in the test's own event loop, on a free port:
for servicer tests that need a real server and channel but no process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
from llm_gateway.config.loader import validate
from llm_gateway.server.app import GatewayServer

DEFAULT_CONFIG: dict[str, Any] = {
    "server": {"drain_seconds": 0, "grace_seconds": 5},
    "providers": {"echo": {}},
    "aliases": {"fast": "echo/echo"},
}


@asynccontextmanager
async def running(config: dict[str, Any] | None = None
                  ) -> AsyncIterator[tuple[GatewayServer, grpc.aio.Channel]]:
    """The server and a channel to it; on exit, the ordered shutdown."""
    server = GatewayServer(validate(config or DEFAULT_CONFIG, "test"))
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield server, channel
    finally:
        await channel.close()
        server.request_stop()
        await server.wait_and_shutdown()


@asynccontextmanager
async def serving(config: dict[str, Any] | None = None) -> AsyncIterator[grpc.aio.Channel]:
    async with running(config) as (_, channel):
        yield channel
