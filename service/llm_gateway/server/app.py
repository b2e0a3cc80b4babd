"""One gateway server process: build, serve, drain, stop.

Shutdown is ordered (SIGTERM or SIGINT):
  1. health turns NOT_SERVING everywhere, at once;
  2. for `drain_seconds` the server keeps serving, so load balancers and
     Kubernetes notice and stop sending traffic here;
  3. `server.stop(grace_seconds)`: new calls are refused, in-flight calls
     (streams included) get the grace period to finish, then are cancelled;
  4. the providers' HTTP clients are closed.
A second signal skips what is left of the drain period.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from llmgateway.v1 import (
    chat_pb2_grpc,
    completions_pb2_grpc,
    embeddings_pb2_grpc,
    local_models_pb2_grpc,
    models_pb2_grpc,
)

from ..config.schema import GatewayConfig
from ..gateway import Gateway
from ..servicers.chat import ChatServicer
from ..servicers.completions import CompletionServicer
from ..servicers.embeddings import EmbeddingServicer
from ..servicers.local_models import LocalModelServicer
from ..servicers.models import ModelServicer
from ..servicers.names import SERVICE_NAMES
from ..servicers.pacing import Pacing
from . import accept_ahead, grpc_settings, idle_spin
from .accept_ahead import AcceptAhead, RegisteredMethods
from .health import GatewayHealth
from .idle_spin import IdleSpin
from .threads import batch_helper_threads

log = logging.getLogger("llm_gateway.server")


def server_options(config: GatewayConfig) -> list[tuple[str, int]]:
    server = config.server
    max_bytes = server.max_message_mb * 1024 * 1024
    options = [
        # Several worker processes bind the same port (see workers.py).
        ("grpc.so_reuseport", 1),
        ("grpc.max_receive_message_length", max_bytes),
        ("grpc.max_send_message_length", max_bytes),
        # Let clients keep idle connections alive with pings (long streams,
        # connection pools behind NATs).
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
    # A Kubernetes Service balances connections, not calls: without an age
    # limit a client stays on the pod (and the worker) it first reached.
    if server.max_connection_age_seconds > 0:
        options.append(("grpc.max_connection_age_ms", _ms(server.max_connection_age_seconds)))
        if server.max_connection_age_grace_seconds is not None:
            options.append(("grpc.max_connection_age_grace_ms",
                            _ms(server.max_connection_age_grace_seconds)))
    return options


def _ms(seconds: float) -> int:
    return min(round(seconds * 1000), 2**31 - 1)  # gRPC's integer arguments are 32-bit


class GatewayServer:
    def __init__(self, config: GatewayConfig, gateway: Gateway | None = None) -> None:
        self.config = config
        self.gateway = gateway or Gateway.from_config(config)
        self.health = GatewayHealth()
        # No interceptors and no maximum_concurrent_rpcs: AcceptAhead hands
        # calls over without them (see accept_ahead.py).
        self.server = grpc.aio.server(options=server_options(config))
        self.methods = RegisteredMethods(self.server)
        self.idle_spin = IdleSpin(idle_spin.resolve(config.server.idle_spin_us))
        # One for all servicers: it counts every call in progress.
        self.pacing = Pacing(config.server.later_message_wait_ms)
        self.accept_ahead = AcceptAhead(self.server, config.server.accept_ahead,
                                        on_accept=self.idle_spin.kick)
        self.port = 0
        self._stopping = asyncio.Event()
        self._skip_drain = asyncio.Event()

    def _register(self) -> None:
        g, p, server = self.gateway, self.pacing, self.methods  # forwards to self.server
        chat_pb2_grpc.add_ChatServiceServicer_to_server(ChatServicer(g, p), server)
        embeddings_pb2_grpc.add_EmbeddingServiceServicer_to_server(EmbeddingServicer(g, p),
                                                                   server)
        models_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(g, p), server)
        completions_pb2_grpc.add_CompletionServiceServicer_to_server(CompletionServicer(g, p),
                                                                     server)
        local_models_pb2_grpc.add_LocalModelServiceServicer_to_server(LocalModelServicer(g, p),
                                                                      server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        if self.config.server.reflection:
            names = (*SERVICE_NAMES,
                     health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                     reflection.SERVICE_NAME)
            reflection.enable_server_reflection(names, self.server)

    async def start(self, address: str | None = None) -> int:
        address = address or self.config.server.address
        await self.gateway.start()
        self._register()
        self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address}")
        await self.server.start()
        self.accept_ahead.start(self.methods.handlers)
        await self.health.mark_serving()
        return self.port

    def request_stop(self) -> None:
        """Signal handler: the first call starts shutdown, the second skips
        the rest of the drain period."""
        if self._stopping.is_set():
            self._skip_drain.set()
        self._stopping.set()

    async def wait_and_shutdown(self) -> None:
        await self._stopping.wait()
        drain = self.config.server.drain_seconds
        grace = self.config.server.grace_seconds
        log.info("draining", extra={"drain_seconds": drain, "grace_seconds": grace})
        await self.health.enter_graceful_shutdown()
        if drain > 0:
            try:
                await asyncio.wait_for(self._skip_drain.wait(), timeout=drain)
            except TimeoutError:
                pass
        await self.server.stop(grace)
        await self.accept_ahead.aclose()
        await self.gateway.aclose()
        log.info("stopped")


async def serve(config: GatewayConfig, address: str | None = None,
                on_ready: Callable[[int], None] | None = None) -> None:
    """Runs one server until SIGTERM/SIGINT, then shuts down in order."""
    server = GatewayServer(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.request_stop)
    try:
        port = await server.start(address)
    except BaseException:
        await server.gateway.aclose()
        raise
    settle(config.server.helper_threads)
    if on_ready is not None:
        on_ready(port)
    await server.wait_and_shutdown()


# The cycle collector's young generation is collected every 50,000 net
# allocations of objects it tracks, not Python's default 700. A stream
# allocates a few hundred (decoded JSON, events, messages), so by default a
# collection came every few streams, and each walked the objects of every
# call still in flight to free next to nothing: what a call leaves behind
# goes by reference counting (tests/providers/http/test_h1.py holds the
# upstream client to that). perf put the walks at ~1.3 % of the CPU under
# load; interleaved A/B at 16 streams, 1 to 4 % less CPU per stream
# (bench/README.md). The older generations keep the default ratios (10, 10).
GC_THRESHOLDS = (50_000, 10, 10)


def settle(helper_threads: str) -> None:
    """What a serving process does once its server is up (serve(); the
    benchmark's bare servers do the same, to compare like with like)."""
    if helper_threads == "batch":
        batch_helper_threads()
    # What is alive now (modules, configuration, providers, the server)
    # lives as long as the process: take it out of the cycle collector's
    # sight. Under load, the reference cycles of calls in flight trigger a
    # full collection every second or so, and walking these ~80,000 objects
    # stalled every call in flight for ~35 ms each time (a stream's p99 of
    # 45 ms against 19 ms frozen; bench/README.md). Frozen objects are still
    # freed by reference counting.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def settings_in_effect(config: GatewayConfig) -> dict[str, object]:
    """The server settings a process runs with, for its "serving" log line."""
    depth = accept_ahead.in_effect(config.server.accept_ahead)
    return {"grpc_experiments": grpc_settings.in_effect(),
            "accept_ahead": depth,
            "helper_threads": config.server.helper_threads,
            # The acceptors start the spin: without them there is none.
            "idle_spin_us": idle_spin.resolve(config.server.idle_spin_us) if depth else 0}
