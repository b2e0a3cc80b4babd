"""The lean HTTP/1.1 client (providers/http/h1.py) beyond the behaviour every
transport shares (test_transport.py): keep-alive pooling, body framings,
compression, malformed replies, refused headers and the connection limit."""

import asyncio
import datetime
import gc
import gzip
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from llm_gateway.providers.http.h1 import H1Transport, _Exchange, _split
from llm_gateway.providers.http.transport import (
    OutgoingRequest,
    RequestTimeout,
    TransportConnectError,
    TransportError,
    TransportTimeout,
)

from tests.support.fake_upstream import FakeUpstream, Raw, Reply, Stream

TIMEOUT = RequestTimeout(connect=5, read=5, write=5, pool=5)


@pytest.fixture
async def h1() -> AsyncIterator[H1Transport]:
    transport = H1Transport(max_connections=4, max_keepalive_connections=4,
                            keepalive_expiry=60)
    yield transport
    await transport.aclose()


def post(upstream: FakeUpstream, path: str, body: bytes = b"{}",
         headers: dict[str, str] | None = None) -> OutgoingRequest:
    return OutgoingRequest("POST", upstream.url + path,
                           {"content-type": "application/json", **(headers or {})}, body)


async def test_the_request_on_the_wire(h1: H1Transport, upstream: FakeUpstream) -> None:
    upstream.on("POST", "/v1/x", Reply(200, body=b"ok"))
    body = b"a" * 200_000  # large: written without copying
    await h1.send(post(upstream, "/v1/x?q=%2F", body, {"Authorization": "Bearer k"}), TIMEOUT)
    sent = upstream.wait_for_exchange().request
    assert (sent.method, sent.target, sent.body) == ("POST", "/v1/x?q=%2F", body)
    assert sent.headers == {"host": upstream.url.removeprefix("http://"),
                            "content-type": "application/json", "authorization": "Bearer k",
                            "content-length": "200000"}


async def test_keep_alive_reuses_the_connection_and_close_ends_it(
        h1: H1Transport, upstream: FakeUpstream) -> None:
    upstream.on("POST", "/keep", Reply(200, body=b"1"))
    upstream.on("POST", "/close", Reply(200, body=b"2", headers={"connection": "close"}))
    for path in ("/keep", "/keep", "/close", "/keep"):
        await h1.send(post(upstream, path), TIMEOUT)
    connections = [upstream.wait_for_exchange(i).connection for i in (1, 2, 3, 4)]
    assert connections[0] == connections[1] == connections[2]  # kept alive
    assert connections[3] != connections[2]  # `Connection: close` was honoured


async def test_an_exchange_goes_without_the_cycle_collector(h1: H1Transport,
                                                          upstream: FakeUpstream) -> None:
    # Each exchange is freed by reference counting once it ends: left to the
    # cycle collector, a busy gateway's exchanges pile up between collections.
    upstream.on("POST", "/r", Reply(body=b"ok"))
    upstream.on("POST", "/s", Stream([b"one", b"two"]))

    async def exchanges() -> None:
        for _ in range(3):
            assert (await h1.send(post(upstream, "/r"), TIMEOUT)).body == b"ok"
            async with h1.stream(post(upstream, "/s"), TIMEOUT) as (_, _, chunks):
                assert b"".join([c async for c in chunks]) == b"onetwo"

    gc.collect()
    gc.disable()
    try:
        await exchanges()
        assert not [o for o in gc.get_objects() if isinstance(o, _Exchange)]
    finally:
        gc.enable()


