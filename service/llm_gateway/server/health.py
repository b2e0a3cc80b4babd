"""grpc.health.v1 for Kubernetes: the overall server (""), every service, and
the probe names `liveness` and `readiness`.

None of them depends on an upstream provider: a provider outage must not get
the pod restarted or taken out of rotation, since other providers still
work. On shutdown every name turns NOT_SERVING at once.
"""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio

from ..servicers.names import SERVICE_NAMES

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
PROBE_NAMES = ("liveness", "readiness")


class GatewayHealth(aio.HealthServicer):
    """The reference aio servicer, except that Watch calls end at shutdown,
    after sending NOT_SERVING (the reference's run forever, and would hold
    shutdown for the whole grace period)."""

    async def mark_serving(self) -> None:
        for name in ("", *SERVICE_NAMES, *PROBE_NAMES):
            await self.set(name, SERVING)

    async def Watch(self, request: health_pb2.HealthCheckRequest, context) -> None:  # type: ignore[no-untyped-def, override]
        condition = self._server_watchers[request.service]
        self._watcher_count_by_service[request.service] += 1
        last = None
        try:
            async with condition:
                while True:
                    status = self._server_status.get(
                        request.service, health_pb2.HealthCheckResponse.SERVICE_UNKNOWN)
                    if status != last:
                        await context.write(health_pb2.HealthCheckResponse(status=status))
                        last = status
                        continue  # the status may have changed while we wrote
                    # Shutdown is final once the watcher has sent what it ends
                    # with (NOT_SERVING; unknown stays unknown). A watcher that
                    # last sent SERVING waits: shutdown's update needs this
                    # condition, which the wait releases.
                    if self._gracefully_shutting_down and status != SERVING:
                        return
                    await condition.wait()
        finally:
            self._watcher_count_by_service[request.service] -= 1
            if self._watcher_count_by_service[request.service] == 0:
                del self._server_watchers[request.service]
                del self._watcher_count_by_service[request.service]

    async def enter_graceful_shutdown(self) -> None:
        await super().enter_graceful_shutdown()
        # Wake every watcher, including those of services never set (whose
        # status the reference implementation never touches again).
        for condition in list(self._server_watchers.values()):
            async with condition:
                condition.notify_all()
