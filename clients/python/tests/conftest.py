import os
from collections.abc import AsyncIterator

import pytest
from llm_gateway_client import GatewayClient


@pytest.fixture
def address() -> str:
    value = os.environ.get("LLMGATEWAY_ADDRESS")
    if not value:
        pytest.fail("LLMGATEWAY_ADDRESS is not set (see clients/TESTING.md)")
    return value


@pytest.fixture
def rotating_address() -> str:
    value = os.environ.get("LLMGATEWAY_ROTATING_ADDRESS")
    if not value:
        pytest.fail("LLMGATEWAY_ROTATING_ADDRESS is not set (see clients/TESTING.md)")
    return value


@pytest.fixture
async def gw(address: str) -> AsyncIterator[GatewayClient]:
    async with GatewayClient(address, api_key="test-key", timeout=30) as client:
        yield client
