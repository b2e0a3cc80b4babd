"""The gateway's own Python per call, without sockets to the upstream.

    .venv/bin/python bench/micro_path.py            # in-process: unary chat and a stream
    .venv/bin/python bench/micro_path.py stream
    .venv/bin/python bench/micro_path.py --server   # the real gRPC server, driven by ghz

Builds the gateway from bench/gateway.yaml and gives each provider an
upstream that answers at once with the files in bench/upstream/ (the same
replies nginx serves in `make bench`). In-process, it calls the ChatService
servicer methods directly with the benchmark's requests: protobuf parsing,
translation to the core model and back, routing, the OpenAI codec, SSE and
JSON decoding, coalescing and serialization of the replies. With
`--server`, the same gateway serves gRPC on the gateway's core (pinned, one
worker, driven by ghz from the other core like `make bench`) and prints its
CPU per call beside the bare grpc.aio server's without an upstream call
(bench/harness/floor.py): what the same Python costs inside the server.
Figures are in bench/README.md ("Where the time goes").
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvloop
from google.protobuf import json_format
from harness import floor, procfs
from harness.drivers import PROMPT, Drivers
from harness.servers import (
    free_port,
    gateway_config,
    helper_threads,
    pick_cores,
    start_serving,
    stop_process,
)
from llm_gateway.config.loader import load_config
from llm_gateway.gateway import Gateway
from llm_gateway.providers.http.transport import OutgoingRequest, RequestTimeout, TransportResponse
from llm_gateway.server.app import GatewayServer, settle
from llm_gateway.servicers.chat import ChatServicer
from llmgateway.v1 import chat_pb2
from multidict import CIMultiDict

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CALLS = 5_000
ROUNDS = 7
MESSAGES = [{"role": "ROLE_USER", "parts": [{"text": PROMPT}]}]


class InstantUpstream:
    """A Transport that answers every request at once with a file's bytes."""

    def __init__(self) -> None:
        self.chat = (BENCH / "upstream" / "chat.json").read_bytes()
        self.stream_body = (BENCH / "upstream" / "stream.sse").read_bytes()
        self.headers = CIMultiDict({"content-type": "application/json", "x-request-id": "up"})

    async def send(self, request: OutgoingRequest, timeout: RequestTimeout) -> TransportResponse:
        return TransportResponse(200, self.headers, self.chat)

    @asynccontextmanager
    async def stream(self, request: OutgoingRequest, timeout: RequestTimeout
                     ) -> AsyncIterator[tuple[int, CIMultiDict[str], AsyncIterator[bytes]]]:
        async def body() -> AsyncIterator[bytes]:
            yield self.stream_body  # the whole stream in one read, as nginx sends it

        yield 200, self.headers, body()

    async def aclose(self) -> None:
        return None


class Context:
    """What the servicers ask of grpc.aio's ServicerContext on success."""

    def time_remaining(self) -> None:
        return None

    async def abort(self, *args: Any) -> None:
        raise RuntimeError(f"the call failed: {args}")


def gateway() -> Gateway:
    config = Path(tempfile.mkdtemp(prefix="micro-path-")) / "gateway.yaml"
    config.write_text(gateway_config(REPO, 9))
    gw = Gateway.from_config(load_config(str(config), env={}))
    upstream = InstantUpstream()
    for provider in gw.providers.values():
        provider.client._transport = upstream
    return gw


def calls(servicer: ChatServicer) -> dict[str, Callable[[], Awaitable[None]]]:
    ctx: Any = Context()
    unary = json_format.ParseDict({"input": {"model": "unary/bench-model", "messages": MESSAGES}},
                                  chat_pb2.ChatRequest()).SerializeToString()
    stream = json_format.ParseDict({"input": {"model": "stream/bench-model", "messages": MESSAGES}},
                                   chat_pb2.StreamChatRequest()).SerializeToString()

    async def chat() -> None:
        reply = await servicer.Chat(chat_pb2.ChatRequest.FromString(unary), ctx)
        reply.SerializeToString()

    async def stream_chat() -> None:
        messages = 0
        async for reply in servicer.StreamChat(chat_pb2.StreamChatRequest.FromString(stream), ctx):
            reply.SerializeToString()
            messages += 1
        assert messages == 3, messages  # start, the merged text, done

    return {"unary": chat, "stream": stream_chat}


async def main(names: list[str]) -> None:
    table = calls(ChatServicer(gateway()))
    print(f"{'call':<8} {'us/call (median of 7)':>22} {'min':>8}")
    unknown = set(names) - set(table)
    if unknown:
        sys.exit(f"unknown call {', '.join(sorted(unknown))} (try: {', '.join(table)})")
    for name in names or list(table):
        call = table[name]
        for _ in range(CALLS // 2):
            await call()
        runs = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(CALLS):
                await call()
            runs.append((time.perf_counter() - started) / CALLS * 1e6)
        print(f"{name:<8} {statistics.median(runs):>22.1f} {min(runs):>8.1f}")


async def serve(port: int) -> None:
    """The real server, instant upstream (run by `--server` in its own process)."""
    config = Path(tempfile.mkdtemp(prefix="micro-path-")) / "gateway.yaml"
    config.write_text(gateway_config(REPO, 9))
    logging.getLogger("llm_gateway.access").setLevel(logging.WARNING)
    server = GatewayServer(load_config(str(config), env={}))
    upstream = InstantUpstream()
    for provider in server.gateway.providers.values():
        provider.client._transport = upstream
    await server.start(f"127.0.0.1:{port}")
    settle(helper_threads())  # as the gateway's serve() does
    print("serving", flush=True)
    await asyncio.Event().wait()


def in_server(seconds: float = 4) -> None:
    server_cpu, load_cpu = pick_cores()
    drivers = Drivers.prepare(REPO, Path(tempfile.mkdtemp(prefix="micro-path-")), load_cpu)
    port = free_port()
    proc = start_serving(server_cpu, [sys.executable, __file__, "--serve", str(port)],
                         "the gateway")
    bare = floor.FloorServer(server_cpu, "none")
    try:
        bare.start(drivers)
        address = f"127.0.0.1:{port}"
        drivers.ghz(address, "stream", 16, 1)
        drivers.ghz(address, "chat", 16, 1)
        print(f"{'call (ghz, c=16)':<18} {'gateway CPU ms':>15} {'bare server CPU ms':>19} "
              f"{'difference':>11}")
        for kind in ("chat", "stream"):
            with procfs.Probe(proc.pid, server_cpu, load_cpu) as probe:
                r = drivers.ghz(address, kind, 16, seconds)
            gateway_ms = probe.figures(r["requests"])["gateway_cpu_ms_per_request"]
            bare_ms = bare.measure(drivers, load_cpu, kind, 16, seconds)["cpu"][
                "gateway_cpu_ms_per_request"]
            print(f"{kind:<18} {gateway_ms:>15.3f} {bare_ms:>19.3f} {gateway_ms - bare_ms:>11.3f}")
    finally:
        bare.stop()
        stop_process(proc, 15, 10)


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
    elif sys.argv[1:2] == ["--serve"]:
        uvloop.run(serve(int(sys.argv[2])))
    elif sys.argv[1:2] == ["--server"]:
        in_server()
    else:
        uvloop.run(main(sys.argv[1:]))
