"""The floor under the gateway: a grpc.aio server that does (almost) nothing.

It serves `ChatService/Chat` with one constant, pre-serialized reply and
`ChatService/StreamChat` with three (as many messages as the gateway sends
for the benchmark's stream: start, the merged text, done), with no gateway
code and no deserialization, on uvloop, pinned to the gateway's core and
driven by ghz exactly as the gateway is. The replies carry what the
gateway's would (the text, finish reason and usage of bench/upstream's
files), so loadgen's checks pass and it can time the floor's streams too.
With an upstream client, each RPC first POSTs its request bytes to the nginx
fake (the chat or the stream path) through that client (`h1`, the gateway's
own transport, or aiohttp) and reads the whole reply. What this costs is
what any grpc.aio gateway pays before its own work, on this machine (with
the gateway's server settings: GRPC_EXPERIMENTS, registered methods,
accept-ahead, batch helper threads and a frozen start-up heap, so floor
and gateway differ only by the gateway's code): `make bench` measures it right after each unary
and stream pass of the gateway (the "floor" in its tables) and
bench/floor.py prints it alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import procfs
from .drivers import HTTP_PATHS, Drivers
from .servers import (
    accept_ahead,
    free_port,
    helper_threads,
    idle_spin_us,
    later_message_wait_ms,
    start_serving,
    stop_process,
)

SCRIPT = Path(__file__).resolve().parent.parent / "floor.py"
UPSTREAM = SCRIPT.parent / "upstream"
# (kind, concurrency) of each pass: the gateway's unary and stream passes.
PASSES = (("chat", 1), ("chat", 16), ("chat", 64), ("stream", 1), ("stream", 16))

Post = Callable[[str, bytes], Awaitable[None]]


def _client(kind: str) -> Post:
    if kind == "aiohttp":
        import aiohttp
        session = aiohttp.ClientSession(skip_auto_headers=("User-Agent",), trust_env=False)

        async def via_aiohttp(url: str, body: bytes) -> None:
            async with session.post(url, data=body,
                                    headers={"content-type": "application/json"}) as r:
                await r.read()
        return via_aiohttp

    from llm_gateway.providers.http.h1 import H1Transport
    from llm_gateway.providers.http.transport import OutgoingRequest, RequestTimeout
    transport = H1Transport(max_connections=256, max_keepalive_connections=256,
                            keepalive_expiry=4.0)
    timeout = RequestTimeout(connect=5, read=30, write=30, pool=5)

    async def via_h1(url: str, body: bytes) -> None:
        await transport.send(OutgoingRequest(
            "POST", url, {"content-type": "application/json"}, body), timeout)
    return via_h1


def replies() -> tuple[bytes, list[bytes]]:
    """The floor's Chat reply and StreamChat messages, serialized: the
    upstream files' text, finish reason and usage, as the gateway sends them."""
    from llmgateway.v1 import chat_pb2, common_pb2, content_pb2

    def usage(u: dict[str, int]) -> common_pb2.Usage:
        return common_pb2.Usage(input_tokens=u["prompt_tokens"],
                                output_tokens=u["completion_tokens"],
                                total_tokens=u["total_tokens"])

    chat = json.loads((UPSTREAM / "chat.json").read_text())
    choice = chat["choices"][0]
    reply = chat_pb2.ChatResponse(
        id=chat["id"], model=chat["model"], provider="floor",
        message=content_pb2.Message(role=content_pb2.ROLE_ASSISTANT, parts=[
            content_pb2.Part(text=choice["message"]["content"])]),
        finish_reason=common_pb2.FINISH_REASON_STOP, provider_finish_reason=choice["finish_reason"],
        usage=usage(chat["usage"]))
    chunks = [json.loads(line[len("data: "):])
              for line in (UPSTREAM / "stream.sse").read_text().splitlines()
              if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or ""
                   for c in chunks if c["choices"])
    finish = next(c["choices"][0]["finish_reason"] for c in chunks
                  if c["choices"] and c["choices"][0]["finish_reason"])
    events = [
        chat_pb2.StreamChatResponse(start=chat_pb2.StreamStart(
            id=chunks[0]["id"], model=chunks[0]["model"], provider="floor")),
        chat_pb2.StreamChatResponse(text_delta=chat_pb2.TextDelta(index=0, text=text)),
        chat_pb2.StreamChatResponse(done=chat_pb2.StreamDone(
            finish_reason=common_pb2.FINISH_REASON_STOP, provider_finish_reason=finish,
            usage=usage(chunks[-1]["usage"])))]
    return reply.SerializeToString(), [e.SerializeToString() for e in events]


