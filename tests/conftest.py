"""Fixtures shared by every test directory. The fakes themselves live in
tests/support/; this file only wires them up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from tests.support.client_env import ROTATION_SECONDS, start_gateway
from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess
from tests.support.inprocess import serving


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
    the fake (see tests/support/client_env.py)."""
    process = start_gateway(upstream_server, tmp_path_factory.mktemp("gateway"))
    yield process
    process.stop()


@pytest.fixture(scope="session")
def rotating_gateway(upstream_server: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[GatewayProcess]:
    """Like `gateway`, closing each connection gracefully after a moment
    (clients/TESTING.md, scenario 14)."""
    process = start_gateway(upstream_server, tmp_path_factory.mktemp("rotating"),
                            ROTATION_SECONDS)
    yield process
    process.stop()
