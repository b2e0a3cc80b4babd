"""The live environment every language's client test suite runs against
(clients/TESTING.md): the real gateway process with the echo provider and a
provider `fake` whose upstream is the loopback fake, scripted with fixed
documented OpenAI payloads; and a second one, alike, that rotates its
connections (scenario 14).

    python -m tests.support.client_env     # prints the two addresses, runs until Ctrl-C
"""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from pathlib import Path

from tests.fixtures import openai as fx

from .fake_upstream import FakeUpstream, RecordedRequest, Reply, Response, Stream, sse
from .gateway_process import GatewayProcess

# The key the gateway uses for the fake upstream: it must never show up in an
# error message or a log line.
UPSTREAM_KEY = "sk-session-secret-5f0e9c2a7b"


# The rotating gateway (scenario 14) closes every connection gracefully this
# long after it opened (gRPC adds up to 10 % either way).
ROTATION_SECONDS = 0.3


def gateway_config(upstream_url: str, max_connection_age: float = 0) -> str:
    return f"""
server:
  drain_seconds: 0
  grace_seconds: 5
  max_connection_age_seconds: {max_connection_age}
providers:
  echo: {{}}
  fake:
    type: openai
    base_url: {upstream_url}/v1
    api_key: ${{FAKE_UPSTREAM_KEY}}
    models: [gpt-4.1-mini, text-embedding-3-small]
aliases:
  fast: echo/echo
  smart: fake/gpt-4.1-mini
"""


def start_gateway(upstream: FakeUpstream, directory: Path,
                  max_connection_age: float = 0) -> GatewayProcess:
    """The gateway of the client suites; with `max_connection_age`, the
    rotating one of scenario 14."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "gateway.yaml"
    path.write_text(gateway_config(upstream.url, max_connection_age))
    return GatewayProcess(path, env={"FAKE_UPSTREAM_KEY": UPSTREAM_KEY}).start()


def _chat(request: RecordedRequest) -> Response:
    if request.json().get("stream"):
        return Stream(sse(*fx.STREAM_TOOL_CALLS))
    return Reply(json=fx.CHAT_TOOL_CALLS)


def script_client_routes(upstream: FakeUpstream) -> None:
    """What `smart` answers in the client suites: the documented tool-call
    payloads (streamed: get_weather {"location": "Paris"} and get_time {})."""
    upstream.on("POST", "/v1/chat/completions", _chat)
    upstream.on("POST", "/v1/embeddings", Reply(json=fx.EMBEDDINGS))


def main() -> int:
    # Handlers (not a blocked mask + sigwait: a blocked mask is inherited by
    # the gateway child, which would then never see SIGTERM).
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    upstream = FakeUpstream()
    script_client_routes(upstream)
    with tempfile.TemporaryDirectory() as tmp:
        gateway = start_gateway(upstream, Path(tmp) / "main")
        rotating = start_gateway(upstream, Path(tmp) / "rotating", ROTATION_SECONDS)
        print(f"LLMGATEWAY_ADDRESS={gateway.address}", flush=True)
        print(f"LLMGATEWAY_ROTATING_ADDRESS={rotating.address}", flush=True)
        try:
            while not stop.wait(1.0):
                pass
        finally:
            gateway.stop()
            rotating.stop()
            upstream.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
