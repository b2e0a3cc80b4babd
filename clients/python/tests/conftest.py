import os
from collections.abc import AsyncIterator

import pytest
from llm_gateway_client import GatewayClient


def _address(variable: str) -> str:
    value = os.environ.get(variable)
    if not value:
        pytest.fail(f"{variable} is not set (see clients/TESTING.md)")
    return value


@pytest.fixture
def address() -> str:
    return _address("LLMGATEWAY_ADDRESS")


@pytest.fixture
def rotating_address() -> str:
    """The gateway that rotates its connections (scenario 14)."""
    return _address("LLMGATEWAY_ROTATING_ADDRESS")


@pytest.fixture
async def gw(address: str) -> AsyncIterator[GatewayClient]:
    async with GatewayClient(address, api_key="test-key", timeout=30) as client:
        yield client
