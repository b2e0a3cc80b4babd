"""N worker processes on one port, to use every core.

Python runs one thread of Python code at a time, so one process serves from
one core. The supervisor (this module) starts N processes that each bind the
same address with SO_REUSEPORT; the kernel spreads connections across them.
With port 0 the supervisor first reserves a free port by binding (without
listening) a SO_REUSEPORT socket, and the workers bind that port.

The supervisor forwards SIGTERM/SIGINT to the workers, restarts a worker that
dies unexpectedly, and exits 0 when every worker has shut down cleanly.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

from ..config.schema import GatewayConfig
from .app import settings_in_effect

log = logging.getLogger("llm_gateway.supervisor")
_ctx = multiprocessing.get_context("spawn")  # never fork a process with gRPC threads


def worker_count(config: GatewayConfig) -> int:
    return config.server.workers or os.cpu_count() or 1


def reserve_port(address: str) -> tuple[socket.socket, str]:
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, int(port)))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    return sock, f"{shown}:{bound}"


def _worker_main(config: GatewayConfig, address: str, index: int,
                 ready: multiprocessing.connection.Connection) -> None:
    from .main import run_single

    code = run_single(config, address, on_ready=lambda port: ready.send(port), worker=index)
    sys.exit(code)


def supervise(config: GatewayConfig, address: str) -> int:
    count = worker_count(config)
    reservation, address = reserve_port(address)
    stopping = False

    def start(index: int) -> tuple[SpawnProcess, multiprocessing.connection.Connection]:
        receiver, sender = _ctx.Pipe(duplex=False)
        process = _ctx.Process(target=_worker_main, args=(config, address, index, sender),
                               name=f"llm-gateway-worker-{index}")
        process.start()
        sender.close()
        return process, receiver

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for p in workers:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)

    workers: list[SpawnProcess] = []
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pipes = []
    for i in range(count):
        process, pipe = start(i)
        workers.append(process)
        pipes.append(pipe)
    for i, pipe in enumerate(pipes):
        try:
            pipe.recv()  # the worker's port, sent once it serves
        except EOFError:
            log.error("worker failed to start", extra={"worker": i})
            on_signal(signal.SIGTERM, None)
            break
    else:
        log.info("serving", extra={"address": address, "workers": count, "pid": os.getpid(),
                                   **settings_in_effect(config)})
    reservation.close()

    exit_codes: dict[int, int] = {}
    while len(exit_codes) < len(workers):
        multiprocessing.connection.wait(
            [p.sentinel for i, p in enumerate(workers) if i not in exit_codes], timeout=1.0)
        for i, p in enumerate(workers):
            if i in exit_codes or p.is_alive():
                continue
            code = p.exitcode if p.exitcode is not None else 1
            if stopping:
                exit_codes[i] = code
            else:
                log.error("worker exited; restarting", extra={"worker": i, "exit_code": code})
                time.sleep(1.0)  # don't spin if the worker can't start
                workers[i], _ = start(i)
    failed = {i: c for i, c in exit_codes.items() if c != 0}
    if failed:
        log.error("workers exited with errors", extra={"exit_codes": failed})
        return 1
    return 0
