"""Where the gateway's CPU goes, by py-spy: a sampled pass after the measured
ones (sampling costs the gateway about a tenth, so no figure of the tables
comes from a profiled pass).

Without `--native`, py-spy charges time spent in C to the innermost Python
frame: the event loop's own frame (`Runner.run`) holds uvloop, gRPC's Cython
layer and the system calls made from the loop thread; `Thread.run` holds
gRPC's poller and event-engine threads. Everything else is Python, grouped
by the gateway's module (or "Python libraries": asyncio, contextlib, ...).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

RATE = 250  # samples per second
NATIVE_LOOP = "event loop outside Python (uvloop, gRPC's Cython layer, system calls)"
NATIVE_THREADS = "gRPC's threads (completion-queue poller, event engine)"
LIBRARIES = "Python libraries (asyncio, contextlib, dataclasses, ...)"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?):\d+\)$")


def record(py_spy: str, pid: int, seconds: float, out: Path,
           drive: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Samples `pid` while `drive()` runs a pass; returns the pass's result
    with a "profile" summary (or a "profile_error")."""
    argv = [py_spy, "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw",
            "--full-filenames", "--nonblocking", "--duration", str(int(seconds) + 1),
            "--output", str(out)]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    result = drive()
    try:
        _, err = spy.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if spy.returncode != 0 or not out.exists():
        result["profile_error"] = (err or f"py-spy exited {spy.returncode}").strip()[-300:]
    else:
        result["profile"] = summarize(out.read_text())
    return result


def summarize(raw: str, top: int = 15) -> dict[str, Any]:
    """py-spy's raw output (`frame;frame;... count` per line) → the share of
    samples by layer and the functions with the most samples of their own."""
    layers: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        leaf = stack.rsplit(";", 1)[-1]
        m = _FRAME.match(leaf)
        func, path = (m.group("func"), m.group("file")) if m else (leaf, "")
        layer = _layer(func, path)
        layers[layer] += n
        if layer not in (NATIVE_LOOP, NATIVE_THREADS):
            functions[f"{func} ({_short(path)})"] += n
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {"samples": total, "rate": RATE,
            "layers": [[name, pct(n)] for name, n in layers.most_common()],
            "functions": [[name, pct(n)] for name, n in functions.most_common(top)]}


def _layer(func: str, path: str) -> str:
    if func == "Runner.run" or func.endswith("run_until_complete"):
        return NATIVE_LOOP
    if path.endswith("threading.py"):
        return NATIVE_THREADS
    if "/llm_gateway/" in path:
        module = path.split("/llm_gateway/", 1)[1]
        package = module.rsplit("/", 1)[0] if "/" in module else module
        return f"gateway: {package}"
    return LIBRARIES


def _short(path: str) -> str:
    for marker in ("/llm_gateway/", "/site-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    stdlib = re.search(r"/python3\.\d+/(.*)$", path)
    return stdlib.group(1) if stdlib else path.rsplit("/", 1)[-1]
