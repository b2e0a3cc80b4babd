"""The gRPC server's options from the configuration (the real process's
behaviour under them is in test_process.py)."""

from __future__ import annotations

from typing import Any

from llm_gateway.config.schema import GatewayConfig
from llm_gateway.server.app import server_options


def options(**server: Any) -> dict[str, int]:
    return dict(server_options(GatewayConfig.model_validate({"server": server})))


def test_connections_are_never_aged_out_by_default() -> None:
    got = options()
    assert "grpc.max_connection_age_ms" not in got
    assert "grpc.max_connection_age_grace_ms" not in got


def test_an_age_without_a_grace_lets_calls_finish_however_long() -> None:
    got = options(max_connection_age_seconds=300)
    assert got["grpc.max_connection_age_ms"] == 300_000
    assert "grpc.max_connection_age_grace_ms" not in got


def test_a_connection_age_of_zero_means_never() -> None:
    got = options(max_connection_age_seconds=0, max_connection_age_grace_seconds=5)
    assert "grpc.max_connection_age_ms" not in got
    assert "grpc.max_connection_age_grace_ms" not in got


def test_the_grace_and_ages_beyond_grpcs_32_bit_milliseconds() -> None:
    got = options(max_connection_age_seconds=1e9, max_connection_age_grace_seconds=1.5)
    assert got["grpc.max_connection_age_ms"] == 2**31 - 1
    assert got["grpc.max_connection_age_grace_ms"] == 1500
