"""`make bench`: the gateway's benchmark, on loopback.

    .venv/bin/python bench/run.py            # the full run (about 7 minutes)
    .venv/bin/python bench/run.py --quick    # a short smoke run for development

Starts nginx (bench/nginx.conf: static OpenAI-compatible replies) and the
gateway (bench/gateway.yaml, one worker) pinned to one core, drives them
from the other core with ghz (gRPC), wrk (direct HTTP) and bench/loadgen
(checked replies, stream timings, open streams, the leak check), and
with the floor (a bare grpc.aio server with one upstream call per RPC:
bench/harness/floor.py) on the same core measured right after each unary
and stream pass, and writes
bench/results/<UTC date>.json, a table on stdout and, after a full run, the
latest figures in bench/README.md. See bench/README.md.

Exit status: 0 when every reply was right (targets missed are reported,
not fatal; --strict makes them fatal), 1 when any reply failed or was wrong.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import floor, machine, report, scenarios, tools
from harness.drivers import Drivers
from harness.servers import Gateway, Nginx, pick_cores

REPO = Path(__file__).resolve().parent.parent
MIN_OPEN_FILES = 8192  # 1,000 streams: a gRPC stream and an upstream socket each


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short passes and a small leak check (results in <date>-quick.json)")
    p.add_argument("--gateway-cpu", type=int, help="core for the gateway (default: the first)")
    p.add_argument("--load-cpu", type=int,
                   help="core for nginx and the load generators (default: the second)")
    p.add_argument("--no-readme", action="store_true",
                   help="do not write the figures into bench/README.md")
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs, configs)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return p.parse_args(argv)


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, 65536))
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want != resource.RLIM_INFINITY and want < MIN_OPEN_FILES:
        tools.say(f"WARNING: only {want} open files allowed; 1,000 open streams need more")


def measure(args: argparse.Namespace, run_dir: Path, cores: tuple[int, int]) -> dict[str, Any]:
    gateway_cpu, load_cpu = cores
    plan = scenarios.QUICK if args.quick else scenarios.FULL
    drivers = Drivers.prepare(REPO, run_dir, load_cpu)
    kit = drivers.tools
    setup = {"gateway_cpu": gateway_cpu, "load_cpu": load_cpu, "tools": kit.versions(),
             "plan": plan.__dict__, "run_dir": str(run_dir)}
    nginx = Nginx(kit.nginx, REPO, run_dir, load_cpu).start()
    bare = floor.FloorServer(gateway_cpu, "h1", nginx.base_url)
    gateway: Gateway | None = None
    try:
        bare.start(drivers)
        tools.say(f"floor server {bare.address}: bare grpc.aio, one upstream call through h1")
        gateway = Gateway(REPO, run_dir, gateway_cpu, nginx.port).start()
        tools.say(f"gateway {gateway.address} (pid {gateway.pid}), upstream {nginx.base_url}")
        run = scenarios.Run(plan, drivers, nginx, gateway, gateway_cpu, load_cpu, bare)
        results = run.run_all()
    finally:
        exit_code = gateway.stop() if gateway is not None else None
        bare.stop()
        nginx.stop()
    results["setup"] = setup
    results["gateway_exit"] = exit_code
    results["gateway_log"] = gateway.log_summary()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files()
    cores = pick_cores(args.gateway_cpu, args.load_cpu)
    started = datetime.now(UTC)
    info = machine.describe(REPO)
    run_dir = Path(tempfile.mkdtemp(prefix="llm-gateway-bench-"))
    t0 = time.monotonic()
    try:
        results = measure(args, run_dir, cores)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        # Processes are stopped by now; the logs stay for a look.
        print(f"bench: FAILED: {exc}\nbench: logs and configs in {run_dir}", file=sys.stderr)
        return 1
    if args.keep:
        tools.say(f"run directory kept: {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
        del results["setup"]["run_dir"]
    suffix = "-quick" if args.quick else ""
    results = {"started": started.strftime("%Y-%m-%d %H:%M UTC"), "quick": args.quick,
               "elapsed_s": round(time.monotonic() - t0, 1), "machine": info,
               "loadavg_after": [round(x, 2) for x in os.getloadavg()],
               "results_file": f"{started:%Y-%m-%d}{suffix}.json", **results}
    results["targets"] = report.evaluate(results)
    results["errors"] = report.error_counts(results)
    path = report.write_results(REPO, results)

    all_tables = report.tables(results)
    print(report.render_text(all_tables))
    print(f"results: {path.relative_to(REPO)}")
    if not args.quick and not args.no_readme:
        markdown = report.summary_markdown(results) + "\n\n" + report.render_markdown(all_tables)
        if report.update_readme(REPO, markdown):
            print("bench/README.md: latest figures updated")
    failed = bool(results["errors"]) or results["gateway_exit"] not in (0, None)
    if failed:
        print(f"FAILED: wrong or failed replies: {results['errors']}; "
              f"gateway exit {results['gateway_exit']}", file=sys.stderr)
        return 1
    if args.strict and not all(t["met"] for t in results["targets"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
