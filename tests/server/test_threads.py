"""server/threads.py on this process's own threads."""

from __future__ import annotations

import os
import threading

from llm_gateway.server.threads import TASKS, batch_helper_threads


def test_every_thread_but_the_callers_becomes_batch() -> None:
    started, stop = threading.Event(), threading.Event()
    ids: list[int] = []

    def helper() -> None:
        ids.append(threading.get_native_id())
        started.set()
        stop.wait(30)

    before = policies()
    thread = threading.Thread(target=helper)
    thread.start()
    started.wait(10)
    try:
        assert batch_helper_threads() >= 1
        assert os.sched_getscheduler(ids[0]) == os.SCHED_BATCH
        assert os.sched_getscheduler(0) == before[threading.get_native_id()]  # the caller's
    finally:
        stop.set()
        thread.join()
        for tid, policy in before.items():  # this test process's threads as they were
            try:
                os.sched_setscheduler(tid, policy, os.sched_param(0))
            except ProcessLookupError:
                pass


def policies() -> dict[int, int]:
    return {int(task.name): os.sched_getscheduler(int(task.name)) for task in TASKS.iterdir()}
