"""The gRPC core settings the gateway picks before grpc is imported. The real
process's start-up line (tests/server/test_process.py) shows they reach it."""

from __future__ import annotations

from llm_gateway.server import grpc_settings
from llm_gateway.server.grpc_settings import DEFAULT_EXPERIMENTS, VARIABLE


def test_the_default_is_set_when_the_operator_set_nothing() -> None:
    environ: dict[str, str] = {}
    assert grpc_settings.apply(environ, modules={}) == DEFAULT_EXPERIMENTS
    assert environ == {VARIABLE: DEFAULT_EXPERIMENTS}


def test_the_operators_value_is_kept_even_when_empty() -> None:
    for value in ("", "-event_engine_callback_cq"):
        environ = {VARIABLE: value}
        assert grpc_settings.apply(environ, modules={}) == value
        assert environ == {VARIABLE: value}


def test_nothing_changes_once_grpc_is_imported() -> None:
    # gRPC has read the variable by then: setting it would only make the
    # start-up log line claim a setting that is not in effect.
    environ: dict[str, str] = {}
    assert grpc_settings.apply(environ, modules={"grpc": object()}) == ""
    assert environ == {}
