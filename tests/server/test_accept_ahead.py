"""Accept-ahead (server/accept_ahead.py) on a real in-process server: calls
it accepts are served, cancelled and drained like grpc.aio's own, and its
acceptors end with the server."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from grpc._cython import cygrpc
from llm_gateway.server.accept_ahead import unavailable
from llmgateway.v1 import chat_pb2, chat_pb2_grpc

from tests.support.grpc_helpers import chat_input, slow_stream
from tests.support.inprocess import DEFAULT_CONFIG, running


def config(**server: Any) -> dict[str, Any]:
    return {**DEFAULT_CONFIG, "server": {**DEFAULT_CONFIG["server"], **server}}


def acceptor_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("accept /")]


async def test_calls_arriving_together_are_accepted_ahead() -> None:
    async with running(config(accept_ahead=8)) as (server, channel):
        assert server.accept_ahead.depth == 8
        # Every registered method has its acceptors, health's included.
        names = {t.get_name() for t in acceptor_tasks()}
        assert {"accept /llmgateway.v1.ChatService/StreamChat",
                "accept /grpc.health.v1.Health/Check"} <= names
        assert len(acceptor_tasks()) == 8 * len(server.methods.handlers)
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        replies = await asyncio.gather(*(
            stub.Chat(chat_pb2.ChatRequest(input=chat_input("fast", f"call {i}")), timeout=10)
            for i in range(16)))
        assert [r.message.parts[0].text for r in replies] == [f"call {i}" for i in range(16)]
        # grpc.aio's own loop has one request outstanding; the acceptors
        # took (most of) the rest.
        assert server.accept_ahead.accepted >= 8


async def test_depth_zero_leaves_accepting_to_grpc_aio() -> None:
    async with running(config(accept_ahead=0)) as (server, channel):
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        await asyncio.gather(*(stub.Chat(chat_pb2.ChatRequest(input=chat_input("fast")),
                                         timeout=10) for _ in range(8)))
        assert (server.accept_ahead.depth, server.accept_ahead.accepted) == (0, 0)
        assert acceptor_tasks() == []


async def test_streams_accepted_ahead_finish_during_shutdowns_grace(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "llm_gateway.server")
    async with running(config(accept_ahead=4, grace_seconds=30)) as (server, channel):
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        calls = [stub.StreamChat(slow_stream(10, 20), timeout=30) for _ in range(6)]
        for call in calls:  # every stream is running
            assert (await call.read()).WhichOneof("event") == "start"
        assert server.accept_ahead.accepted >= 4
        server.request_stop()
        shutdown = asyncio.create_task(server.wait_and_shutdown())
        for call in calls:
            rest = []
            while (event := await call.read()) is not grpc.aio.EOF:
                rest.append(event)
            assert [e.WhichOneof("event") for e in rest].count("text_delta") == 10
            assert rest[-1].WhichOneof("event") == "done"
            assert await call.code() == grpc.StatusCode.OK
        await shutdown
        # Core failed the acceptors' outstanding requests: they ended on
        # their own, none was left to be cancelled.
        assert acceptor_tasks() == []
    assert not [r for r in caplog.records if "accept" in r.getMessage()]


class CancelledCalls(logging.Handler):
    """Sets `all_ended` once `expected` access lines say CANCELLED."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.expected, self.all_ended = expected, asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "code", "") == "CANCELLED":
            self.expected -= 1
            if self.expected == 0:
                self.all_ended.set()


async def test_streams_accepted_ahead_see_their_clients_cancel() -> None:
    access = logging.getLogger("llm_gateway.access")
    ended, level = CancelledCalls(4), access.level
    access.addHandler(ended)
    access.setLevel(logging.INFO)
    try:
        async with running(config(accept_ahead=4)) as (server, channel):
            stub = chat_pb2_grpc.ChatServiceStub(channel)
            calls = [stub.StreamChat(slow_stream(200, 50), timeout=30) for _ in range(4)]
            for call in calls:
                assert (await call.read()).WhichOneof("event") == "start"
            assert server.accept_ahead.accepted >= 2
            for call in calls:
                call.cancel()
            # Each handler ends, with CANCELLED, long before its 10 s stream would.
            await asyncio.wait_for(ended.all_ended.wait(), 5)
    finally:
        access.removeHandler(ended)
        access.setLevel(level)


def test_this_grpcio_has_what_accept_ahead_needs() -> None:
    # Fails on a grpcio bump that changes grpc.aio's private serving functions:
    # the server would still serve, with accept-ahead off and a warning.
    assert unavailable() is None


def test_a_grpcio_without_the_private_functions_turns_it_off() -> None:
    missing = SimpleNamespace(**{n: getattr(cygrpc, n) for n in (
        "_MethodResolver", "_RequestCallError", "AioServer", "_schedule_rpc_coro")})
    assert "cygrpc._handle_rpc" in (unavailable(missing) or "")

    async def _handle_rpc(method_name, method_resolver, interceptors, rpc_state,  # type: ignore[no-untyped-def]
                          loop):
        ...

    changed = SimpleNamespace(**{**vars(missing), "_handle_rpc": _handle_rpc})
    assert "changed cygrpc._handle_rpc" in (unavailable(changed) or "")


async def test_each_call_accepted_ahead_starts_the_idle_spin() -> None:
    async with running(config(accept_ahead=8, idle_spin_us=100_000)) as (server, channel):
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        await asyncio.gather(*(stub.Chat(chat_pb2.ChatRequest(input=chat_input("fast")),
                                         timeout=10) for _ in range(16)))
        assert server.accept_ahead.accepted >= 1
        # Kicked: the window's end was set (whether it has passed depends on
        # the machine's speed; tests/server/test_idle_spin.py times the spin).
        assert server.idle_spin.until > 0
    async with running(config(accept_ahead=8, idle_spin_us=0)) as (server, channel):
        stub = chat_pb2_grpc.ChatServiceStub(channel)
        await stub.Chat(chat_pb2.ChatRequest(input=chat_input("fast")), timeout=10)
        assert server.idle_spin.until == 0 and not server.idle_spin.spinning
