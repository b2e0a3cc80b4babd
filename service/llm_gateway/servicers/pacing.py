"""Pacing: a stream's later messages make way for other calls' first output.

On a saturated core every step of every call waits its turn in the event
loop, and a caller feels most the wait for a call's first output: a unary
reply, or a stream's first event and first content. Once a stream has sent
those (its first two messages: `start` and the first delta), each later
message, and then the stream's end (its OK status, which carries no content:
a chat stream's `done` event came before it), waits, while other calls are in
progress, until a turn of the loop finds nothing else to run, or at most
`max_wait`. The work of calls still waiting for their first output runs
first; the later messages go as soon as the loop has a moment, in one batch,
behind what that moment let in (gRPC's completions for other calls, and the
upstream answers those calls' handlers asked for).

At saturation this barely delays streams' ends: a closed loop's calls last
concurrency / throughput whatever the order of the work, so work moved later
only gives the earlier steps the core sooner (bench/README.md: first event
3.8 -> 3.0 ms at 16 streams, stream ends unchanged; holding the status too:
first event 0.13 ms and first text 0.25 ms sooner, ends 0.14 ms later). A
core with time to spare finds an idle turn at once, and a lone call never
waits. Each held message waits at most `max_wait` (default 3 ms), a small
fraction of the gap between an LLM's tokens, and a held stream keeps its
order: nothing is dropped or merged here.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

# A loop turn that comes within IDLE_TURN_S of the previous one had nothing
# else to run: the idle spin's measure.
from ..server.idle_spin import IDLE_TURN_S

HEAD_MESSAGES = 2  # a stream's `start` and its first output go at once


class Pacing:
    """Counts the calls in progress, and holds later stream messages while
    the loop is busy with others (`max_wait_ms` 0: never)."""

    def __init__(self, max_wait_ms: float) -> None:
        self.max_wait = max_wait_ms / 1000
        self.in_progress = 0
        self._waiting: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._turning = False
        self._last_turn = 0.0
        self._idle_turns = (False, False)  # whether the last two were idle, latest first

    def should_wait(self, sent: int) -> bool:
        """Whether a stream's next message, after `sent` of them, waits: it is
        a later one, pacing is on and another call is in progress (the
        caller's own call counts as one)."""
        return sent >= HEAD_MESSAGES and self.in_progress > 1 and self.max_wait > 0

    async def wait(self) -> None:
        """Returns two turns after the loop's next idle turn, or after
        `max_wait`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.append((time.perf_counter() + self.max_wait, future))
        if not self._turning:
            self._turning = True
            self._last_turn = 0.0  # the first turn only starts the measure
            self._idle_turns = (False, False)
            loop.call_soon(self._turn, loop)
        await future

    def _turn(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.perf_counter()
        waiting = self._waiting
        # Held messages go two turns after an idle one. The idle moment is
        # when gRPC's poller runs (the idle spin yields to it): the next turn
        # runs the completions it delivered (calls accepted, requests read),
        # whose handlers ask their upstreams, and the turn after that runs
        # the upstreams' answers, which become those calls' first events.
        # Released any sooner, the messages would run ahead of that work
        # (bench/README.md: first event 0.29 then 0.1 ms sooner at 16 streams).
        release = self._idle_turns[1]
        self._idle_turns = (now - self._last_turn < IDLE_TURN_S, self._idle_turns[0])
        while waiting and (release or waiting[0][0] <= now):
            future = waiting.popleft()[1]
            if not future.done():  # a cancelled call's message is skipped
                future.set_result(None)
        self._last_turn = now
        if waiting:
            loop.call_soon(self._turn, loop)
        else:
            self._turning = False
