"""Both transports behave the same behind the seam: replies, streams as they
arrive, early exit closing the connection, and their failures mapped."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from llm_gateway.providers.http.h1 import H1Transport
from llm_gateway.providers.http.transport import (
    AiohttpTransport,
    HttpxTransport,
    OutgoingRequest,
    RequestTimeout,
    Transport,
    TransportConnectError,
    TransportTimeout,
)

from tests.support.fake_upstream import FakeUpstream, Gate, Reply, Stream

TIMEOUT = RequestTimeout(connect=5, read=5, write=5, pool=5)


POOL = {"max_connections": 8, "max_keepalive_connections": 8, "keepalive_expiry": 60.0}
TRANSPORTS = {
    "h1": lambda: H1Transport(**POOL),
    "aiohttp": lambda: AiohttpTransport(**POOL),
    "httpx": lambda: HttpxTransport(**POOL, http2=False),
}


@pytest.fixture(params=list(TRANSPORTS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    t: Transport = TRANSPORTS[request.param]()
    yield t
    await t.aclose()


async def test_send(transport: Transport, upstream: FakeUpstream) -> None:
    upstream.on("POST", "/p", Reply(201, body=b"ok", headers={"X-Request-Id": "r1"}))
    response = await transport.send(OutgoingRequest(
        "POST", upstream.url + "/p?a=%3A", {"x-test": "1"}, b"body"), TIMEOUT)
    assert (response.status, response.body) == (201, b"ok")
    assert response.headers["x-request-id"] == "r1"  # case-insensitive
    sent = upstream.wait_for_exchange().request
    assert (sent.target, sent.headers["x-test"], sent.body) == ("/p?a=%3A", "1", b"body")


async def test_stream_chunks_arrive_before_the_end(transport: Transport,
                                                   upstream: FakeUpstream) -> None:
    gate = Gate()
    upstream.on("GET", "/s", Stream([b"one", gate, b"two"]))
    async with transport.stream(OutgoingRequest("GET", upstream.url + "/s"), TIMEOUT) as (
            status, _headers, chunks):
        assert status == 200
        first = await chunks.__anext__()
        assert first == b"one"
        gate.open()
        rest = b"".join([c async for c in chunks])
    assert rest == b"two"


async def test_leaving_a_stream_early_closes_the_connection(transport: Transport,
                                                            upstream: FakeUpstream) -> None:
    upstream.on("GET", "/s", Stream([b"one"], hold_open=True))
    async with transport.stream(OutgoingRequest("GET", upstream.url + "/s"), TIMEOUT) as (
            _status, _headers, chunks):
        assert await chunks.__anext__() == b"one"
    assert await asyncio.to_thread(upstream.wait_for_exchange().closed.wait, 5)


async def test_read_timeout_and_refused_connection(transport: Transport,
                                                   upstream: FakeUpstream) -> None:
    upstream.on("GET", "/slow", Stream([], hold_open=True))
    short = RequestTimeout(connect=5, read=0.2, write=5, pool=5)
    with pytest.raises(TransportTimeout):
        async with transport.stream(OutgoingRequest("GET", upstream.url + "/slow"), short) as (
                _s, _h, chunks):
            async for _ in chunks:
                pass
    with pytest.raises(TransportConnectError):
        await transport.send(OutgoingRequest("GET", "http://127.0.0.1:9/"), TIMEOUT)


async def test_providers_choose_their_transport(upstream: FakeUpstream) -> None:
    from tests.support.providers import make_provider

    chosen = {
        H1Transport: make_provider("vllm", upstream, path="/v1"),
        HttpxTransport: make_provider("vllm", upstream, path="/v1", http2=True),
        AiohttpTransport: make_provider("vllm", upstream, path="/v1", transport="aiohttp"),
    }
    for kind, provider in chosen.items():
        assert isinstance(provider.client._transport, kind)  # type: ignore[attr-defined]
        await provider.aclose()


@pytest.mark.parametrize("settings", [{}, {"http2": True}, {"transport": "aiohttp"}],
                         ids=["h1", "httpx", "aiohttp"])
@pytest.mark.parametrize("expiry", [None, 1e-6])
async def test_keepalive_expiry_reaches_every_transport(
        settings: dict[str, object], expiry: float | None, upstream: FakeUpstream) -> None:
    """From the provider's config, each transport reuses an idle connection
    until `keepalive_expiry`, never after: the upstream may be closing it
    (uvicorn closes after 5 s idle)."""
    from tests.support.providers import make_provider

    upstream.on("POST", "/v1/p", Reply(200, body=b"ok"))
    provider = make_provider("vllm", upstream, path="/v1", **settings,
                             **({} if expiry is None else {"keepalive_expiry": expiry}))
    transport: Transport = provider.client._transport  # type: ignore[attr-defined]
    try:
        for _ in range(2):
            await transport.send(OutgoingRequest("POST", upstream.url + "/v1/p", {}, b"{}"),
                                 TIMEOUT)
    finally:
        await provider.aclose()
    first, second = (upstream.wait_for_exchange(i).connection for i in (1, 2))
    assert (first == second) is (expiry is None)  # the default (4 s) outlives the test
