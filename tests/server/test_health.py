"""The health servicer's Watch at shutdown: a watcher always sees the final
NOT_SERVING before its call ends, however shutdown interleaves with it."""

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from llm_gateway.server.health import NOT_SERVING, SERVING, GatewayHealth

UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


async def statuses(watch: grpc.aio.UnaryStreamCall) -> list[int]:
    out = []
    while (message := await watch.read()) is not grpc.aio.EOF:
        out.append(message.status)
    return out


async def test_watchers_see_not_serving_before_the_call_ends() -> None:
    # Shutdown at every point of the watchers' first write: before it, during
    # it, after it.
    for yields in range(12):
        health = GatewayHealth()
        await health.mark_serving()
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await channel.channel_ready()
            stub = health_pb2_grpc.HealthStub(channel)
            watches = [stub.Watch(health_pb2.HealthCheckRequest(service=name))
                       for name in ("readiness", "", "no.such.Service")]
            readers = [asyncio.ensure_future(statuses(w)) for w in watches]
            for _ in range(yields):
                await asyncio.sleep(0)
            await health.enter_graceful_shutdown()
            seen = await asyncio.wait_for(asyncio.gather(*readers), 10)
        for named in seen[:2]:
            assert named[-1] == NOT_SERVING and set(named) <= {SERVING, NOT_SERVING}, yields
        assert seen[2] == [UNKNOWN], yields  # unknown stays unknown, and the watch ends
        await server.stop(0)
