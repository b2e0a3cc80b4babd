"""What /proc says about a process and the cores: CPU time, RSS, open files,
and how busy each core was (to see other work on the machine)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _times(stat_path: str) -> tuple[int, int]:
    """utime and stime (fields 14 and 15, clock ticks)."""
    stat = Path(stat_path).read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return int(fields[11]), int(fields[12])


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of the process, live and exited."""
    return sum(_times(f"/proc/{pid}/stat")) / CLK_TCK


def _thread_group(pid: int, tid: int, comm: str) -> str:
    if tid == pid:
        return "event loop (main thread)"
    if comm.startswith("event_engine"):
        return "gRPC event_engine threads"
    if comm == Path(f"/proc/{pid}/comm").read_text().strip():
        return "gRPC aio poller thread"  # Python thread _poll_wrapper: same comm
    return "other threads"


def thread_times(pid: int) -> dict[str, list[int]]:
    """[utime, stime, voluntary, involuntary context switches] by thread group."""
    groups: dict[str, list[int]] = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        tid = int(name)
        try:
            comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            utime, stime = _times(f"/proc/{pid}/task/{tid}/stat")
            status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended
        switches = {k: int(v) for k, _, v in (line.partition(":\t") for line in status.splitlines())
                    if k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")}
        g = groups.setdefault(_thread_group(pid, tid, comm), [0, 0, 0, 0])
        for i, v in enumerate((utime, stime, switches.get("voluntary_ctxt_switches", 0),
                               switches.get("nonvoluntary_ctxt_switches", 0))):
            g[i] += v
    return groups


def status_kib(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def rss_mib(pid: int) -> float:
    return round(status_kib(pid, "VmRSS") / 1024, 1)


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass(frozen=True)
class CoreTimes:
    busy: dict[int, int]  # jiffies per core, all but idle and iowait
    total: dict[int, int]


def core_times() -> CoreTimes:
    busy, total = {}, {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        ticks = [int(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal
        core = int(name[3:])
        total[core] = sum(ticks)
        busy[core] = total[core] - ticks[3] - ticks[4]
    return CoreTimes(busy, total)


def busy_pct(before: CoreTimes, after: CoreTimes, core: int) -> float:
    total = after.total[core] - before.total[core]
    if total <= 0:
        return 0.0
    return round(100 * (after.busy[core] - before.busy[core]) / total, 1)


class Probe:
    """The gateway's CPU time and the cores' business over one measured run:
    `with Probe(pid, gateway_core, load_core) as probe: ...; probe.figures(n)`."""

    def __init__(self, pid: int, gateway_core: int, load_core: int) -> None:
        self.pid, self.gateway_core, self.load_core = pid, gateway_core, load_core

    def __enter__(self) -> Probe:
        self.threads0 = thread_times(self.pid)
        self.cores0, self.cpu0 = core_times(), cpu_seconds(self.pid)
        self.wall0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cores1, self.cpu1 = core_times(), cpu_seconds(self.pid)
        self.wall1 = time.monotonic()
        self.threads1 = thread_times(self.pid)

    def split(self, requests: int) -> dict[str, Any]:
        """Where the gateway's CPU went: by thread group, user and kernel time,
        and context switches per call."""
        groups, user, kernel, switches = {}, 0, 0, 0
        for name, after in self.threads1.items():
            before = self.threads0.get(name, [0, 0, 0, 0])
            d = [a - b for a, b in zip(after, before, strict=True)]
            user, kernel, switches = user + d[0], kernel + d[1], switches + d[2] + d[3]
            if d[0] + d[1] > 0:
                groups[name] = round((d[0] + d[1]) / CLK_TCK, 3)
        total = max(user + kernel, 1)
        return {
            "cpu_s_by_thread": groups,
            "kernel_pct": round(100 * kernel / total, 1),
            "context_switches_per_request": round(switches / requests, 1) if requests else None,
        }

    def figures(self, requests: int) -> dict[str, Any]:
        cpu = self.cpu1 - self.cpu0
        wall = max(self.wall1 - self.wall0, 1e-9)
        gateway_pct = round(100 * cpu / wall, 1)
        core_pct = busy_pct(self.cores0, self.cores1, self.gateway_core)
        return {
            "gateway_cpu_s": round(cpu, 3),
            "gateway_cpu_ms_per_request": round(1000 * cpu / requests, 4) if requests else None,
            "gateway_cpu_pct": gateway_pct,
            # What else ran on the gateway's core (other work on the machine).
            "gateway_core_other_pct": round(max(core_pct - gateway_pct, 0.0), 1),
            # The load generators' and nginx's core: near 100 % means the
            # client side, not the gateway, may be the limit.
            "load_core_busy_pct": busy_pct(self.cores0, self.cores1, self.load_core),
            **self.split(requests),
        }
