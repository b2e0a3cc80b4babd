"""servicers/pacing.py: a stream's later messages and its end wait while the
event loop is busy (at most max_wait) and go after its first idle turn,
behind what that turn let in; a lone call and a stream's first two messages
never wait."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvloop
from llm_gateway.server.idle_spin import IDLE_TURN_S
from llm_gateway.servicers.pacing import Pacing
from llm_gateway.servicers.rpc import Call, RpcServicer, server_stream

FOREVER_MS = 60_000  # a message released before this was released by an idle turn


class Busy:
    """Keeps the loop busy: a callback that re-schedules itself and runs
    `work_s` each turn, until stopped or `turns` have run."""

    def __init__(self, turns: int, work_s: float = 200e-6) -> None:
        self.turns, self.work_s, self.ran = turns, work_s, 0
        self.on_turn: Callable[[], None] = lambda: None
        self.done = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        end = time.perf_counter() + self.work_s
        while time.perf_counter() < end:
            pass
        self.ran += 1
        self.on_turn()
        if self.ran < self.turns and not self.done.done():
            asyncio.get_running_loop().call_soon(self._turn)
        elif not self.done.done():
            self.done.set_result(None)


def test_only_a_call_among_others_waits() -> None:
    pacing = Pacing(3)
    pacing.in_progress = 1  # the caller's own call
    assert not pacing.should_wait(2)
    pacing.in_progress = 2
    assert pacing.should_wait(2)
    assert not pacing.should_wait(1)  # a stream's first two messages never wait
    off = Pacing(0)
    off.in_progress = 16
    assert not off.should_wait(2)


async def test_an_idle_loop_releases_a_message_at_once() -> None:
    await asyncio.wait_for(Pacing(FOREVER_MS).wait(), 5)


async def test_a_busy_loop_holds_messages_until_it_has_an_idle_turn() -> None:
    pacing = Pacing(FOREVER_MS)
    busy = Busy(turns=100)
    waiters = [asyncio.ensure_future(pacing.wait()) for _ in range(3)]
    released_while_busy: list[int] = []
    busy.on_turn = lambda: released_while_busy.append(sum(w.done() for w in waiters))
    await busy.done
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert busy.ran == 100
    assert set(released_while_busy) == {0}


async def test_a_held_message_goes_after_max_wait_even_if_the_loop_stays_busy() -> None:
    pacing = Pacing(5)
    busy = Busy(turns=100_000)
    started = time.perf_counter()
    await asyncio.wait_for(pacing.wait(), 5)
    waited = time.perf_counter() - started
    assert not busy.done.done()  # released while the loop was still busy
    busy.done.set_result(None)
    assert waited >= 0.005


async def test_a_cancelled_wait_does_not_hold_up_the_others() -> None:
    pacing = Pacing(FOREVER_MS)
    busy = Busy(turns=20)
    first = asyncio.ensure_future(pacing.wait())
    second = asyncio.ensure_future(pacing.wait())
    await asyncio.sleep(0)
    first.cancel()
    await busy.done
    await asyncio.wait_for(second, 5)
    assert first.cancelled()


class _Context:
    """What the rpc wrapper asks of grpc.aio's ServicerContext on success."""

    def time_remaining(self) -> None:
        return None


class _Streamer(RpcServicer):
    messages = 4

    @server_stream("Stream")
    async def Stream(self, request: Any, context: Any, call: Call) -> AsyncIterator[int]:
        for message in range(self.messages):
            yield message


async def test_a_streams_first_two_messages_go_at_once_and_later_ones_wait() -> None:
    pacing = Pacing(FOREVER_MS)
    servicer = _Streamer(gateway=None, pacing=pacing)  # type: ignore[arg-type]
    pacing.in_progress = 1  # another call in progress
    received: list[int] = []
    busy = Busy(turns=50)
    busy_turns_at: list[int] = []

    async def read() -> None:
        async for message in servicer.Stream(object(), _Context()):
            received.append(message)
            busy_turns_at.append(busy.ran)

    await asyncio.wait_for(asyncio.gather(read(), busy.done), 5)
    assert received == [0, 1, 2, 3]  # all of them, in order
    assert busy_turns_at[1] < 50  # the first two went while the loop was busy
    assert busy_turns_at[2] == 50  # the third waited for the loop to be idle
    assert pacing.in_progress == 1  # the stream's own call was counted and released