async def test_a_body_that_runs_until_the_connection_closes(h1: H1Transport,
                                                            upstream: FakeUpstream) -> None:
    upstream.on("POST", "/eof", Raw(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end"))
    response = await h1.send(post(upstream, "/eof"), TIMEOUT)
    assert (response.status, response.body, response.headers["x-a"]) == (
        200, b"until the end", "1")


async def test_a_stream_read_gives_everything_that_arrived_as_one_chunk(
        h1: H1Transport, upstream: FakeUpstream) -> None:
    # Ten chunked-encoding pieces written at once: the stream decoders work a
    # read at a time, so what is buffered must come out together.
    pieces = [b"data: %d\n\n" % i for i in range(10)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    upstream.on("POST", "/sse", Raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    + body))
    async with h1.stream(post(upstream, "/sse"), TIMEOUT) as (status, _, chunks):
        received = [chunk async for chunk in chunks]
    assert status == 200
    assert b"".join(received) == b"".join(pieces)
    assert len(received) < len(pieces)  # one, unless the socket split the write


async def test_an_informational_reply_before_the_real_one_is_skipped(
        h1: H1Transport, upstream: FakeUpstream) -> None:
    upstream.on("POST", "/hints", Raw(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                      b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    response = await h1.send(post(upstream, "/hints"), TIMEOUT)
    assert (response.status, response.body, "link" in response.headers) == (200, b"ok", False)


async def test_a_host_header_given_is_sent_as_is(h1: H1Transport,
                                                 upstream: FakeUpstream) -> None:
    upstream.on("POST", "/h", Reply(200, body=b"ok"))
    await h1.send(post(upstream, "/h", headers={"Host": "signed.example:443"}), TIMEOUT)
    assert upstream.wait_for_exchange().request.headers["host"] == "signed.example:443"


async def test_gzip_bodies_are_decompressed(h1: H1Transport, upstream: FakeUpstream) -> None:
    packed = gzip.compress(b'{"ok": true}')
    upstream.on("POST", "/gz", Reply(200, body=packed, headers={"content-encoding": "gzip"}))
    assert (await h1.send(post(upstream, "/gz"), TIMEOUT)).body == b'{"ok": true}'


@pytest.mark.parametrize(("reply", "problem"), [
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\nxx",
     "unsupported content-encoding 'br'"),
    (b"not HTTP at all\r\n\r\n", "invalid HTTP response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "closed the connection"),
    (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc",
     "invalid compressed body"),
])
async def test_broken_replies_fail_cleanly(h1: H1Transport, upstream: FakeUpstream,
                                           reply: bytes, problem: str) -> None:
    upstream.on("POST", "/bad", Raw(reply))
    with pytest.raises(TransportError, match=problem):
        await h1.send(post(upstream, "/bad"), TIMEOUT)


async def test_a_header_with_a_line_break_is_refused_without_its_value(
        h1: H1Transport, upstream: FakeUpstream) -> None:
    with pytest.raises(TransportError) as caught:
        await h1.send(post(upstream, "/x", headers={"x-api-key": "sk-secret\r\nX-Evil: 1"}),
                      TIMEOUT)
    assert "x-api-key" in str(caught.value) and "sk-secret" not in str(caught.value)
    assert upstream.requests() == []


async def test_an_upstream_that_stops_reading_the_body_gets_the_write_timeout() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def never_read(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # holds the connection open, reads nothing

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = H1Transport(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60)
    # More than the socket buffers on both sides hold, so the client's own
    # buffer passes its high-water mark and waits.
    body = b"x" * (32 << 20)
    try:
        with pytest.raises(TransportTimeout, match="WriteTimeout"):
            await transport.send(OutgoingRequest("POST", f"http://127.0.0.1:{port}/up", {}, body),
                                 RequestTimeout(connect=5, read=3, write=0.2, pool=5))
    finally:
        await transport.aclose()
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_the_connection_limit_queues_then_times_out(upstream: FakeUpstream) -> None:
    one = H1Transport(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60)
    upstream.on("GET", "/held", Stream([b"x"], hold_open=True))
    upstream.on("POST", "/p", Reply(200, body=b"ok"))
    try:
        async with one.stream(OutgoingRequest("GET", upstream.url + "/held"), TIMEOUT) as (
                _s, _h, chunks):
            assert await anext(chunks) == b"x"
            short = RequestTimeout(connect=5, read=5, write=5, pool=0.05)
            with pytest.raises(TransportTimeout):
                await one.send(post(upstream, "/p"), short)
            waiting = asyncio.ensure_future(one.send(post(upstream, "/p"), TIMEOUT))
        # The held stream ended early: its connection closed, the slot freed.
        assert (await waiting).body == b"ok"
    finally:
        await one.aclose()


# --- TLS ------------------------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for `localhost`, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


async def test_https_verifies_the_upstream_and_sends_its_name(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    server_tls.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client refused our certificate
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    request = OutgoingRequest("GET", f"https://localhost:{port}/v1/models")
    untrusting = H1Transport(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60)
    trusting = H1Transport(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60,
                           tls=ssl.create_default_context(cafile=str(cert_file)))
    try:
        with pytest.raises(TransportConnectError):  # not signed by a trusted CA
            await untrusting.send(request, TIMEOUT)
        response = await trusting.send(request, TIMEOUT)
        assert (response.status, response.body) == (200, b"secure")
        assert names[-1] == "localhost"
        assert heads == [f"GET /v1/models HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode()]
    finally:
        await untrusting.aclose()
        await trusting.aclose()
        server.close()
        await server.wait_closed()


async def test_a_large_stream_read_slowly_arrives_whole(h1: H1Transport,
                                                         upstream: FakeUpstream) -> None:
    # More than the reader's buffer limit: reading pauses and resumes on the way.
    parts = [bytes([i]) * 65536 for i in range(64)]  # 4 MiB
    upstream.on("GET", "/big", Stream(list(parts)))
    received = []
    async with h1.stream(OutgoingRequest("GET", upstream.url + "/big"), TIMEOUT) as (
            _s, _h, chunks):
        async for chunk in chunks:
            received.append(chunk)
            await asyncio.sleep(0)  # let more arrive than is read
    assert b"".join(received) == b"".join(parts)


@pytest.mark.parametrize(("url", "origin", "target"), [
    ("http://127.0.0.1:8080/v1/x?a=%2F", ("http", "127.0.0.1", 8080), "/v1/x?a=%2F"),
    ("https://api.example/v1/chat", ("https", "api.example", 443), "/v1/chat"),
    ("https://[::1]:9/x", ("https", "::1", 9), "/x"),
    ("http://h", ("http", "h", 80), "/"),
    ("http://h?x=1", ("http", "h", 80), "/?x=1"),
    ("https://a.example/p?q=1/2#fragment", ("https", "a.example", 443), "/p?q=1/2"),
])
def test_urls_split_into_origin_and_target(url: str, origin: tuple[str, str, int],
                                           target: str) -> None:
    assert _split(url) == (origin, target)


@pytest.mark.parametrize("url", ["ftp://h/x", "no-url", "http://h:port/x", "http:///x"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(TransportError, match="unsupported URL"):
        _split(url)
