"""The real gateway process over a real socket: what Kubernetes and callers
see. One process per test module serves the read-only tests; lifecycle tests
start their own."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from hyperframe.frame import Frame, GoAwayFrame, SettingsFrame
from llm_gateway.config.schema import ServerConfig
from llm_gateway.server import idle_spin
from llm_gateway.server.grpc_settings import DEFAULT_EXPERIMENTS, VARIABLE
from llm_gateway_client import reassemble as rebuild
from llmgateway.v1 import (
    chat_pb2,
    chat_pb2_grpc,
    common_pb2,
    completions_pb2,
    completions_pb2_grpc,
    embeddings_pb2,
    embeddings_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
)

from tests.support.gateway_process import GatewayProcess
from tests.support.grpc_helpers import chat_input, rich_error, slow_stream

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def write_config(tmp: Path, drain: float = 0, grace: float = 30, **server: object) -> Path:
    path = tmp / "gateway.yaml"
    more = "".join(f"\n  {name}: {value}" for name, value in server.items())
    path.write_text(f"""
server:
  drain_seconds: {drain}
  grace_seconds: {grace}{more}
providers:
  echo: {{}}
aliases:
  fast: echo/echo
""")
    return path


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(write_config(tmp_path_factory.mktemp("gw"))) as process:
        yield process


def test_unary_stream_embed_and_models(gateway: GatewayProcess) -> None:
    with gateway.channel() as ch:
        chat = chat_pb2_grpc.ChatServiceStub(ch)
        reply = chat.Chat(chat_pb2.ChatRequest(input=chat_input("fast", "over the wire")),
                          timeout=10)
        assert reply.message.parts[0].text == "over the wire"
        events = list(chat.StreamChat(chat_pb2.StreamChatRequest(
            input=chat_input("fast", "over the wire")), timeout=10))
        assert [e.WhichOneof("event") for e in events].count("done") == 1
        rebuilt = rebuild(events)
        rebuilt.request_id = reply.request_id
        rebuilt.upstream_request_id = reply.upstream_request_id
        assert rebuilt == reply
        # The access line of a stream names the provider, as a unary call's does.
        line = gateway.wait_for_log(lambda e: e.get("rpc") == "StreamChat"
                                    and e.get("request_id") == events[0].start.request_id,
                                    timeout=10)
        assert (line["code"], line["model"], line["provider"]) == ("OK", "fast", "echo")
        completion = list(completions_pb2_grpc.CompletionServiceStub(ch).StreamComplete(
            completions_pb2.StreamCompleteRequest(input=completions_pb2.CompletionInput(
                model="fast", prompts=["over the wire"])), timeout=10))
        line = gateway.wait_for_log(lambda e: e.get("rpc") == "StreamComplete"
                                    and e.get("request_id") == completion[0].start.request_id,
                                    timeout=10)
        assert (line["code"], line["provider"]) == ("OK", "echo")
        vectors = embeddings_pb2_grpc.EmbeddingServiceStub(ch).Embed(
            embeddings_pb2.EmbedRequest(model="echo/echo-embed",
                                        inputs=[embeddings_pb2.EmbedInput(text="x")]),
            timeout=10)
        assert len(vectors.embeddings[0].values) == 16
        models = models_pb2_grpc.ModelServiceStub(ch).ListModels(
            models_pb2.ListModelsRequest(page_size=1), timeout=10)
        assert models.models[0].name == "echo/echo" and models.next_page_token


def test_the_server_runs_with_the_gateways_grpc_settings(gateway: GatewayProcess) -> None:
    serving = gateway.wait_for_log(lambda e: e.get("msg") == "serving", 10)
    assert serving["grpc_experiments"] == DEFAULT_EXPERIMENTS
    assert serving["accept_ahead"] == ServerConfig().accept_ahead
    # The heap alive at start-up is out of the cycle collector's sight
    # (server/app.py serve: a full collection would walk it, stalling calls).
    assert serving["gc_frozen_objects"] > 10_000
    # gRPC's helper threads never preempt the event loop (server/threads.py).
    assert serving["helper_threads"] == "batch"
    policies = thread_policies(serving["pid"])
    # The event loop's thread keeps the policy it inherited from this test.
    assert policies.pop(serving["pid"]) == os.sched_getscheduler(0)
    assert len(policies) >= 2 and set(policies.values()) == {os.SCHED_BATCH}
    # After each call it accepts, the loop polls for a while instead of
    # sleeping, unless a CPU quota applies (server/idle_spin.py).
    assert serving["idle_spin_us"] == idle_spin.resolve(None)
    # gRPC still knows the experiment (a grpcio bump may retire it).
    assert "Unknown experiment" not in gateway.log_text()


def thread_policies(pid: int) -> dict[int, int]:
    """Each thread's scheduling policy, from /proc (stat field 41)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        out[int(task.name)] = int(stat[stat.rindex(")") + 2:].split()[38])
    return out


