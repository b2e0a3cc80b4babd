"""The machine and the code a run measured: CPU model, cores, memory,
kernel, load, the gateway's commit and its key package versions."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from llm_gateway.server import grpc_settings

from .servers import (
    accept_ahead,
    child_env,
    helper_threads,
    idle_spin_us,
    later_message_wait_ms,
)

PACKAGES = ("grpcio", "protobuf", "httpx", "aiohttp", "uvloop", "orjson", "pydantic")


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def _mem_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _venv_packages(repo: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json\n"
            f"out = {{}}\nfor p in {PACKAGES!r}:\n"
            "    try: out[p] = m.version(p)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    out = subprocess.run([str(repo / ".venv" / "bin" / "python"), "-c", code],
                         capture_output=True, text=True, check=False)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def describe(repo: Path) -> dict[str, Any]:
    packages = _venv_packages(repo)
    loop = os.environ.get("LLM_GATEWAY_EVENT_LOOP", "auto")
    return {
        "cpu_model": _cpu_model(),
        "nproc": os.cpu_count(),
        "memory_gib": _mem_gib(),
        "kernel": os.uname().release,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "commit": _git(repo, "rev-parse", "--short", "HEAD"),
        "uncommitted_service_changes": bool(_git(repo, "status", "--porcelain", "--", "service")),
        "event_loop": "uvloop" if "uvloop" in packages and loop != "asyncio" else "asyncio",
        # What every measured server runs with (servers.child_env).
        "grpc_experiments": child_env().get(grpc_settings.VARIABLE, ""),
        "accept_ahead": accept_ahead(),
        "helper_threads": helper_threads(),
        "idle_spin_us": idle_spin_us(),
        "later_message_wait_ms": later_message_wait_ms(),
        "packages": packages,
    }
