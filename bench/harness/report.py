"""The run's report: the targets (measured, met or not), the tables (text on
the terminal, Markdown in bench/README.md) and the JSON results file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# title, header, rows, alignment ('l' or 'r' per column)
Table = tuple[str, list[str], list[list[str]], str]
README_START = "<!-- bench:latest:start (written by bench/run.py) -->"
README_END = "<!-- bench:latest:end -->"


def _unary(r: dict[str, Any], c: int) -> dict[str, Any]:
    return next(s for s in r["unary"] if s["concurrency"] == c)


def _streams(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream scenarios: c = 1 (when the run has it) and the target's c = 16."""
    return [s for s in (r.get("stream_c1"), r.get("stream")) if s]


def _floor(r: dict[str, Any], kind: str, c: int) -> dict[str, Any]:
    scenario = _unary(r, c) if kind == "chat" else next(
        s for s in _streams(r) if s["concurrency"] == c)
    if not scenario.get("floor"):
        raise KeyError(f"floor {kind} c={c}")
    return scenario["floor"]


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    unit: str
    value: Callable[[dict[str, Any]], float]
    met: Callable[[float], bool]
    digits: int = 2
    # The same figure for the floor (bench/harness/floor.py) on this machine:
    # what a grpc.aio server with one upstream call and no work of its own gets.
    floor: Callable[[dict[str, Any]], float] | None = None


TARGETS = [
    Target("Unary chat overhead p50, c=1 (ghz - wrk)", "≤ 0.5", "ms",
           lambda r: _unary(r, 1)["overhead_ms"]["ghz-wrk"]["p50"], lambda v: v <= 0.5,
           floor=lambda r: (_floor(r, "chat", 1)["latency_ms"]["p50"]
                            - _unary(r, 1)["direct"]["wrk"]["latency_ms"]["p50"])),
    Target("Unary chat throughput, c=64, one core (ghz)", "≥ 2,000", "req/s",
           lambda r: _unary(r, 64)["gateway"]["ghz"]["rps"], lambda v: v >= 2000, 0,
           floor=lambda r: _floor(r, "chat", 64)["rps"]),
    Target("Streaming first-event overhead p50, c=16", "≤ 2", "ms",
           lambda r: r["stream"]["overhead_ms"]["loadgen"]["first_event_p50"],
           lambda v: v <= 2,
           floor=lambda r: r["stream"]["overhead_ms"]["floor-loadgen"]["first_event_p50"]),
    Target("Streaming throughput, c=16, one core", "≥ 1,000", "streams/s",
           lambda r: r["stream"]["gateway"]["loadgen"]["rps"], lambda v: v >= 1000, 0,
           floor=lambda r: _floor(r, "stream", 16)["rps"]),
    Target("RSS with 1,000 open streams", "≤ 150", "MiB",
           lambda r: r["open_streams"]["rss_mib_open"], lambda v: v <= 150, 1),
    Target("RSS growth across the leak check, after warm-up", "< 5", "%",
           lambda r: r["leak"]["growth_pct"], lambda v: v < 5),
]


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in TARGETS:
        try:
            value: float | None = t.value(results)
        except (KeyError, StopIteration, TypeError):
            value = None
        floor: float | None = None
        if t.floor is not None:
            try:
                floor = t.floor(results)
            except (KeyError, TypeError):
                floor = None
        out.append({"target": t.name, "goal": f"{t.goal} {t.unit}", "unit": t.unit,
                    "measured": value, "digits": t.digits, "floor": floor,
                    "met": value is not None and t.met(value)})
    return out


