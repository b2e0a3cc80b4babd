"""Runs the real gateway (`python -m llm_gateway serve`) as a child process on
a free loopback port and waits until it reports SERVING over gRPC health.

Its structured log lines are collected, so tests can assert on them (and on
what must never appear in them, such as secrets).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

START_TIMEOUT = 60.0


class GatewayProcess:
    def __init__(self, config: Path | None, *, workers: int = 1,
                 env: dict[str, str] | None = None, extra_args: list[str] | None = None) -> None:
        self.config = config
        self.workers = workers
        self.env = {**os.environ, **(env or {})}
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[str] | None = None
        self.address = ""
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> GatewayProcess:
        args = [sys.executable, "-m", "llm_gateway", "serve", "--address", "127.0.0.1:0",
                "--workers", str(self.workers), *self.extra_args]
        if self.config is not None:
            args += ["--config", str(self.config)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=self.env)
        threading.Thread(target=self._read, daemon=True).start()
        serving = self.wait_for_log(lambda e: e.get("msg") == "serving", START_TIMEOUT)
        self.address = serving["address"]
        self.wait_serving()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def wait_for_log(self, match: Any, timeout: float) -> dict[str, Any]:
        """Blocks until a log entry satisfies `match` (or the process exits)."""
        for entry in self.entries():
            if match(entry):
                return entry
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(
                    f"no matching log line; log so far:\n{self.log_text()}") from None
            if line is None:
                raise RuntimeError(f"gateway exited; log:\n{self.log_text()}")
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if match(entry):
                return entry

    def log_text(self) -> str:
        return "".join(self.lines)

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)

    def wait_serving(self, service: str = "") -> None:
        with self.channel() as ch:
            grpc.channel_ready_future(ch).result(timeout=START_TIMEOUT)
            reply = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
