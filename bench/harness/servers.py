"""The processes under test, on loopback: nginx (the fake upstream, pinned
with the load generators) and the gateway (one worker, pinned alone).

Readiness is observed, never assumed: nginx when it answers a request, the
gateway when it logs {"msg": "serving", "address": ...}."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from llm_gateway.config.schema import ServerConfig
from llm_gateway.server import grpc_settings, idle_spin

from .tools import say

START_TIMEOUT = 60.0


def pin(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env() -> dict[str, str]:
    """Loopback traffic never goes through a proxy from the environment, and
    every gRPC server measured (the gateway, the floor, micro_path's) runs with
    the gRPC core settings the gateway picks for itself, so floors compare
    like with like."""
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
    env = {**os.environ, "NO_PROXY": no_proxy, "no_proxy": no_proxy}
    grpc_settings.apply(env, modules={})  # the child has not imported grpc yet
    return env


def accept_ahead() -> int:
    """The depth of accept-ahead for the gateway and the floor: the gateway's
    default unless BENCH_ACCEPT_AHEAD says (0 = grpc.aio's own accept only)."""
    return int(os.environ.get("BENCH_ACCEPT_AHEAD", ServerConfig().accept_ahead))


def helper_threads() -> str:
    """The helper threads' policy for the gateway and the floor: the
    gateway's default unless BENCH_HELPER_THREADS says (batch or normal)."""
    return os.environ.get("BENCH_HELPER_THREADS", ServerConfig().helper_threads)


def idle_spin_us() -> int:
    """The idle spin's window for the gateway and the floor: the gateway's
    default on this machine unless BENCH_IDLE_SPIN_US says (0 = none)."""
    configured = os.environ.get("BENCH_IDLE_SPIN_US")
    return idle_spin.resolve(int(configured) if configured else ServerConfig().idle_spin_us)


def later_message_wait_ms() -> float:
    """How long a stream's later messages may wait for an idle loop turn, for
    the gateway and the floor: the gateway's default unless
    BENCH_LATER_MESSAGE_WAIT_MS says (0 = never)."""
    configured = os.environ.get("BENCH_LATER_MESSAGE_WAIT_MS")
    return float(configured) if configured else ServerConfig().later_message_wait_ms


def gateway_config(repo: Path, upstream_port: int) -> str:
    """bench/gateway.yaml with its placeholders filled in."""
    return ((repo / "bench" / "gateway.yaml").read_text()
            .replace("__PORT__", str(upstream_port))
            .replace("__ACCEPT_AHEAD__", str(accept_ahead()))
            .replace("__HELPER_THREADS__", helper_threads())
            .replace("__IDLE_SPIN_US__", str(idle_spin_us()))
            .replace("__LATER_MESSAGE_WAIT_MS__", str(later_message_wait_ms())))


def pick_cores(gateway: int | None = None, load: int | None = None) -> tuple[int, int]:
    """(the server's core, the load generators' core): the first two allowed
    cores unless given."""
    allowed = sorted(os.sched_getaffinity(0))
    server = gateway if gateway is not None else allowed[0]
    others = [c for c in allowed if c != server]
    load = load if load is not None else (others[0] if others else server)
    if load == server:
        say("WARNING: one core only: the server shares it with the load generators")
    return server, load


def start_serving(cpu: int, argv: list[str], what: str) -> subprocess.Popen[str]:
    """A server process pinned to `cpu` that prints "serving" once it is ready."""
    proc = subprocess.Popen(pin(cpu, argv), stdout=subprocess.PIPE, text=True, env=child_env())
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "serving":
        stop_process(proc, 15, 10)
        raise RuntimeError(f"{what} did not start")
    return proc


def stop_process(proc: subprocess.Popen[Any], sig: int, timeout: float) -> int:
    """Signals the process (by its PID) and waits; kills it if it hangs."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Nginx:
    """The static fake upstream (bench/nginx.conf)."""

    def __init__(self, nginx: str, repo: Path, run_dir: Path, cpu: int) -> None:
        self.nginx, self.repo, self.cpu = nginx, repo, cpu
        self.prefix = run_dir / "nginx"
        self.prefix.mkdir()
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        self._log = open(self.prefix / "nginx.log", "ab")  # closed in stop()
        for _ in range(3):  # a free port can be taken before nginx binds it
            self.port = free_port()
            conf = (self.repo / "bench" / "nginx.conf").read_text()
            conf = conf.replace("__PORT__", str(self.port))
            conf = conf.replace("__ROOT__", str(self.repo / "bench" / "upstream"))
            (self.prefix / "nginx.conf").write_text(conf)
            argv = [self.nginx, "-p", str(self.prefix), "-e", "stderr", "-c", "nginx.conf",
                    "-g", f"pid {self.prefix}/nginx.pid;"]
            self.proc = subprocess.Popen(pin(self.cpu, argv), stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=self._log, env=child_env())
            if self._wait_ready():
                return self
            if self.proc.poll() is None:
                stop_process(self.proc, signal.SIGTERM, 10)
        self.stop()
        raise RuntimeError(f"nginx did not start; see {self.prefix / 'nginx.log'}:\n"
                           + (self.prefix / "nginx.log").read_text()[-2000:])

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        url = f"{self.base_url}/unary/v1/chat/completions"
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                req = urllib.request.Request(url, data=b"{}", method="POST")
                with direct.open(req, timeout=1) as reply:
                    if reply.status == 200:
                        return True
            except OSError:
                time.sleep(0.02)  # polling for readiness, not a fixed wait
        return False

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, 10)
        if self._log is not None:
            self._log.close()


class Gateway:
    """`llm-gateway serve` with bench/gateway.yaml, one worker."""

    def __init__(self, repo: Path, run_dir: Path, cpu: int, upstream_port: int) -> None:
        self.repo, self.run_dir, self.cpu = repo, run_dir, cpu
        self.upstream_port = upstream_port
        self.address = ""
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = run_dir / "gateway.log"
        self.levels: dict[str, int] = {}
        self.problems: list[str] = []  # warning and error lines (the first few)
        self._serving = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Gateway:
        config = self.run_dir / "gateway.yaml"
        config.write_text(gateway_config(self.repo, self.upstream_port))
        argv = [str(self.repo / ".venv" / "bin" / "llm-gateway"), "serve", "--config", str(config),
                "--address", "127.0.0.1:0", "--workers", "1"]
        # taskset execs the gateway: the PID we hold is the gateway's.
        self.proc = subprocess.Popen(pin(self.cpu, argv), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=child_env())
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._serving.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the gateway did not start; its log:\n" + self.log_tail())
        return self

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        with open(self.log_path, "w") as log:
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                self._note(line)

    def _note(self, line: str) -> None:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"level": "unstructured", "msg": line.strip()}
        if not isinstance(entry, dict):
            return
        level = str(entry.get("level", "?"))
        self.levels[level] = self.levels.get(level, 0) + 1
        if entry.get("msg") == "serving" and entry.get("address"):
            self.address = str(entry["address"])
            self._serving.set()
        elif level not in ("info", "debug") and len(self.problems) < 10:
            self.problems.append(line.strip()[:500])

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    def log_summary(self) -> dict[str, Any]:
        return {"lines_by_level": dict(self.levels), "problems": list(self.problems)}

    def stop(self) -> int | None:
        """SIGTERM (drain 0 s, grace 5 s in bench/gateway.yaml); the exit code."""
        if self.proc is None:
            return None
        code = stop_process(self.proc, signal.SIGTERM, 30)
        if self._reader is not None:
            self._reader.join(5)
        return code
