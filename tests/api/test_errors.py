"""The error table: every core error leaves as its documented gRPC code with
ErrorInfo, and RetryInfo / BadRequest / RequestInfo where they apply."""

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from llm_gateway.api.errors import CODE_BY_REASON, STATUS_DETAILS_KEY, to_item_error, to_status
from llm_gateway.core import errors as e

UP = {"provider": "openai", "model": "gpt", "status": 400, "upstream_request_id": "req_7"}


@pytest.mark.parametrize("error, code", [
    (e.InvalidRequest.one("input.model", "required"), grpc.StatusCode.INVALID_ARGUMENT),
    (e.ModelNotFound("ghost"), grpc.StatusCode.NOT_FOUND),
    (e.ProviderNotFound("ghost"), grpc.StatusCode.NOT_FOUND),
    (e.UnsupportedFeature("echo", "tools"), grpc.StatusCode.FAILED_PRECONDITION),
    (e.UnsupportedOperation("echo", "token counting"), grpc.StatusCode.UNIMPLEMENTED),
    (e.ContextLengthExceeded("too long", **UP), grpc.StatusCode.INVALID_ARGUMENT),
    (e.UpstreamInvalidRequest("bad", **UP), grpc.StatusCode.INVALID_ARGUMENT),
    (e.ContentFiltered("no", **UP), grpc.StatusCode.INVALID_ARGUMENT),
    (e.UpstreamModelNotFound("no model", **UP), grpc.StatusCode.NOT_FOUND),
    (e.UpstreamRateLimited("slow down", **UP), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (e.UpstreamUnavailable("overloaded", **UP), grpc.StatusCode.UNAVAILABLE),
    (e.UpstreamUnreachable("refused", **UP), grpc.StatusCode.UNAVAILABLE),
    (e.UpstreamTimeout("slow", **UP), grpc.StatusCode.DEADLINE_EXCEEDED),
    (e.UpstreamAuthFailed("bad key", **UP), grpc.StatusCode.INTERNAL),
    (e.UpstreamFailure("boom", **UP), grpc.StatusCode.INTERNAL),
    (e.UpstreamProtocolError("garbage", **UP), grpc.StatusCode.INTERNAL),
    (e.ShuttingDown("bye"), grpc.StatusCode.UNAVAILABLE),
])
def test_code_and_details(error: e.GatewayError, code: grpc.StatusCode) -> None:
    got_code, message, trailers = to_status(error, "rid-1")
    assert got_code == code
    assert message == error.message
    (key, raw), = trailers
    assert key == STATUS_DETAILS_KEY
    status = status_pb2.Status.FromString(raw)
    assert status.code == code.value[0]
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == (error.reason, "llmgateway")
    if isinstance(error, e.UpstreamError):
        assert info.metadata["provider"] == "openai"
        assert info.metadata["upstream_request_id"] == "req_7"
        assert info.metadata["upstream_status"] == "400"
    kinds = [d.TypeName() for d in status.details]
    assert kinds[-1] == "google.rpc.RequestInfo"
    assert ("google.rpc.RetryInfo" in kinds) == (code in (
        grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE))
    assert ("google.rpc.BadRequest" in kinds) == isinstance(error, e.InvalidRequest)


def test_every_reason_is_in_the_table() -> None:
    reasons = {cls.reason for cls in _subclasses(e.GatewayError)}
    assert reasons <= set(CODE_BY_REASON)


def test_the_contract_lists_every_reason_the_table_sends() -> None:
    from llmgateway.v1 import errors_pb2

    listed = {name.removeprefix("ERROR_REASON_") for name in errors_pb2.ErrorReason.keys()}
    assert listed - {"UNSPECIFIED"} == set(CODE_BY_REASON)


def test_retry_delay_comes_from_the_error() -> None:
    item = to_item_error(e.UpstreamRateLimited("x", provider="p", retry_after=2.5), "r.1")
    assert item.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert item.retry_delay.ToNanoseconds() == 2_500_000_000
    assert item.reason == "UPSTREAM_RATE_LIMITED"


def test_redact_removes_secrets() -> None:
    assert e.redact("bad key sk-abcdef1234", ["sk-abcdef1234"]) == "bad key [REDACTED]"


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out
