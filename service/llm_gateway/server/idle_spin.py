"""Idle spin: after a call arrives, the event loop polls for a short while
instead of sleeping.

When the loop has nothing to do it sleeps in epoll_wait, and the core goes
idle. Waking an idle core costs tens of microseconds on a virtual machine (an
exit to the hypervisor, then cold caches), and a gateway call waits several
times: for its request message (through gRPC's poller thread), for the
upstream's answer, for the client's next call. At one call at a time those
wake-ups were about a quarter of the gateway's latency (bench/README.md).

For `window` seconds after each accepted call, `IdleSpin` keeps a callback in
the loop's ready queue, so the loop polls its sockets without sleeping, and
each turn that had nothing else to do calls sched_yield(), where the loop
would have slept: the loop's core never idles, yet gRPC's poller (a
SCHED_BATCH thread that otherwise runs only when the loop sleeps,
server/threads.py) and any other runnable thread on the core get it at once.
Once no call has arrived for `window`, the loop sleeps as before: an idle
server costs nothing.

The cost is CPU time: up to `window` of polling after each call, which an
otherwise idle core would not have spent. Under a CPU quota (a Kubernetes CPU
limit) that time counts against the quota, so by default the spin is off when
the process's cgroup has one (`resolve`).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

DEFAULT_US = 600  # bench/README.md: 300 µs gained half as much; 600 and 1,000 the same
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
# A turn of the spin that comes this soon after the previous one had nothing
# else to run beside it: only then does it yield. Yielding on busy turns too
# ran the poller for a few completions at a time, not in batches: 12 % fewer
# unary calls/s at 16 concurrent calls (bench/README.md); yielding at least
# every 250 or 500 µs too: 8 and 6 % fewer (and 10 % more streams/s). Where
# even idle turns were slower than this, the poller would wait until the
# window ends: no call is accepted meanwhile to extend it, so the spin stops
# and the loop sleeps as it would have without it.
IDLE_TURN_S = 10e-6


class IdleSpin:
    """Polls the loop for `window_us` after each `kick()`; 0 = never."""

    def __init__(self, window_us: int) -> None:
        self.window = window_us / 1e6
        self.until = 0.0  # perf_counter() time the spin ends
        self._spinning = False
        self._last_turn = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def spinning(self) -> bool:
        return self._spinning

    def kick(self) -> None:
        """A call arrived (called from the loop's thread)."""
        if not self.window:
            return
        self.until = time.perf_counter() + self.window
        if not self._spinning:
            self._spinning = True
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._loop.call_soon(self._turn)

    def _turn(self) -> None:
        now = time.perf_counter()
        if now < self.until:
            if now - self._last_turn < IDLE_TURN_S:
                os.sched_yield()
            self._last_turn = now
            self._loop.call_soon(self._turn)  # type: ignore[union-attr]
        else:
            self._spinning = False


def resolve(configured: int | None, cgroup_root: Path = CGROUP_ROOT,
            proc_cgroup: Path = PROC_CGROUP) -> int:
    """The window in effect: the configured one, or by default DEFAULT_US
    unless this process's cgroup has a CPU quota (then 0). Always 0 where
    there is no sched_yield: the spin would keep gRPC's batch poller off the
    core."""
    if not hasattr(os, "sched_yield"):
        return 0
    if configured is not None:
        return configured
    return 0 if has_cpu_quota(cgroup_root, proc_cgroup) else DEFAULT_US


def has_cpu_quota(cgroup_root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> bool:
    """Whether a CPU quota applies to this process's cgroup (v2 `cpu.max`,
    v1 `cpu.cfs_quota_us`), checked up to the root."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue  # not `id:controllers:path`: nothing to learn from it
        _, controllers, path = fields
        if controllers == "":  # cgroup v2: "0::/path"
            directory, name, unlimited = cgroup_root / path.lstrip("/"), "cpu.max", "max"
        elif "cpu" in controllers.split(","):
            directory = cgroup_root / controllers / path.lstrip("/")
            name, unlimited = "cpu.cfs_quota_us", "-1"
        else:
            continue
        if _quota_up_from(directory, cgroup_root, name, unlimited):
            return True
    return False


def _quota_up_from(directory: Path, root: Path, name: str, unlimited: str) -> bool:
    while True:
        try:
            value = (directory / name).read_text().split()
        except OSError:
            value = []
        if value and value[0] != unlimited:
            return True
        if directory == root or directory.parent == directory:
            return False
        directory = directory.parent
