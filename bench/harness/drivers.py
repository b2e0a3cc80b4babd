"""The load drivers, pinned to the load core: ghz (gRPC), wrk (direct HTTP)
and bench/loadgen (checked replies, stream timings, open streams, the leak
mix). Each returns one normalized result:

    {"tool", "requests", "ok", "errors": {kind: n}, "rps", "elapsed_s",
     "latency_ms": {"p50", "p90", "p99", "mean", "max"}, "checks",
     ["first_event_ms", "first_text_ms"]}
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .servers import pin
from .tools import Tools, build_protoset, ensure_tools

GRPC_METHODS = {
    "chat": "llmgateway.v1.ChatService/Chat",
    "stream": "llmgateway.v1.ChatService/StreamChat",
    "embed": "llmgateway.v1.EmbeddingService/Embed",
}
HTTP_PATHS = {
    "chat": "/unary/v1/chat/completions",
    "stream": "/stream/v1/chat/completions",
    "embed": "/unary/v1/embeddings",
}
UPSTREAM_FILES = {"chat": "chat.json", "stream": "stream.sse", "embed": "embeddings.json"}
PROMPT = "Benchmark request: answer with the usual sentence."
EMBED_INPUTS = [f"benchmark input {i}" for i in range(16)]


def write_requests(out: Path) -> Path:
    """The request bodies, one source for every tool: grpc-<kind>.json
    (protojson, for ghz and loadgen) and http-<kind>.json (what the gateway
    sends upstream, for the direct path)."""
    out.mkdir(exist_ok=True)
    messages = [{"role": "ROLE_USER", "parts": [{"text": PROMPT}]}]
    grpc = {
        "chat": {"input": {"model": "unary/bench-model", "messages": messages}},
        "stream": {"input": {"model": "stream/bench-model", "messages": messages}},
        "slow": {"input": {"model": "slow/bench-model", "messages": messages}},
        "embed": {"model": "unary/bench-embed", "inputs": [{"text": t} for t in EMBED_INPUTS]},
    }
    chat = {"model": "bench-model", "messages": [{"role": "user", "content": PROMPT}]}
    http = {
        "chat": chat,
        "stream": {**chat, "stream": True, "stream_options": {"include_usage": True}},
        "embed": {"model": "bench-embed", "input": EMBED_INPUTS},
    }
    for kind, body in grpc.items():
        (out / f"grpc-{kind}.json").write_text(json.dumps(body))
    for kind, body in http.items():
        (out / f"http-{kind}.json").write_text(json.dumps(body))
    return out


class DriverError(RuntimeError):
    pass


class Drivers:
    def __init__(self, tools: Tools, repo: Path, run_dir: Path, cpu: int, protoset: Path,
                 requests: Path) -> None:
        self.tools, self.run_dir, self.cpu = tools, run_dir, cpu
        self.protoset, self.requests = protoset, requests
        self.upstream = repo / "bench" / "upstream"
        self.wrk_script = repo / "bench" / "wrk" / "check.lua"

    @classmethod
    def prepare(cls, repo: Path, run_dir: Path, cpu: int) -> Drivers:
        """The tools installed or built, the descriptor set and the request
        files written into `run_dir`: drivers pinned to `cpu`."""
        kit = ensure_tools(repo, run_dir)
        return cls(kit, repo, run_dir, cpu, build_protoset(repo, kit.buf, run_dir),
                   write_requests(run_dir / "requests"))

    def _run(self, argv: list[str], timeout: float) -> str:
        out = subprocess.run(pin(self.cpu, argv), capture_output=True, text=True,
                             timeout=timeout, check=False)
        if out.returncode != 0:
            raise DriverError(f"{Path(argv[0]).name} failed ({out.returncode}): "
                              f"{(out.stderr + out.stdout).strip()[-1500:]}")
        return out.stdout

    # --- ghz: gRPC through the gateway, statuses counted ----------------------

    def ghz(self, address: str, kind: str, concurrency: int, seconds: float) -> dict[str, Any]:
        argv = [self.tools.ghz, "--insecure", "--protoset", str(self.protoset),
                "--call", GRPC_METHODS[kind],
                "--data-file", str(self.requests / f"grpc-{kind}.json"),
                "--concurrency", str(concurrency), "--connections", "1",
                "--duration", f"{seconds}s", "--duration-stop", "wait", "--timeout", "30s",
                "--format", "json", address]
        report = json.loads(self._run(argv, seconds + 120))
        codes = report.get("statusCodeDistribution") or {}
        errors = {code: n for code, n in codes.items() if code != "OK"}
        for message, n in (report.get("errorDistribution") or {}).items():
            if not codes:  # errors without a status (e.g. connection failures)
                errors[message[:80]] = n
        pct = {p["percentage"]: p["latency"] / 1e6 for p in report.get("latencyDistribution") or []}
        return {
            "tool": "ghz", "checks": "status",
            "requests": report["count"], "ok": codes.get("OK", 0), "errors": errors,
            "error_examples": list(report.get("errorDistribution") or {})[:5],
            "rps": round(report["rps"], 1), "elapsed_s": round(report["total"] / 1e9, 3),
            "latency_ms": {"p50": pct.get(50), "p90": pct.get(90), "p99": pct.get(99),
                           "mean": report["average"] / 1e6, "max": report["slowest"] / 1e6},
        }

    # --- wrk: HTTP straight to the upstream, bodies compared ------------------

    def wrk(self, base_url: str, kind: str, concurrency: int, seconds: float) -> dict[str, Any]:
        argv = [self.tools.wrk, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
                "-s", str(self.wrk_script), base_url + HTTP_PATHS[kind], "--",
                str(self.requests / f"http-{kind}.json"), str(self.upstream / UPSTREAM_FILES[kind])]
        stdout = self._run(argv, seconds + 60)
        line = next((x for x in stdout.splitlines() if x.startswith("WRK_JSON ")), None)
        if line is None:
            raise DriverError(f"wrk printed no report: {stdout[-1500:]}")
        r = json.loads(line.removeprefix("WRK_JSON "))
        errors = {k: n for k, n in r["errors"].items() if n and k != "status"}
        if r["bad_status"]:
            errors["http_status"] = r["bad_status"]
        if r["bad_content"]:
            errors["bad_content"] = r["bad_content"]
        elapsed = r["duration_us"] / 1e6
        lat = {k: round(v / 1000, 3) for k, v in r["latency_us"].items()}
        return {"tool": "wrk", "checks": "status+content", "requests": r["requests"],
                "ok": r["ok"], "errors": errors, "rps": round(r["requests"] / elapsed, 1),
                "elapsed_s": round(elapsed, 3), "latency_ms": lat}

    # --- loadgen: every reply checked; stream timings -------------------------

    def _loadgen(self, argv: list[str], timeout: float) -> dict[str, Any]:
        report = json.loads(self._run([self.tools.loadgen, *argv], timeout))
        report["checks"] = "status+content"
        report["errors"] = {k: n for k, n in (report.get("errors") or {}).items() if n}
        return report

    def loadgen_grpc(self, address: str, mix: str, concurrency: int, *,
                     seconds: float | None = None, total: int | None = None) -> dict[str, Any]:
        argv = ["grpc", "-addr", address, "-requests", str(self.requests),
                "-upstream", str(self.upstream), "-mix", mix, "-c", str(concurrency)]
        argv += ["-n", str(total)] if total else ["-duration", f"{seconds}s"]
        return self._loadgen(argv, (seconds or 0) + (total or 0) / 100 + 120)

    def loadgen_http(self, base_url: str, kind: str, concurrency: int,
                     seconds: float) -> dict[str, Any]:
        argv = ["http", "-url", base_url + HTTP_PATHS[kind],
                "-body", str(self.requests / f"http-{kind}.json"), "-expect", kind,
                "-upstream", str(self.upstream), "-c", str(concurrency), "-duration", f"{seconds}s"]
        return self._loadgen(argv, seconds + 120)

    def popen_loadgen_grpc(self, address: str, mix: str, concurrency: int,
                           total: int) -> subprocess.Popen[str]:
        """The leak run, in the background while the harness samples RSS."""
        argv = [self.tools.loadgen, "grpc", "-addr", address, "-requests", str(self.requests),
                "-upstream", str(self.upstream), "-mix", mix, "-c", str(concurrency),
                "-n", str(total)]
        return subprocess.Popen(pin(self.cpu, argv), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def hold(self, address: str, streams: int,
             while_open: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Opens `streams` slow streams; calls while_open(report) once every
        stream has its first event, then closes them all."""
        argv = [self.tools.loadgen, "hold", "-addr", address,
                "-request", str(self.requests / "grpc-slow.json"), "-n", str(streams),
                "-conns", str(max(1, streams // 100))]
        proc = subprocess.Popen(pin(self.cpu, argv), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            opened = json.loads(proc.stdout.readline() or "null")
            if opened is None:
                raise DriverError(f"loadgen hold failed: {proc.stderr.read()[-1500:]}")
            measured = while_open(opened)
            proc.stdin.write("\n")
            proc.stdin.flush()
            closed = json.loads(proc.stdout.readline() or "null")
        finally:
            if proc.poll() is None:
                proc.stdin.close()
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        return {"opened": opened, "closed": closed, **measured}