async def serve(port: int, client: str, base_url: str) -> None:
    """The floor server (in its own process: bench/floor.py --serve)."""
    import grpc
    from grpc_health.v1 import health, health_pb2_grpc
    from llm_gateway.server.accept_ahead import AcceptAhead, RegisteredMethods
    from llm_gateway.server.app import settle
    from llm_gateway.server.idle_spin import IdleSpin
    from llm_gateway.servicers.pacing import Pacing

    reply, stream_replies = replies()
    post = _client(client) if client != "none" else None
    chat_url, stream_url = base_url + HTTP_PATHS["chat"], base_url + HTTP_PATHS["stream"]

    # The pacing of later stream messages, as the gateway's rpc wrappers do it.
    pacing = Pacing(later_message_wait_ms())

    async def chat(request: bytes, context: Any) -> bytes:
        pacing.in_progress += 1
        try:
            if post is not None:
                await post(chat_url, request)
            return reply
        finally:
            pacing.in_progress -= 1

    async def stream_chat(request: bytes, context: Any) -> Any:
        pacing.in_progress += 1
        try:
            if post is not None:
                await post(stream_url, request)
            for sent, message in enumerate(stream_replies):
                if pacing.should_wait(sent):
                    await pacing.wait()
                yield message
            if pacing.should_wait(len(stream_replies)):  # the status, too
                await pacing.wait()
        finally:
            pacing.in_progress -= 1

    server = grpc.aio.server()
    # Registered methods and accept-ahead, as the gateway's server has them.
    methods = RegisteredMethods(server)
    methods.add_registered_method_handlers("llmgateway.v1.ChatService", {
        "Chat": grpc.unary_unary_rpc_method_handler(chat),
        "StreamChat": grpc.unary_stream_rpc_method_handler(stream_chat)})
    # loadgen checks each connection's health first; the overall status is SERVING.
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), methods)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    # Accept-ahead, batch helper threads, a frozen heap and the idle spin,
    # as the gateway's serve() has them (and pacing, above).
    AcceptAhead(server, accept_ahead(), on_accept=IdleSpin(idle_spin_us()).kick
                ).start(methods.handlers)
    settle(helper_threads())
    print("serving", flush=True)
    await server.wait_for_termination()


class FloorServer:
    """The floor server in its own process, pinned to the gateway's core. It
    idles (no CPU) while the gateway is measured; each gateway pass is
    followed at once by the same pass against it, so both see the machine
    in the same state (a shared host's speed drifts over minutes)."""

    def __init__(self, cpu: int, client: str = "h1", base_url: str = "") -> None:
        self.cpu, self.client, self.base_url = cpu, client, base_url
        self.proc: subprocess.Popen[str] | None = None
        self.address = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, drivers: Drivers) -> FloorServer:
        port = free_port()
        self.proc = start_serving(self.cpu, [sys.executable, str(SCRIPT), "--serve", str(port),
                                             "--upstream", self.client, "--url", self.base_url],
                                  "the floor server")
        self.address = f"127.0.0.1:{port}"
        drivers.ghz(self.address, "chat", 16, 2)  # warm-up
        drivers.ghz(self.address, "stream", 16, 1)
        return self

    def measure(self, drivers: Drivers, load_cpu: int, kind: str, concurrency: int,
                seconds: float, tool: str = "ghz") -> dict[str, Any]:
        """One pass by ghz (statuses) or loadgen (replies checked, stream
        timings): the driver's figures, with kind, concurrency and cpu."""
        with procfs.Probe(self.pid, self.cpu, load_cpu) as probe:
            r = (drivers.ghz(self.address, kind, concurrency, seconds) if tool == "ghz" else
                 drivers.loadgen_grpc(self.address, f"{kind}=1", concurrency, seconds=seconds))
        return {"kind": kind, "concurrency": concurrency, **r,
                "cpu": probe.figures(r["requests"])}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc, 15, 10)