def test_an_operators_grpc_settings_are_kept(tmp_path: Path) -> None:
    with GatewayProcess(write_config(tmp_path, accept_ahead=0, helper_threads="normal"),
                        env={VARIABLE: "-event_engine_listener,no_such_experiment"}) as process:
        serving = process.wait_for_log(lambda e: e.get("msg") == "serving", 10)
        assert serving["grpc_experiments"] == "-event_engine_listener,no_such_experiment"
        assert serving["accept_ahead"] == 0
        assert serving["idle_spin_us"] == 0  # the acceptors start it: none without them
        assert set(thread_policies(serving["pid"]).values()) == {os.sched_getscheduler(0)}
        # gRPC core itself read the operator's value.
        assert "Unknown experiment: no_such_experiment" in process.log_text()


def test_health_for_kubernetes(gateway: GatewayProcess) -> None:
    with gateway.channel() as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for name in ("", "liveness", "readiness", "llmgateway.v1.ChatService",
                     "llmgateway.v1.EmbeddingService", "llmgateway.v1.ModelService",
                     "llmgateway.v1.CompletionService", "llmgateway.v1.LocalModelService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == SERVING, name
        with pytest.raises(grpc.RpcError) as exc:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert exc.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_every_service(gateway: GatewayProcess) -> None:
    with gateway.channel() as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        names = {s.name for r in replies for s in r.list_services_response.service}
    assert {"llmgateway.v1.ChatService", "llmgateway.v1.EmbeddingService",
            "llmgateway.v1.ModelService", "grpc.health.v1.Health"} <= names


def test_deadline_is_enforced(gateway: GatewayProcess) -> None:
    slow = chat_input("echo", "slow", provider_options=common_pb2.ProviderOptions(
        json_by_provider={"echo": '{"delay_ms": 5000}'}))
    with gateway.channel() as ch:
        with pytest.raises(grpc.RpcError) as exc:
            chat_pb2_grpc.ChatServiceStub(ch).Chat(chat_pb2.ChatRequest(input=slow), timeout=0.3)
    assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    entry = gateway.wait_for_log(lambda e: e.get("rpc") == "Chat" and e.get("code") == "CANCELLED",
                                 timeout=10)
    assert entry["model"] == "echo"


def test_errors_over_the_wire(gateway: GatewayProcess) -> None:
    with gateway.channel() as ch:
        with pytest.raises(grpc.RpcError) as exc:
            chat_pb2_grpc.ChatServiceStub(ch).Chat(
                chat_pb2.ChatRequest(input=chat_input("unknown-model")), timeout=5)
    err = rich_error(exc.value)
    assert (err.code, err.reason, err.domain) == (grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND",
                                                  "llmgateway")


def test_sigterm_drains_and_finishes_a_stream_in_flight(tmp_path: Path) -> None:
    process = GatewayProcess(write_config(tmp_path, drain=0.5)).start()
    try:
        with process.channel() as ch:
            stream = chat_pb2_grpc.ChatServiceStub(ch).StreamChat(slow_stream(20), timeout=30)
            first = next(stream)
            assert first.WhichOneof("event") == "start"
            watch = health_pb2_grpc.HealthStub(ch).Watch(
                health_pb2.HealthCheckRequest(service="readiness"), timeout=30)
            assert next(watch).status == SERVING
            process.signal(signal.SIGTERM)
            # Health turns NOT_SERVING at once, while the stream is in flight.
            assert next(watch).status == NOT_SERVING
            rest = list(stream)
        kinds = [e.WhichOneof("event") for e in rest]
        assert kinds[-1] == "done" and kinds.count("text_delta") == 20
        assert process.wait(timeout=30) == 0
        messages = [e["msg"] for e in process.entries()]
        assert messages.index("draining") < messages.index("stopped")
    finally:
        process.stop()


def test_workers_share_one_port(tmp_path: Path) -> None:
    process = GatewayProcess(write_config(tmp_path), workers=2).start()
    try:
        pids = set()
        for i in range(24):
            with grpc.insecure_channel(process.address, options=[
                    ("grpc.use_local_subchannel_pool", 1)]) as ch:
                chat_pb2_grpc.ChatServiceStub(ch).Chat(chat_pb2.ChatRequest(
                    input=chat_input("echo"), metadata=common_pb2.RequestMetadata(
                        request_id=f"conn-{i}")), timeout=10)
        for i in range(24):
            entry = process.wait_for_log(lambda e, i=i: e.get("request_id") == f"conn-{i}", 10)
            pids.add(entry["pid"])
        assert len(pids) == 2
        for pid in pids:  # each worker makes its own helper threads batch
            policies = thread_policies(pid)
            assert policies.pop(pid) == os.sched_getscheduler(0)
            assert set(policies.values()) == {os.SCHED_BATCH}
        assert process.stop() == 0
    finally:
        process.stop()


def test_health_watch_does_not_hold_shutdown(tmp_path: Path) -> None:
    process = GatewayProcess(write_config(tmp_path, grace=60)).start()
    try:
        with process.channel() as ch:
            watch = health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(),
                                                          timeout=60)
            assert next(watch).status == SERVING
            done = threading.Event()
            threading.Thread(target=lambda: (list(watch), done.set()), daemon=True).start()
            process.signal(signal.SIGTERM)
            # Without the Watch fix the process would wait out the 60 s grace.
            assert process.wait(timeout=20) == 0
            assert done.wait(10)
    finally:
        process.stop()


