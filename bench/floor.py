"""The floor under the gateway: a grpc.aio server that does (almost) nothing.

    .venv/bin/python bench/floor.py                  # the bare server
    .venv/bin/python bench/floor.py --upstream h1    # + one upstream call per RPC
    .venv/bin/python bench/floor.py --upstream aiohttp

Serves `ChatService/Chat` (one constant reply) and `StreamChat` (three
constant messages) from a bare grpc.aio server (bench/harness/floor.py),
pinned to the gateway's core, and drives it with ghz from the other core as
`make bench` drives the gateway: unary at c = 1, 16 and 64, streams at
c = 1 and 16. `make bench` measures the same with `h1` right after each of the
gateway's unary and stream passes, so every run reports its machine's floor;
bench/README.md ("Where the time goes") compares them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness import floor
from harness.drivers import Drivers
from harness.servers import Nginx, pick_cores

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", choices=["none", "h1", "aiohttp"], default="none",
                   help="the HTTP client of an upstream call made by each RPC")
    p.add_argument("--seconds", type=float, default=6, help="per pass")
    p.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    p.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        import uvloop
        uvloop.run(floor.serve(args.serve, args.upstream, args.url))
        return 0

    server_cpu, load_cpu = pick_cores()
    run_dir = Path(tempfile.mkdtemp(prefix="llm-gateway-floor-"))
    drivers = Drivers.prepare(REPO, run_dir, load_cpu)
    nginx = (Nginx(drivers.tools.nginx, REPO, run_dir, load_cpu).start()
             if args.upstream != "none" else None)
    server = floor.FloorServer(server_cpu, args.upstream, nginx.base_url if nginx else "")
    try:
        server.start(drivers)
        passes = [server.measure(drivers, load_cpu, kind, c, args.seconds)
                  for kind, c in floor.PASSES]
    finally:
        server.stop()
        if nginx is not None:
            nginx.stop()
    print(f"upstream call: {args.upstream}")
    print(f"{'call':<6} {'c':>3} {'calls/s':>8} {'p50 ms':>7} {'CPU ms/call':>12} "
          f"{'server CPU %':>13} {'ctx switches/call':>18} {'errors':>7}")
    for r in passes:
        f = r["cpu"]
        print(f"{r['kind']:<6} {r['concurrency']:>3} {r['rps']:>8,.0f} "
              f"{r['latency_ms']['p50']:>7.2f} {f['gateway_cpu_ms_per_request']:>12.3f} "
              f"{f['gateway_cpu_pct']:>13.0f} {f['context_switches_per_request']:>18.1f} "
              f"{sum(r['errors'].values()):>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