async def test_a_streams_end_waits_like_a_later_message() -> None:
    pacing = Pacing(FOREVER_MS)
    servicer = _Streamer(gateway=None, pacing=pacing)  # type: ignore[arg-type]
    servicer.messages = 2  # both go at once; then only the end (the status) is left
    pacing.in_progress = 1  # another call in progress
    busy = Busy(turns=50)
    received: list[int] = []

    async def read() -> int:
        async for message in servicer.Stream(object(), _Context()):
            received.append(message)
            assert busy.ran < 50  # the messages went while the loop was busy
        return busy.ran  # when the stream ended

    ended_at, _ = await asyncio.wait_for(asyncio.gather(read(), busy.done), 5)
    assert received == [0, 1]
    assert ended_at == 50  # the end waited for the loop to be idle
    assert pacing.in_progress == 1


async def test_a_lone_stream_never_waits() -> None:
    pacing = Pacing(FOREVER_MS)
    servicer = _Streamer(gateway=None, pacing=pacing)  # type: ignore[arg-type]
    busy = Busy(turns=50)
    received = [m async for m in servicer.Stream(object(), _Context())]
    assert received == [0, 1, 2, 3]
    assert not busy.done.done()  # all four went while the loop was busy
    busy.done.set_result(None)


def test_held_messages_go_behind_what_the_idle_moment_let_in() -> None:
    # gRPC's poller runs while the loop is idle and hands its completions
    # over through a socket, whose reader uvloop runs right after the turn,
    # waking the calls they belong to; such a call asks its upstream, whose
    # answer (another socket) becomes its first event. Emulated here with
    # two socket pairs; the held message must go behind both steps. (The
    # gateway runs on uvloop; asyncio's own loop queues reader callbacks
    # behind the turn's other callbacks instead.)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        order = runner.run(_idle_moment_order())
    assert order == ["request read", "first event", "held message"]


async def _idle_moment_order() -> list[str]:
    loop = asyncio.get_running_loop()
    pacing = Pacing(FOREVER_MS)
    order: list[str] = []
    poller, poller_end = socket.socketpair()
    upstream, upstream_end = socket.socketpair()
    completion, answer = loop.create_future(), loop.create_future()

    def on_readable(sock: socket.socket, future: asyncio.Future[None]) -> None:
        sock.recv(1)
        future.set_result(None)

    async def other_call() -> None:
        await completion  # its request was read
        order.append("request read")
        upstream_end.send(b"q")  # the upstream answers at once
        await answer
        order.append("first event")

    async def held() -> None:
        await pacing.wait()
        order.append("held message")

    busy = Busy(turns=20)
    last_turn = time.perf_counter()

    def poller_turn() -> None:
        nonlocal last_turn
        now = time.perf_counter()
        if busy.done.done() and now - last_turn < IDLE_TURN_S:
            poller_end.send(b"x")  # the poller hands over a completion
            return
        last_turn = now
        loop.call_soon(poller_turn)

    loop.add_reader(poller, on_readable, poller, completion)
    loop.add_reader(upstream, on_readable, upstream, answer)
    try:
        calls = [asyncio.ensure_future(other_call()), asyncio.ensure_future(held())]
        await asyncio.sleep(0)  # both wait; pacing's turn is queued ahead of the poller's
        loop.call_soon(poller_turn)
        await asyncio.wait_for(asyncio.gather(*calls, busy.done), 5)
    finally:
        for sock in (poller, upstream):
            loop.remove_reader(sock)
        for sock in (poller, poller_end, upstream, upstream_end):
            sock.close()
    return order
