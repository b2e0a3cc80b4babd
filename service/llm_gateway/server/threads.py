"""The process's helper threads stop preempting the event loop.

Besides the event loop's thread, a server process has gRPC's threads (the
completion-queue poller, which hands every completed operation to the loop,
and core's timer and EventEngine threads) and uvloop's resolver workers.
Under full load, on a shared core, the poller woke for nearly every
completion and preempted the loop to hand it over: ~13,000 preemptions a
second at 1,500 streams/s, 20 context switches per stream. Run as
SCHED_BATCH (Linux: "assumed CPU-bound, never preempts on wake-up"; no
privilege needed, and unlike a higher nice value it keeps the threads' share
of the CPU), the poller runs when the loop waits or its time slice ends and
hands over what completed meanwhile in one batch: one context switch per
stream, a quarter less CPU per stream and per unary call at full load, and
first events sooner (bench/README.md). When the loop is idle the helpers
still run at once, so latency at low load is unchanged.

Threads inherit the policy of the thread that creates them: helpers that
gRPC starts later from these threads are batch too; threads the loop's
thread starts later (asyncio.to_thread) stay normal.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger("llm_gateway.server")

TASKS = Path("/proc/self/task")


def batch_helper_threads(tasks: Path = TASKS) -> int:
    """Sets every thread of this process but the calling one (the event
    loop's) to SCHED_BATCH; returns how many. 0 where the platform has no
    such policy or the sandbox forbids it (logged)."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not tasks.is_dir():
        return 0
    me = threading.get_native_id()
    changed = 0
    for entry in tasks.iterdir():
        tid = int(entry.name)
        if tid == me:
            continue
        try:
            os.sched_setscheduler(tid, policy, os.sched_param(0))
        except ProcessLookupError:
            continue  # the thread ended meanwhile
        except OSError as exc:
            log.warning("helper threads keep the normal policy", extra={"error": str(exc)})
            return changed
        changed += 1
    return changed
