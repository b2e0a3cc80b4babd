"""Accept-ahead: new calls are accepted several at a time, not one by one.

grpc.aio asks gRPC core for the next call of each method only once the
previous one has reached the event loop, and that request itself goes through
a task, the completion queue, the poller thread and a turn of the loop. While
the loop is busy with calls in flight, that takes several turns, and calls
that arrive meanwhile wait in core, not yet accepted: at 16 concurrent streams
on one core, that wait was most of a stream's time to first event, and it
capped throughput (bench/README.md, "What was done").

`AcceptAhead` keeps `depth` more requests for calls outstanding for every
registered method, so calls that arrive together are matched by core at once
and reach the loop in the same turn; each acceptor asks for its next call
directly, without a task or `asyncio.wait` in between. Every call it accepts
is handed to the functions grpc.aio's own serving loop uses
(`_handle_rpc`, `_schedule_rpc_coro`), so method handlers, cancellation,
deadlines and shutdown work exactly as for the calls grpc.aio accepts itself.
grpc.aio's own loop keeps running beside it.

Those functions are grpc.aio's private ones (grpc/_cython/_cygrpc/aio/
server.pyx.pxi). `unavailable()` checks that they are there with the
signatures this module was written against; if a grpcio release changes
them, the server logs why and serves with grpc.aio's loop alone, as with
depth 0. The acceptors pass no interceptors and no concurrency limit: the
gateway's server has neither (server/app.py), and one added there must be
added here too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from grpc._cython import cygrpc

log = logging.getLogger("llm_gateway.server")

# The private parts used, with the parameters this module passes.
_FUNCTIONS = {
    "_handle_rpc": ("method_name", "method_resolver", "interceptors", "rpc_state", "loop",
                    "concurrency_exceeded"),
    "_schedule_rpc_coro": ("rpc_coro", "rpc_state", "loop", "method_name"),
}
_CLASSES = ("_MethodResolver", "_RequestCallError", "AioServer")
_SERVER_METHODS = ("_request_registered_call", "is_running")


def unavailable(module: Any = cygrpc) -> str | None:
    """Why accept-ahead cannot run with this grpcio, or None if it can."""
    for name in _CLASSES:
        if not hasattr(module, name):
            return f"grpcio {grpc.__version__} has no cygrpc.{name}"
    for name in _SERVER_METHODS:
        if not hasattr(module.AioServer, name):
            return f"grpcio {grpc.__version__} has no AioServer.{name}"
    for name, params in _FUNCTIONS.items():
        code = getattr(getattr(module, name, None), "__code__", None)
        if code is None or code.co_varnames[:code.co_argcount] != params:
            return f"grpcio {grpc.__version__} changed cygrpc.{name}"
    return None


def in_effect(depth: int) -> int:
    """The depth a server configured with `depth` runs with (for the
    start-up log line)."""
    return depth if unavailable() is None else 0


class RegisteredMethods:
    """Stands in for the server when services are added to it: forwards
    everything and keeps the registered method handlers, by full name
    (`/package.Service/Method`), for the acceptors."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self.server = server
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        self.server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, service: str,
                                       handlers: Mapping[str, grpc.RpcMethodHandler]) -> None:
        self.server.add_registered_method_handlers(service, dict(handlers))
        self.handlers.update({f"/{service}/{method}": h for method, h in handlers.items()})


class AcceptAhead:
    """`depth` acceptors for each registered method of a started server."""

    def __init__(self, server: grpc.aio.Server, depth: int,
                 on_accept: Callable[[], None] | None = None) -> None:
        self._core = server._server  # the cygrpc.AioServer behind grpc.aio.Server
        self.depth = depth
        self._on_accept = on_accept  # told of each call accepted (server/idle_spin.py)
        self.accepted = 0  # calls accepted by the acceptors (not by grpc.aio's loop)
        self._acceptors: list[asyncio.Task[None]] = []
        self._calls: set[asyncio.Task[None]] = set()

    def start(self, handlers: Mapping[str, grpc.RpcMethodHandler]) -> int:
        """Starts the acceptors for the registered `handlers` (by full
        name); returns the depth in effect (0 if this grpcio lacks what
        they need)."""
        if self.depth == 0 or not handlers:
            self.depth = 0
            return 0
        reason = unavailable()
        if reason is not None:
            log.warning("accept-ahead off", extra={"reason": reason})
            self.depth = 0
            return 0
        loop = asyncio.get_running_loop()
        resolver = cygrpc._MethodResolver([], dict(handlers))
        self._acceptors = [loop.create_task(self._accept(name, resolver, loop),
                                            name=f"accept {name}")
                           for name in handlers for _ in range(self.depth)]
        return self.depth

    async def _accept(self, name: str, resolver: Any, loop: asyncio.AbstractEventLoop) -> None:
        method = name.encode()
        core = self._core
        # is_running() is checked right before each request, in the same
        # turn: once shutdown begins (it sets the status before it tells
        # core), nothing is asked of a server core may have destroyed.
        while core.is_running():
            try:
                rpc_state = await core._request_registered_call(method)
            except cygrpc._RequestCallError:
                continue  # failed by core: at shutdown, the loop's condition ends it
            except Exception:
                log.exception("accept-ahead acceptor stopped", extra={"method": name})
                return
            self.accepted += 1
            if self._on_accept is not None:
                self._on_accept()
            call = cygrpc._handle_rpc(name, resolver, (), rpc_state, loop, False)
            task = loop.create_task(cygrpc._schedule_rpc_coro(call, rpc_state, loop, name))
            # The loop keeps only weak references to tasks.
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    async def aclose(self) -> None:
        """After the server has stopped: core has failed every outstanding
        request, so the acceptors end; wait for them (briefly)."""
        if not self._acceptors:
            return
        _, pending = await asyncio.wait(self._acceptors, timeout=5.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._acceptors, return_exceptions=True)
        self._acceptors = []
