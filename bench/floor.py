"""The floor under the gateway: a grpc.aio server that does (almost) nothing.

    .venv/bin/python bench/floor.py                  # the bare server
    .venv/bin/python bench/floor.py --upstream h1    # + one upstream call per RPC
    .venv/bin/python bench/floor.py --upstream aiohttp

Serves `ChatService/Chat` with one constant, pre-serialized reply (no
gateway code, no deserialization), on uvloop, pinned to the gateway's core,
and drives it with ghz from the other core at c = 1, 16 and 64, exactly as
`make bench` drives the gateway. With `--upstream`, each RPC first POSTs its
request bytes to the nginx fake through that HTTP client (the gateway's own
`h1` transport, or aiohttp) and reads the reply. What this costs per call is
what any grpc.aio gateway pays before its own work; bench/README.md ("Where
the time goes") compares it with the gateway.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from harness import procfs, tools
from harness.drivers import HTTP_PATHS, Drivers, write_requests
from harness.servers import Nginx, child_env, free_port, pin, stop_process

REPO = Path(__file__).resolve().parent.parent


def upstream_call(client: str, url: str) -> Callable[[bytes], Awaitable[None]]:
    if client == "aiohttp":
        import aiohttp
        session = aiohttp.ClientSession(skip_auto_headers=("User-Agent",), trust_env=False)

        async def via_aiohttp(body: bytes) -> None:
            async with session.post(url, data=body,
                                    headers={"content-type": "application/json"}) as r:
                await r.read()
        return via_aiohttp

    from llm_gateway.providers.http.h1 import H1Transport
    from llm_gateway.providers.http.transport import OutgoingRequest, RequestTimeout
    transport = H1Transport(max_connections=256, max_keepalive_connections=256)
    timeout = RequestTimeout(connect=5, read=30, write=30, pool=5)

    async def via_h1(body: bytes) -> None:
        await transport.send(OutgoingRequest(
            "POST", url, {"content-type": "application/json"}, body), timeout)
    return via_h1


async def serve(port: int, client: str, url: str) -> None:
    import grpc
    from llmgateway.v1 import chat_pb2

    reply = chat_pb2.ChatResponse(id="floor", model="floor").SerializeToString()
    call = upstream_call(client, url) if client != "none" else None

    async def chat(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if call is not None:
            await call(request)
        return reply

    handler = grpc.method_handlers_generic_handler(
        "llmgateway.v1.ChatService", {"Chat": grpc.unary_unary_rpc_method_handler(chat)})
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("serving", flush=True)
    await server.wait_for_termination()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", choices=["none", "h1", "aiohttp"], default="none",
                   help="the HTTP client of an upstream call made by each RPC")
    p.add_argument("--seconds", type=float, default=6, help="per concurrency")
    p.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    p.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        import uvloop
        uvloop.run(serve(args.serve, args.upstream, args.url))
        return 0

    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, load_cpu = cpus[0], cpus[-1]
    run_dir = Path(tempfile.mkdtemp(prefix="llm-gateway-floor-"))
    kit = tools.ensure_tools(REPO, run_dir)
    drivers = Drivers(kit, REPO, run_dir, load_cpu, tools.build_protoset(REPO, kit.buf, run_dir),
                      write_requests(run_dir / "requests"))
    nginx = Nginx(kit.nginx, REPO, run_dir, load_cpu).start() if args.upstream != "none" else None
    url = nginx.base_url + HTTP_PATHS["chat"] if nginx else ""
    port = free_port()
    argv = [sys.executable, __file__, "--serve", str(port), "--upstream", args.upstream,
            "--url", url]
    proc = subprocess.Popen(pin(server_cpu, argv), stdout=subprocess.PIPE, text=True,
                            env=child_env())
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "serving":
            raise RuntimeError("the floor server did not start")
        address = f"127.0.0.1:{port}"
        drivers.ghz(address, "chat", 16, 2)  # warm-up
        print(f"upstream call: {args.upstream}")
        print(f"{'c':>3} {'calls/s':>8} {'p50 ms':>7} {'CPU ms/call':>12} {'server CPU %':>13} "
              f"{'ctx switches/call':>18} {'errors':>7}")
        for c in (1, 16, 64):
            with procfs.Probe(proc.pid, server_cpu, load_cpu) as probe:
                r = drivers.ghz(address, "chat", c, args.seconds)
            f = probe.figures(r["requests"])
            print(f"{c:>3} {r['rps']:>8,.0f} {r['latency_ms']['p50']:>7.2f} "
                  f"{f['gateway_cpu_ms_per_request']:>12.3f} {f['gateway_cpu_pct']:>13.0f} "
                  f"{f['context_switches_per_request']:>18.1f} {sum(r['errors'].values()):>7}")
    finally:
        stop_process(proc, 15, 10)
        if nginx is not None:
            nginx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
