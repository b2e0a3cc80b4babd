"""What every RPC handler shares: the request id, the caller's deadline,
translation of errors to gRPC status, the access log line, and the pacing of
streams' later messages (pacing.py).

Servicers stay thin: they translate protobuf to core types, make one gateway
call and translate the result back; `unary` and `server_stream` wrap them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc

from ..api.errors import internal_status, to_status
from ..core.errors import GatewayError
from ..gateway import Gateway, new_request_id
from .pacing import Pacing

log = logging.getLogger("llm_gateway.rpc")
access = logging.getLogger("llm_gateway.access")

Req = TypeVar("Req")
Resp = TypeVar("Resp")


class RpcServicer:
    """What every servicer holds: the gateway, and the server's pacing (off
    unless given)."""

    def __init__(self, gateway: Gateway, pacing: Pacing | None = None) -> None:
        self._gateway = gateway
        self._pacing = pacing or Pacing(0)


class Call:
    """Per-call state handed to a servicer method."""

    __slots__ = ("deadline", "method", "model", "provider", "request_id", "started")

    def __init__(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> None:
        self.method = method
        self.started = time.perf_counter()
        meta = getattr(request, "metadata", None)
        rid = meta.request_id if meta is not None else ""
        self.request_id = rid if rid and len(rid) <= 128 and rid.isprintable() else new_request_id()
        remaining = context.time_remaining()
        self.deadline = (None if remaining is None
                         else asyncio.get_running_loop().time() + remaining)
        self.model = ""
        self.provider = ""

    def log(self, code: str, reason: str = "") -> None:
        if access.isEnabledFor(logging.INFO):
            access.info("rpc", extra={
                "rpc": self.method, "code": code, "reason": reason, "model": self.model,
                "provider": self.provider, "request_id": self.request_id,
                "ms": round((time.perf_counter() - self.started) * 1000, 3),
            })


UnaryFn = Callable[[Any, Req, grpc.aio.ServicerContext, Call], Awaitable[Resp]]
StreamFn = Callable[[Any, Req, grpc.aio.ServicerContext, Call], AsyncIterator[Resp]]


def unary(method: str) -> Callable[[UnaryFn[Req, Resp]], Callable[..., Awaitable[Resp]]]:
    def wrap(fn: UnaryFn[Req, Resp]) -> Callable[..., Awaitable[Resp]]:
        @functools.wraps(fn)
        async def handler(self: RpcServicer, request: Req, context: grpc.aio.ServicerContext
                          ) -> Resp:
            call = Call(method, request, context)
            pacing = self._pacing
            pacing.in_progress += 1
            try:
                response = await fn(self, request, context, call)
            except GatewayError as error:
                await _abort(context, call, error)
            except asyncio.CancelledError:
                call.log("CANCELLED")
                raise
            except Exception:
                await _abort_internal(context, call)
            finally:
                pacing.in_progress -= 1
            call.log("OK")
            return response

        return handler

    return wrap


def server_stream(method: str
                  ) -> Callable[[StreamFn[Req, Resp]], Callable[..., AsyncIterator[Resp]]]:
    def wrap(fn: StreamFn[Req, Resp]) -> Callable[..., AsyncIterator[Resp]]:
        @functools.wraps(fn)
        async def handler(self: RpcServicer, request: Req, context: grpc.aio.ServicerContext
                          ) -> AsyncIterator[Resp]:
            call = Call(method, request, context)
            pacing = self._pacing
            pacing.in_progress += 1
            sent = 0
            try:
                async for message in fn(self, request, context, call):
                    if pacing.should_wait(sent):
                        await pacing.wait()
                    sent += 1
                    yield message
                # The status (sent when this returns) is later output too.
                if pacing.should_wait(sent):
                    await pacing.wait()
            except GatewayError as error:
                await _abort(context, call, error)
            except asyncio.CancelledError:
                call.log("CANCELLED")
                raise
            except Exception:
                await _abort_internal(context, call)
            finally:
                pacing.in_progress -= 1
            call.log("OK")

        return handler

    return wrap


async def _abort(context: grpc.aio.ServicerContext, call: Call, error: GatewayError) -> None:
    code, message, trailers = to_status(error, call.request_id)
    call.log(code.name, error.reason)
    await context.abort(code, message, trailers)


async def _abort_internal(context: grpc.aio.ServicerContext, call: Call) -> None:
    log.exception("unhandled error", extra={"rpc": call.method, "request_id": call.request_id})
    call.log("INTERNAL", "INTERNAL")
    await context.abort(*internal_status(call.request_id))