def error_counts(results: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Failed or wrong replies, by pass (empty when every reply was right)."""
    found: dict[str, dict[str, int]] = {}

    def note(where: str, errors: dict[str, int] | None) -> None:
        if errors:
            found[where] = errors

    note("warm-up", results.get("warmup", {}).get("gateway", {}).get("errors"))
    for s in [*results.get("unary", []), *_streams(results), results.get("embed")]:
        if not s:
            continue
        for path in ("direct", "gateway"):
            for tool, r in s[path].items():
                note(f"{s['kind']} c={s['concurrency']} {path} {tool}", r.get("errors"))
    note("leak check", results.get("leak", {}).get("load", {}).get("errors"))
    for label, p in (results.get("profile") or {}).items():
        if isinstance(p, dict):
            note(f"profile {label}", p.get("errors"))
    for s in [*results.get("unary", []), *_streams(results)]:
        for key, label in (("floor", "floor"), ("floor_loadgen", "floor loadgen")):
            if s and s.get(key):
                note(f"{s['kind']} c={s['concurrency']} {label}", s[key].get("errors"))
    note("open streams", results.get("open_streams", {}).get("errors"))
    return found


# --- tables ----------------------------------------------------------------------


def _f(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _errors(r: dict[str, Any]) -> str:
    n = sum((r.get("errors") or {}).values())
    return f"{n}/{r.get('requests', 0):,}"


def _lat(r: dict[str, Any], key: str, p: str) -> float | None:
    return (r.get(key) or {}).get(p)


def target_table(results: dict[str, Any]) -> Table:
    rows = [[t["target"], t["goal"], f"{_f(t['measured'], t['digits'])} {t['unit']}",
             "yes" if t["met"] else "**NO**",
             f"{_f(t.get('floor'), t['digits'])} {t['unit']}" if t.get("floor") is not None
             else "-"] for t in results["targets"]]
    errors = results["errors"]
    total = sum(sum(e.values()) for e in errors.values())
    rows.append(["Correctness: every reply checked, none failed", "0 errors", str(total),
                 "yes" if total == 0 else "**NO**", "-"])
    return ("Targets (one gateway worker on one core)",
            ["target", "goal", "measured", "met", "floor on this machine"], rows, "lrrlr")


def floor_table(results: dict[str, Any]) -> Table | None:
    """The gateway beside the floor, pass by pass (both driven by ghz)."""
    rows = []
    for s in [*results["unary"], *_streams(results)]:
        p, gateway = s.get("floor"), s["gateway"]["ghz"]
        if not p:
            continue
        f_cpu = p["cpu"]["gateway_cpu_ms_per_request"]
        g_cpu = gateway["cpu"]["gateway_cpu_ms_per_request"]
        rows.append([f"{'unary chat' if p['kind'] == 'chat' else 'stream'} c={p['concurrency']}",
                     _f(p["rps"], 0), _f(_lat(p, "latency_ms", "p50")), _f(f_cpu, 3),
                     _errors(p), _f(gateway["rps"], 0), _f(_lat(gateway, "latency_ms", "p50")),
                     _f(g_cpu, 3), _f(g_cpu - f_cpu if g_cpu and f_cpu else None, 3)])
    header = ["pass (ghz)", "floor req/s", "floor p50 ms", "floor CPU ms/call",
              "floor errors/replies", "gateway req/s", "gateway p50 ms", "gateway CPU ms/call",
              "gateway's own work ms/call"]
    if not rows:
        return None
    return ("The floor: a bare grpc.aio server, one upstream call through h1 (each pass right "
            "after the gateway's)", header, rows, "l" + "r" * 8)


def load_table(results: dict[str, Any]) -> Table:
    header = ["call", "c", "path (tool)", "req/s", "p50 ms", "p99 ms", "errors/replies",
              "gw CPU ms/call", "gw CPU %", "load core %"]
    rows = []
    for s in [*results["unary"], results["embed"]]:
        name = "unary chat" if s["kind"] == "chat" else "embed (16 inputs)"
        for path, tool in (("gateway", "ghz"), ("gateway", "loadgen"),
                           ("direct", "wrk"), ("direct", "loadgen")):
            r = s[path][tool]
            cpu = r.get("cpu", {})
            rows.append([name, str(s["concurrency"]), f"{path} ({tool})", _f(r["rps"], 0),
                         _f(_lat(r, "latency_ms", "p50")), _f(_lat(r, "latency_ms", "p99")),
                         _errors(r), _f(cpu.get("gateway_cpu_ms_per_request"), 3),
                         _f(cpu.get("gateway_cpu_pct"), 0), _f(cpu.get("load_core_busy_pct"), 0)])
        for tools, o in s["overhead_ms"].items():
            rows.append([name, str(s["concurrency"]), f"overhead ({tools})", "",
                         "+" + _f(o.get("p50")), "+" + _f(o.get("p99")), "", "", "", ""])
    return "Unary chat and embeddings", header, rows, "lrl" + "r" * 7


def stream_table(results: dict[str, Any]) -> Table:
    header = ["c", "path (tool)", "streams/s", "first event p50 / p99 ms", "first text p50 ms",
              "end p50 / p99 ms", "errors/streams", "server CPU ms/stream", "server CPU %"]
    rows = []
    for s in _streams(results):
        c = str(s["concurrency"])
        passes = [("gateway (loadgen)", s["gateway"]["loadgen"]),
                  ("gateway (ghz)", s["gateway"]["ghz"]),
                  ("floor (loadgen)", s.get("floor_loadgen")),
                  ("direct (loadgen)", s["direct"]["loadgen"]),
                  ("direct (wrk)", s["direct"]["wrk"])]
        for label, r in passes:
            if not r:
                continue
            cpu = r.get("cpu", {})
            first = (f"{_f(_lat(r, 'first_event_ms', 'p50'))} / "
                     f"{_f(_lat(r, 'first_event_ms', 'p99'))}" if r.get("first_event_ms") else "-")
            rows.append([c, label, _f(r["rps"], 0), first,
                         _f(_lat(r, "first_text_ms", "p50")),
                         f"{_f(_lat(r, 'latency_ms', 'p50'))} / {_f(_lat(r, 'latency_ms', 'p99'))}",
                         _errors(r), _f(cpu.get("gateway_cpu_ms_per_request"), 3),
                         _f(cpu.get("gateway_cpu_pct"), 0)])
        for tools, label in (("loadgen", "overhead (loadgen)"),
                             ("floor-loadgen", "overhead, floor (loadgen)")):
            o = s["overhead_ms"].get(tools)
            if o is None:
                continue
            rows.append([c, label, "", f"+{_f(o.get('first_event_p50'))} / "
                         f"+{_f(o.get('first_event_p99'))}", "", f"+{_f(o.get('p50'))} / "
                         f"+{_f(o.get('p99'))}", "", "", ""])
    return "Streaming chat (20 chunks)", header, rows, "rl" + "r" * 7


def memory_table(results: dict[str, Any]) -> Table:
    rss, leak, held = results["rss_mib"], results["leak"], results["open_streams"]
    per_stream = None
    if held.get("rss_mib_open"):
        per_stream = 1024 * (held["rss_mib_open"] - held["before"]["rss_mib"]) / held["streams"]
    rows = [
        ["idle, just started", _f(rss["start"], 1), ""],
        ["idle, after the warm-up", _f(rss["idle_after_warmup"], 1), ""],
        [f"before the leak check ({leak['calls']:,} calls: {leak['mix']}, c={leak['concurrency']})",
         _f(leak["rss_mib_before"], 1), ""],
        ["after the leak check", _f(leak["rss_mib_after"], 1),
         f"growth {_f(leak['growth_pct'])} % (max during: {_f(leak['rss_mib_max'], 1)} MiB)"],
        [f"{held['streams']:,} open streams", _f(held.get("rss_mib_open"), 1),
         f"{(held.get('opened') or {}).get('open', 0):,} open; "
         f"{held.get('open_files_open', '-')} open files; "
         f"about {_f(per_stream, 0)} KiB per stream above the RSS before"],
        ["after they closed", _f(held["after_close"]["rss_mib"], 1),
         f"{held['after_close']['open_files']} open files"],
    ]
    return "Gateway memory (VmRSS, MiB)", ["when", "RSS MiB", "note"], rows, "lrl"


THREAD_GROUPS = [("event loop (main thread)", "event loop %"),
                 ("gRPC aio poller thread", "gRPC poller %"),
                 ("gRPC event_engine threads", "gRPC event_engine %")]


def cpu_table(results: dict[str, Any]) -> Table:
    rows = []
    for s in [*results["unary"], *_streams(results), results["embed"]]:
        cpu = s["gateway"]["loadgen"]["cpu"]
        per_call = cpu["gateway_cpu_ms_per_request"]
        threads = cpu.get("cpu_s_by_thread") or {}
        total = sum(threads.values()) or 1
        rows.append([f"{s['kind']} c={s['concurrency']}", _f(per_call, 3),
                     _f(1000 / per_call, 0) if per_call else "-",
                     *[_f(100 * threads.get(g, 0) / total, 0) for g, _ in THREAD_GROUPS],
                     _f(cpu.get("kernel_pct"), 0), _f(cpu.get("context_switches_per_request"), 1),
                     _f(cpu["gateway_cpu_pct"], 0), _f(cpu["gateway_core_other_pct"], 0)])
    run = results["cpu_over_run"]
    rows.append([f"whole run ({run['calls']:,} calls, all kinds)", _f(run["ms_per_call"], 3),
                 *[""] * 8])
    header = ["pass (loadgen)", "CPU ms/call", "calls/s per full core",
              *[label for _, label in THREAD_GROUPS], "kernel %", "ctx switches/call",
              "gw CPU %", "other work on gw core %"]
    return "Gateway CPU per call, and where it goes", header, rows, "l" + "r" * 9


def profile_tables(results: dict[str, Any]) -> list[Table]:
    """py-spy's samples of the profiled passes: by layer, then the functions
    with the most samples of their own (bench/harness/profile.py)."""
    out: list[Table] = []
    for label, p in (results.get("profile") or {}).items():
        if not isinstance(p, dict):
            continue
        summary = p.get("summary")
        if summary is None:
            out.append((f"Profile, {label}: none", ["why"], [[str(p.get("error"))]], "l"))
            continue
        rows = [[f"**{name}**", _f(pct, 1)] for name, pct in summary["layers"]]
        rows += [[f"function: {name}", _f(pct, 1)] for name, pct in summary["functions"][:10]]
        out.append((f"Where the gateway's CPU goes, {label} (py-spy, {summary['samples']:,} "
                    f"samples)", ["where", "% of samples"], rows, "lr"))
    return out


def tables(results: dict[str, Any]) -> list[Table]:
    floor = floor_table(results)
    return [target_table(results), *([floor] if floor else []), load_table(results),
            stream_table(results), memory_table(results), cpu_table(results),
            *profile_tables(results)]


def render_text(all_tables: list[Table]) -> str:
    out = []
    for title, header, rows, align in all_tables:
        cells = [header, *[[c.replace("**", "") for c in row] for row in rows]]
        widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
        out.append(title)
        for n, r in enumerate(cells):
            out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                                 for c, w, a in zip(r, widths, align, strict=True)).rstrip())
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        out.append("")
    return "\n".join(out)


def render_markdown(all_tables: list[Table]) -> str:
    out = []
    for title, header, rows, align in all_tables:
        out += [f"#### {title}", "", "| " + " | ".join(header) + " |",
                "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def summary_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    dirty = " with uncommitted changes under service/" if m["uncommitted_service_changes"] else ""
    pk = m["packages"]
    versions = ", ".join(f"{k} {v}" for k, v in pk.items())
    passes = [s["gateway"][tool]["cpu"] for s in [*results["unary"], *_streams(results),
                                                  results["embed"]] for tool in ("ghz", "loadgen")]
    other = max(c["gateway_core_other_pct"] for c in [*passes, results["leak"]["load"]["cpu"]])
    return "\n".join([
        f"Run {results['started']} ({'quick' if results['quick'] else 'full'} run, "
        f"{results['elapsed_s'] / 60:.1f} min) on commit `{m['commit']}`{dirty}.",
        "",
        f"- Machine: {m['cpu_model']}, {m['nproc']} cores, {m['memory_gib']} GiB RAM, "
        f"Linux {m['kernel']}.",
        f"- Pinning: gateway on core {results['setup']['gateway_cpu']}; nginx and the load "
        f"generators on core {results['setup']['load_cpu']}.",
        f"- Load average before / after: {' '.join(map(str, m['loadavg_before']))} / "
        f"{' '.join(map(str, results['loadavg_after']))}; other work on the gateway's core "
        f"during the passes: up to {other:.0f} % of it.",
        f"- Gateway: {m['event_loop']}; GRPC_EXPERIMENTS="
        f"`{m.get('grpc_experiments', '')}`; accept-ahead {m.get('accept_ahead', 0)}; "
        f"helper threads {m.get('helper_threads', 'normal')}; "
        f"idle spin {m.get('idle_spin_us', 0)} µs; "
        f"later stream messages wait up to {m.get('later_message_wait_ms', 0):g} ms; "
        f"{versions}.",
        f"- Tools: {', '.join(f'{k} {v}' for k, v in results['setup']['tools'].items())}.",
        "- Rerun: `make bench` (`make bench BENCH_ARGS=--quick` for a short smoke run).",
        f"- Results: `bench/results/{results['results_file']}`.",
    ])


# --- files -------------------------------------------------------------------------


def write_results(repo: Path, results: dict[str, Any]) -> Path:
    out_dir = repo / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / results["results_file"]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def update_readme(repo: Path, markdown: str) -> bool:
    path = repo / "bench" / "README.md"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        return False
    block = f"{README_START}\n{markdown.rstrip()}\n{README_END}"
    path.write_text(pattern.sub(lambda _: block, text))
    return True