def await_goaway(address: str, timeout: float) -> tuple[GoAwayFrame, float]:
    """Opens a bare HTTP/2 connection and reads frames until the server's
    GOAWAY: the frame and the seconds it took."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SettingsFrame(0).serialize())
        buffer = b""
        while True:
            data = sock.recv(65536)
            assert data, "the server closed the connection without a GOAWAY"
            buffer += data
            while len(buffer) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(buffer[:9]))
                if len(buffer) < 9 + length:
                    break
                frame.parse_body(memoryview(buffer[9:9 + length]))
                buffer = buffer[9 + length:]
                if isinstance(frame, GoAwayFrame):
                    return frame, time.monotonic() - started
                if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                    sock.sendall(SettingsFrame(0, flags=["ACK"]).serialize())


def test_a_connection_gets_a_graceful_goaway_at_its_max_age(tmp_path: Path) -> None:
    with GatewayProcess(write_config(tmp_path, max_connection_age_seconds=0.5)) as process:
        goaway, after = await_goaway(process.address, timeout=20)
    assert goaway.error_code == 0  # NO_ERROR: a graceful close
    assert after >= 0.4  # the age (less gRPC's 10 % jitter), not an immediate refusal


def test_a_stream_outlives_the_connection_age_and_the_client_reconnects(
        tmp_path: Path) -> None:
    with GatewayProcess(write_config(tmp_path, max_connection_age_seconds=0.3)) as process, \
            process.channel() as ch:
        stub = chat_pb2_grpc.ChatServiceStub(ch)
        events = list(stub.StreamChat(slow_stream(20), timeout=30))  # ~1 s: past the age
        kinds = [e.WhichOneof("event") for e in events]
        assert kinds[-1] == "done" and kinds.count("text_delta") == 20
        # The old connection is gone; the channel connects again.
        reply = stub.Chat(chat_pb2.ChatRequest(input=chat_input("echo", "again")), timeout=10)
        assert reply.message.parts[0].text == "again"


def test_the_age_grace_ends_calls_that_run_past_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, max_connection_age_seconds=0.3,
                          max_connection_age_grace_seconds=0.2)
    with GatewayProcess(config) as process, process.channel() as ch:
        stream = chat_pb2_grpc.ChatServiceStub(ch).StreamChat(slow_stream(60), timeout=30)
        with pytest.raises(grpc.RpcError) as exc:
            list(stream)  # ~3 s of deltas; the connection ends after about 0.5 s
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
