"""The measured phases of one run, in order: smoke check, warm-up, unary chat
(c = 1, 16, 64), streaming chat (c = 1, 16), embeddings (c = 16), the profiled
passes (py-spy; no figure comes from them), the leak check (RSS across N
calls) and 1,000 open streams (RSS)."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from typing import Any

from . import procfs, profile
from .drivers import Drivers
from .floor import FloorServer
from .servers import Gateway, Nginx
from .tools import say


@dataclass(frozen=True)
class Plan:
    seconds: int  # each measured pass (wrk takes whole seconds)
    warmup_calls: int
    leak_calls: int
    open_streams: int
    unary_concurrency: tuple[int, ...] = (1, 16, 64)
    stream_concurrency: int = 16
    embed_concurrency: int = 16
    # The leak check's calls: every kind, mostly unary chat.
    leak_mix: str = "chat=8,stream=1,embed=1"
    leak_concurrency: int = 16


FULL = Plan(seconds=6, warmup_calls=5000, leak_calls=200_000, open_streams=1000)
QUICK = Plan(seconds=2, warmup_calls=1000, leak_calls=10_000, open_streams=1000)


class Run:
    """Everything a phase needs; results accumulate in `self.results`."""

    def __init__(self, plan: Plan, drivers: Drivers, nginx: Nginx, gateway: Gateway,
                 gateway_cpu: int, load_cpu: int, floor: FloorServer | None = None) -> None:
        self.plan, self.drivers, self.nginx, self.gateway = plan, drivers, nginx, gateway
        self.floor = floor
        self.gateway_cpu, self.load_cpu = gateway_cpu, load_cpu
        self.calls_served = 0  # every call the gateway served, for CPU over the run
        self.results: dict[str, Any] = {}

    # --- helpers ----------------------------------------------------------------

    def rss(self) -> float:
        return procfs.rss_mib(self.gateway.pid)

    def through_gateway(self, label: str, measure: Any) -> dict[str, Any]:
        """Runs one pass against the gateway, with its CPU time and the cores'
        business over the pass."""
        say(label)
        with procfs.Probe(self.gateway.pid, self.gateway_cpu, self.load_cpu) as probe:
            result = measure()
        result["cpu"] = probe.figures(result["requests"])
        self.calls_served += result["requests"]
        _warn_errors(label, result)
        return result

    def direct(self, label: str, measure: Any) -> dict[str, Any]:
        say(label)
        cores0 = procfs.core_times()
        result = measure()
        cores1 = procfs.core_times()
        result["cpu"] = {"load_core_busy_pct": procfs.busy_pct(cores0, cores1, self.load_cpu)}
        _warn_errors(label, result)
        return result

    # --- phases -------------------------------------------------------------------

    def smoke(self) -> None:
        """One of each call, checked, before anything is measured: a broken
        setup stops here, not after ten minutes."""
        r = self.drivers.loadgen_grpc(self.gateway.address, "chat=1,stream=1,embed=1", 3,
                                      total=30)
        self.calls_served += r["requests"]
        if r["errors"]:
            raise RuntimeError(f"smoke check failed: {r['errors']} {r.get('error_examples')}\n"
                               f"gateway log:\n{self.gateway.log_tail()}")

    def warm_up(self) -> None:
        self.results["rss_mib"] = {"start": self.rss()}
        say(f"warm-up: {self.plan.warmup_calls} calls")
        r = self.drivers.loadgen_grpc(self.gateway.address, self.plan.leak_mix, 16,
                                      total=self.plan.warmup_calls)
        r_http = self.drivers.loadgen_http(self.nginx.base_url, "chat", 16, 1)
        self.calls_served += r["requests"]
        self.results["warmup"] = {"gateway": _brief(r), "direct": _brief(r_http)}
        self.results["rss_mib"]["idle_after_warmup"] = self.rss()

    def scenario(self, kind: str, concurrency: int) -> dict[str, Any]:
        d, s, addr, url = self.drivers, self.plan.seconds, self.gateway.address, self.nginx.base_url
        name = f"{kind} c={concurrency}"
        direct = {
            "wrk": self.direct(f"{name} direct (wrk)", lambda: d.wrk(url, kind, concurrency, s)),
            "loadgen": self.direct(f"{name} direct (loadgen)",
                                   lambda: d.loadgen_http(url, kind, concurrency, s)),
        }
        gateway = {
            "ghz": self.through_gateway(f"{name} gateway (ghz)",
                                        lambda: d.ghz(addr, kind, concurrency, s)),
            "loadgen": self.through_gateway(
                f"{name} gateway (loadgen)",
                lambda: d.loadgen_grpc(addr, f"{kind}=1", concurrency, seconds=s)),
        }
        overhead = {"ghz-wrk": _overhead(gateway["ghz"], direct["wrk"]),
                    "loadgen": _overhead(gateway["loadgen"], direct["loadgen"])}
        bare = bare_loadgen = None
        if self.floor is not None and kind in ("chat", "stream"):
            bare = self.floor_pass(name, kind, concurrency, "ghz")
            if kind == "stream":  # the floor's first event, timed as the gateway's is
                bare_loadgen = self.floor_pass(name, kind, concurrency, "loadgen")
                overhead["floor-loadgen"] = _overhead(bare_loadgen, direct["loadgen"])
        return {"kind": kind, "concurrency": concurrency, "seconds": s,
                "direct": direct, "gateway": gateway, "floor": bare,
                "floor_loadgen": bare_loadgen, "overhead_ms": overhead}

    def floor_pass(self, name: str, kind: str, concurrency: int, tool: str) -> dict[str, Any]:
        assert self.floor is not None
        say(f"{name} floor ({tool})")
        result = self.floor.measure(self.drivers, self.load_cpu, kind, concurrency,
                                    self.plan.seconds, tool)
        _warn_errors(f"{name} floor ({tool})", result)
        return result

    def load_phases(self) -> None:
        self.results["unary"] = [self.scenario("chat", c) for c in self.plan.unary_concurrency]
        # c = 1: the first-event overhead of an idle gateway (at c = 16 it is queueing).
        self.results["stream_c1"] = self.scenario("stream", 1)
        self.results["stream"] = self.scenario("stream", self.plan.stream_concurrency)
        self.results["embed"] = self.scenario("embed", self.plan.embed_concurrency)

    def profile_passes(self) -> None:
        """py-spy on the gateway during one more stream and unary pass each
        (not counted in any figure: sampling slows the gateway down)."""
        py_spy, d, s, addr = self.drivers.tools.py_spy, self.drivers, self.plan.seconds, \
            self.gateway.address
        if py_spy is None:
            self.results["profile"] = {"error": "py-spy is not installed"}
            return
        out: dict[str, Any] = {}
        for kind, concurrency in (("stream", self.plan.stream_concurrency), ("chat", 16)):
            label = f"{kind} c={concurrency}"
            say(f"profile: {label} (py-spy)")
            r = profile.record(py_spy, self.gateway.pid, s,
                               self.drivers.run_dir / f"profile-{kind}.txt",
                               functools.partial(d.ghz, addr, kind, concurrency, s))
            self.calls_served += r["requests"]
            _warn_errors(f"profile {label}", r)
            out[label] = {"requests": r["requests"], "errors": r["errors"],
                          **({"summary": r["profile"]} if "profile" in r
                             else {"error": r.get("profile_error", "")})}
        self.results["profile"] = out

    def leak_check(self) -> None:
        """RSS before and after N calls (after everything above warmed up),
        sampled every second in between."""
        n, pid = self.plan.leak_calls, self.gateway.pid
        say(f"leak check: {n} calls ({self.plan.leak_mix}, c={self.plan.leak_concurrency})")
        before = self.rss()
        samples: list[tuple[float, float]] = []
        with procfs.Probe(pid, self.gateway_cpu, self.load_cpu) as probe:
            proc = self.drivers.popen_loadgen_grpc(self.gateway.address, self.plan.leak_mix,
                                                   self.plan.leak_concurrency, n)
            start = time.monotonic()
            while proc.poll() is None:
                samples.append((round(time.monotonic() - start, 1), self.rss()))
                time.sleep(1.0)  # the sampling period
            stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"loadgen (leak check) failed: {stderr[-1500:]}")
        result = json.loads(stdout)
        result["cpu"] = probe.figures(result["requests"])
        self.calls_served += result["requests"]
        _warn_errors("leak check", result)
        after = self.rss()
        self.results["leak"] = {
            "calls": n, "mix": self.plan.leak_mix, "concurrency": self.plan.leak_concurrency,
            "rss_mib_before": before, "rss_mib_after": after,
            "rss_mib_max": max([after, *(v for _, v in samples)]),
            "growth_pct": round(100 * (after - before) / before, 2),
            "rss_samples": _thin(samples, 60), "load": result,
        }

    def open_streams(self) -> None:
        n, pid = self.plan.open_streams, self.gateway.pid
        say(f"{n} open streams")
        before = {"rss_mib": self.rss(), "open_files": procfs.open_files(pid)}

        def while_open(opened: dict[str, Any]) -> dict[str, Any]:
            rss = []
            for _ in range(5):  # over two seconds: the streams keep trickling
                rss.append(self.rss())
                time.sleep(0.5)
            return {"rss_mib_open": max(rss), "rss_mib_open_samples": rss,
                    "open_files_open": procfs.open_files(pid),
                    "vm_hwm_mib": round(procfs.status_kib(pid, "VmHWM") / 1024, 1)}

        held = self.drivers.hold(self.gateway.address, n, while_open)
        self.calls_served += n
        after = self._settled_after_close(pid, before["open_files"])
        check = self.drivers.loadgen_grpc(self.gateway.address, "chat=1,stream=1,embed=1", 3,
                                          total=30)
        self.calls_served += check["requests"]
        opened = held["opened"] or {}
        errors = dict(check["errors"])
        if opened.get("open") != n:
            errors["streams_not_open"] = n - int(opened.get("open") or 0)
        if opened.get("failed"):
            errors["stream_failed"] = opened["failed"]
        if opened.get("finished_early"):
            errors["finished_early"] = opened["finished_early"]
        self.results["open_streams"] = {"streams": n, "before": before, **held,
                                        "after_close": after, "check_after": _brief(check),
                                        "errors": errors}
        if errors:
            say(f"WARNING: open streams: {errors}")

    def _settled_after_close(self, pid: int, files_before: int) -> dict[str, Any]:
        """Waits (up to 10 s) for the upstream connections to close."""
        deadline = time.monotonic() + 10
        while procfs.open_files(pid) > files_before + 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        return {"rss_mib": self.rss(), "open_files": procfs.open_files(pid)}

    def run_all(self) -> dict[str, Any]:
        cpu0 = procfs.cpu_seconds(self.gateway.pid)
        self.smoke()
        self.warm_up()
        self.load_phases()
        self.profile_passes()
        self.leak_check()
        self.open_streams()
        cpu = procfs.cpu_seconds(self.gateway.pid) - cpu0
        self.results["cpu_over_run"] = {
            "gateway_cpu_s": round(cpu, 2), "calls": self.calls_served,
            "ms_per_call": round(1000 * cpu / max(self.calls_served, 1), 4)}
        return self.results


def _overhead(gateway: dict[str, Any], direct: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for metric in ("latency_ms", "first_event_ms"):
        g, d = gateway.get(metric) or {}, direct.get(metric) or {}
        for p in ("p50", "p99"):
            if g.get(p) is not None and d.get(p) is not None:
                key = p if metric == "latency_ms" else f"first_event_{p}"
                out[key] = round(g[p] - d[p], 3)
    return out


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r.get(k) for k in ("requests", "ok", "errors", "rps", "latency_ms")}


def _thin(samples: list[tuple[float, float]], keep: int) -> list[tuple[float, float]]:
    if len(samples) <= keep:
        return samples
    step = len(samples) / keep
    return [samples[int(i * step)] for i in range(keep)] + [samples[-1]]


def _warn_errors(label: str, result: dict[str, Any]) -> None:
    if result.get("errors"):
        say(f"WARNING: {label}: errors {result['errors']} {result.get('error_examples', '')}")
