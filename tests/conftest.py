"""Fixtures shared by every test directory. The fakes themselves live in
tests/support/; this file only wires them up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess
from tests.support.inprocess import serving

# The key the session gateway uses for its fake upstreams: it must never show
# up in an error message or a log line.
UPSTREAM_KEY = "sk-session-secret-5f0e9c2a7b"


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[FakeUpstream]:
    server = FakeUpstream()
    yield server
    server.close()


@pytest.fixture
def upstream(upstream_server: FakeUpstream) -> FakeUpstream:
    """The loopback fake provider, with no routes and no recorded requests."""
    upstream_server.reset()
    return upstream_server


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    """A channel to an in-process gateway serving the echo provider."""
    async with serving() as ch:
        yield ch


@pytest.fixture(scope="session")
def gateway(upstream_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[GatewayProcess]:
    """The real gateway process, serving echo plus providers whose upstream is
    the fake (`fake/...`: the OpenAI-compatible family with a key)."""
    path = tmp_path_factory.mktemp("gateway") / "gateway.yaml"
    path.write_text(f"""
server:
  drain_seconds: 0
  grace_seconds: 5
providers:
  echo: {{}}
  fake:
    type: openai
    base_url: {upstream_server.url}/v1
    api_key: ${{FAKE_UPSTREAM_KEY}}
    models: [gpt-4.1-mini, text-embedding-3-small]
aliases:
  fast: echo/echo
  smart: fake/gpt-4.1-mini
""")
    with GatewayProcess(path, env={"FAKE_UPSTREAM_KEY": UPSTREAM_KEY}) as process:
        yield process
