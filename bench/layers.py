"""What each layer of a streamed chat costs inside the real server.

    .venv/bin/python bench/layers.py              # 3 interleaved rounds of 4 s per layer
    .venv/bin/python bench/layers.py --rounds 5 --seconds 6

micro_path.py times the gateway's Python in a tight loop; inside the server,
interleaved with 15 other streams and gRPC's threads, the same code costs
about twice as much. This tool measures that directly: it serves StreamChat
from the real gateway server (bench/gateway.yaml, pinned to the gateway's
core, against the benchmark's nginx on the other core) once per layer, each
server stopping at a different layer and then sending the three messages the
full path sends (recorded from a real call at start-up, so loadgen's checks
hold), and drives each with loadgen (streams, c = 16), the servers taking
turns so that a shared host's drift spreads evenly. The table gives each
layer's CPU per stream, what it adds to the layer above, and the first event.

Layers (each includes the ones above it):
  grpc      the server, the servicer's wrapper and three messages (no upstream)
  request   + protobuf -> core request, routing
  upstream  + the OpenAI request body and the upstream call (h1), whole body read
  sse-json  + SSE framing and the JSON of each read (one pass)
  decode    + the adapter's stream (the OpenAI chunk decoder)
  gateway   + Gateway.stream (coalescing, the stream contract)
  full      the servicer as shipped (events to protobuf as they come)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvloop
from harness import procfs
from harness.drivers import Drivers
from harness.servers import (
    Nginx,
    free_port,
    gateway_config,
    pick_cores,
    start_serving,
    stop_process,
)
from llm_gateway.api.chat import chat_request_from_proto
from llm_gateway.config.loader import load_config
from llm_gateway.providers.http.client import parse_json_all
from llm_gateway.providers.http.sse import iter_sse
from llm_gateway.providers.openai.adapter import OpenAIProvider
from llm_gateway.providers.openai.chat_codec import encode_chat
from llm_gateway.server import app
from llm_gateway.servicers.chat import ChatServicer
from llm_gateway.servicers.rpc import Call, server_stream
from llmgateway.v1 import chat_pb2

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("grpc", "request", "upstream", "sse-json", "decode", "gateway", "full")


class LayerServicer(ChatServicer):
    """ChatService whose StreamChat stops at one layer, then replays the
    messages the full path sent for the first call."""

    layer = "full"
    recorded: list[chat_pb2.StreamChatResponse] = []

    @server_stream("StreamChat")
    async def StreamChat(self, request: chat_pb2.StreamChatRequest, context: Any, call: Call
                         ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        if self.layer == "full" or not self.recorded:
            full = ChatServicer.StreamChat.__wrapped__  # type: ignore[attr-defined]
            sent = []
            async for message in full(self, request, context, call):
                sent.append(message)
                yield message
            if not self.recorded:
                LayerServicer.recorded = sent
            return
        await self._work(request, call)
        for message in self.recorded:
            yield message

    async def _work(self, request: chat_pb2.StreamChatRequest, call: Call) -> None:
        if self.layer == "grpc":
            return
        core = chat_request_from_proto(request.input, request.metadata)
        route = self._gateway._route(core.model, [])
        if self.layer == "request":
            return
        if self.layer == "gateway":
            async for _ in self._gateway.stream(core, request_id=call.request_id):
                pass
            return
        ctx = self._gateway._context(route, call.request_id, call.deadline)
        provider = route.provider
        assert isinstance(provider, OpenAIProvider)
        if self.layer == "decode":
            async for _ in provider.stream_reads(core, ctx):
                pass
            return
        body = encode_chat(core, ctx.model, provider.preset, provider.name, stream=True,
                           options=provider.options(core.provider_options))
        path = provider._path("chat/completions", ctx.model)
        async with provider.client.stream("POST", path, ctx, json=body) as (_, chunks):
            if self.layer == "upstream":
                async for _ in chunks:
                    pass
                return
            async for events in iter_sse(chunks):  # as the adapter's `read` does
                parse_json_all([event.data for event in events if event.data != "[DONE]"])


async def serve(port: int, upstream_port: int, layer: str) -> None:
    config = Path(tempfile.mkdtemp(prefix="layers-")) / "gateway.yaml"
    config.write_text(gateway_config(REPO, upstream_port))
    logging.getLogger("llm_gateway.access").setLevel(logging.WARNING)
    LayerServicer.layer = layer
    app.ChatServicer = LayerServicer  # type: ignore[misc]  # the server builds its own
    gateway_config_ = load_config(str(config), env={})
    server = app.GatewayServer(gateway_config_)
    await server.start(f"127.0.0.1:{port}")
    app.settle(gateway_config_.server.helper_threads)
    print("serving", flush=True)
    await asyncio.Event().wait()


def measure(rounds: int, seconds: float) -> None:
    server_cpu, load_cpu = pick_cores()
    run_dir = Path(tempfile.mkdtemp(prefix="layers-"))
    drivers = Drivers.prepare(REPO, run_dir, load_cpu)
    nginx = Nginx(drivers.tools.nginx, REPO, run_dir, load_cpu).start()
    servers: dict[str, Any] = {}
    results: dict[str, list[tuple[float, float, float]]] = {layer: [] for layer in LAYERS}
    try:
        for layer in LAYERS:
            port = free_port()
            servers[layer] = (port, start_serving(
                server_cpu, [sys.executable, __file__, "--serve", str(port), str(nginx.port),
                             layer], f"the {layer} server"))
        for port, _ in servers.values():  # warm-up; the first call records the replies
            drivers.loadgen_grpc(f"127.0.0.1:{port}", "stream=1", 16, total=3000)
        for round_ in range(rounds):
            order = LAYERS if round_ % 2 == 0 else tuple(reversed(LAYERS))
            for layer in order:
                port, proc = servers[layer]
                before = procfs.cpu_seconds(proc.pid)
                r = drivers.loadgen_grpc(f"127.0.0.1:{port}", "stream=1", 16, seconds=seconds)
                cpu = procfs.cpu_seconds(proc.pid) - before
                if r.get("errors"):
                    sys.exit(f"{layer}: errors {r['errors']}")
                streams = r["first_event_ms"]["count"]
                results[layer].append((r["rps"], 1000 * cpu / streams,
                                       r["first_event_ms"]["p50"]))
    finally:
        for _, proc in servers.values():
            stop_process(proc, 15, 10)
        nginx.stop()
    print(f"streams, c = 16 (loadgen), medians of {rounds} rounds of {seconds:g} s")
    print(f"{'layer':<10} {'streams/s':>10} {'CPU ms/stream':>14} {'adds ms':>8} "
          f"{'first event p50 ms':>19}")
    previous = None
    for layer in LAYERS:
        rps, cpu, first = (statistics.median(x[i] for x in results[layer]) for i in range(3))
        adds = "" if previous is None else f"{cpu - previous:+.3f}"
        print(f"{layer:<10} {rps:>10,.0f} {cpu:>14.3f} {adds:>8} {first:>19.2f}")
        previous = cpu


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        uvloop.run(serve(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
    else:
        parser = argparse.ArgumentParser(description=__doc__,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--seconds", type=float, default=4)
        args = parser.parse_args()
        measure(args.rounds, args.seconds)
