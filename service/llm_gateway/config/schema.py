"""The configuration file's schema (pydantic), validated on load.

Provider-specific settings live with each adapter (`providers/*/config.py`)
and extend `ProviderConfig` / `HttpProviderConfig`; `loader.py` validates
each `providers.<name>` entry with the model its `type` names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..core.models import Capabilities


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    # host:port; port 0 picks a free port (printed in the "serving" log line).
    address: str = "127.0.0.1:50051"
    # Worker processes sharing the port (SO_REUSEPORT); 0 = one per CPU core.
    workers: int = Field(default=0, ge=0, le=256)
    # After SIGTERM: seconds of NOT_SERVING while still serving, so load
    # balancers and Kubernetes stop routing here before the listener closes.
    drain_seconds: float = Field(default=5.0, ge=0)
    # Then: seconds in-flight calls (streams included) get to finish.
    grace_seconds: float = Field(default=30.0, ge=0)
    # gRPC server reflection (grpcurl / buf curl without proto files).
    reflection: bool = True
    max_message_mb: int = Field(default=32, ge=1, le=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # One structured log line per RPC.
    access_log: bool = True
    # A client's connection is closed gracefully (GOAWAY; gRPC adds +-10 %
    # jitter) after this many seconds, so clients reconnect and new pods
    # and worker processes get a share of long-lived clients; 0 = never
    # (gRPC's default; deploy/gateway.yaml sets 300).
    max_connection_age_seconds: float = Field(default=0.0, ge=0)
    # How long calls still running on such a connection may go on; unset =
    # until they finish (a long stream is never cut for rebalancing).
    max_connection_age_grace_seconds: float | None = Field(default=None, ge=0)
    # Requests for new calls kept outstanding in gRPC core per method, so
    # calls arriving together are accepted together (server/accept_ahead.py);
    # 0 = grpc.aio's own one-at-a-time accept only.
    accept_ahead: int = Field(default=32, ge=0, le=1024)
    # "batch": the process's helper threads (gRPC's, uvloop's) run as
    # SCHED_BATCH and never preempt the event loop to hand over their work
    # (server/threads.py); "normal": the operating system's default.
    helper_threads: Literal["batch", "normal"] = "batch"
    # Microseconds the event loop polls instead of sleeping after each call
    # arrives (server/idle_spin.py); unset = 600, or 0 when the process's
    # cgroup has a CPU quota; 0 = never.
    idle_spin_us: int | None = Field(default=None, ge=0, le=100_000)
    # While other calls are in progress, a stream's messages after its first
    # two wait for an idle turn of the event loop, at most this long, so
    # calls still waiting for their first output run first
    # (servicers/pacing.py); 0 = never.
    later_message_wait_ms: float = Field(default=3.0, ge=0, le=100)

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must be host:port with a port from 0 to 65535")
        return value


class ModelEntry(_Strict):
    """One model a provider serves. A bare string in YAML is the id."""

    id: str = Field(min_length=1)
    kind: Literal["chat", "embedding"] | None = None
    display_name: str = ""
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    embedding_dimensions: int | None = Field(default=None, gt=0)
    # Turn capabilities off for this model ({"vision": false}); a model
    # cannot gain a capability its adapter does not implement.
    capabilities: dict[str, bool] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: object) -> object:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        if value:
            unknown = sorted(set(value) - set(Capabilities.names()))
            if unknown:
                raise ValueError(
                    f"unknown capability {', '.join(unknown)}; "
                    f"known: {', '.join(Capabilities.names())}"
                )
        return value


class ProviderConfig(_Strict):
    type: str
    models: list[ModelEntry] = Field(default_factory=list)
    # Route "provider/model" for models not listed in `models`, with the
    # adapter's default capabilities.
    allow_unlisted_models: bool = True
    # Read the provider's model list at start-up and add what it offers.
    discover_models: bool = False


class Timeouts(_Strict):
    connect: float = Field(default=10.0, gt=0)
    # Longest wait for the next bytes of a response (a stream's next event).
    read: float = Field(default=600.0, gt=0)
    write: float = Field(default=60.0, gt=0)
    # Longest wait for a free pooled connection.
    pool: float = Field(default=30.0, gt=0)


class HttpProviderConfig(ProviderConfig):
    base_url: str
    api_key: SecretStr | None = None
    # Extra headers sent with every request (values are treated as secrets).
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    timeout: Timeouts = Timeouts()
    max_connections: int = Field(default=256, ge=1)
    max_keepalive_connections: int = Field(default=64, ge=0)
    # Seconds an idle pooled connection is kept for reuse. Below the shortest
    # idle timeout common upstream servers use (uvicorn, so vLLM, and the
    # llama.cpp server: 5 s), so the gateway never sends a request on a
    # connection the server is closing at that very moment (the request
    # would fail, and a POST is not retried). Hosted APIs keep connections
    # longer: raise it for them if reconnects after idle spells matter.
    keepalive_expiry: float = Field(default=4.0, gt=0)
    # HTTP/2 to the upstream (multiplexed streams on one connection; served
    # by the httpx transport).
    http2: bool = False
    # How requests travel: `h1`, the gateway's lean HTTP/1.1 client (what
    # `auto` picks for HTTP/1.1: the fastest), aiohttp, or httpx (the one
    # with HTTP/2). See providers/http/transport.py.
    transport: Literal["auto", "h1", "aiohttp", "httpx"] = "auto"

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    def secret_values(self) -> list[str]:
        values = [s.get_secret_value() for s in self.headers.values()]
        if self.api_key is not None:
            values.append(self.api_key.get_secret_value())
        return [v for v in values if v]


class GatewayConfig(_Strict):
    server: ServerConfig = ServerConfig()
    # Validated per type by loader.py; keyed by provider name.
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    # alias -> "provider/model"
    aliases: dict[str, str] = Field(default_factory=dict)
