"""Core errors -> gRPC status with google.rpc rich details: the one table.

| reason                    | gRPC code           | details                          |
|---------------------------|---------------------|----------------------------------|
| INVALID_REQUEST           | INVALID_ARGUMENT    | BadRequest (every field)         |
| MODEL_NOT_FOUND           | NOT_FOUND           |                                  |
| PROVIDER_NOT_FOUND        | NOT_FOUND           |                                  |
| UNSUPPORTED_FEATURE       | FAILED_PRECONDITION | metadata: provider, feature      |
| UNSUPPORTED_OPERATION     | UNIMPLEMENTED       | metadata: provider, operation    |
| CONTEXT_LENGTH_EXCEEDED   | INVALID_ARGUMENT    | upstream 400 about context size  |
| UPSTREAM_INVALID_REQUEST  | INVALID_ARGUMENT    | upstream 400, 422                |
| CONTENT_FILTERED          | INVALID_ARGUMENT    | upstream content policy refusal  |
| UPSTREAM_MODEL_NOT_FOUND  | NOT_FOUND           | upstream 404                     |
| UPSTREAM_RATE_LIMITED     | RESOURCE_EXHAUSTED  | RetryInfo (upstream 429)         |
| UPSTREAM_BILLING          | FAILED_PRECONDITION | upstream 402, 429 out of quota   |
| UPSTREAM_UNAVAILABLE      | UNAVAILABLE         | RetryInfo (502, 503, 529)        |
| UPSTREAM_UNREACHABLE      | UNAVAILABLE         | RetryInfo (connection failed)    |
| UPSTREAM_TIMEOUT          | DEADLINE_EXCEEDED   | upstream 408, 504, read timeout  |
| UPSTREAM_AUTH_FAILED      | INTERNAL            | upstream 401, 403 (see below)    |
| UPSTREAM_ERROR            | INTERNAL            | upstream 500, in-stream errors   |
| UPSTREAM_PROTOCOL_ERROR   | INTERNAL            | undecodable upstream response    |
| SHUTTING_DOWN             | UNAVAILABLE         | RetryInfo                        |

Every status carries ErrorInfo (reason, domain "llmgateway", metadata with
provider, model, upstream_status, upstream_request_id where known) and
RequestInfo (the gateway's request id). An upstream 401/403 means the
provider rejected the gateway's own credentials: an operator problem, never
the caller's UNAUTHENTICATED.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from llmgateway.v1 import common_pb2

from ..core.errors import GatewayError, InvalidRequest

DOMAIN = "llmgateway"
STATUS_DETAILS_KEY = "grpc-status-details-bin"

CODE_BY_REASON: dict[str, grpc.StatusCode] = {
    "INVALID_REQUEST": grpc.StatusCode.INVALID_ARGUMENT,
    "MODEL_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "PROVIDER_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "UNSUPPORTED_FEATURE": grpc.StatusCode.FAILED_PRECONDITION,
    "UNSUPPORTED_OPERATION": grpc.StatusCode.UNIMPLEMENTED,
    "CONTEXT_LENGTH_EXCEEDED": grpc.StatusCode.INVALID_ARGUMENT,
    "UPSTREAM_INVALID_REQUEST": grpc.StatusCode.INVALID_ARGUMENT,
    "CONTENT_FILTERED": grpc.StatusCode.INVALID_ARGUMENT,
    "UPSTREAM_MODEL_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "UPSTREAM_RATE_LIMITED": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "UPSTREAM_BILLING": grpc.StatusCode.FAILED_PRECONDITION,
    "UPSTREAM_UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "UPSTREAM_UNREACHABLE": grpc.StatusCode.UNAVAILABLE,
    "UPSTREAM_TIMEOUT": grpc.StatusCode.DEADLINE_EXCEEDED,
    "UPSTREAM_AUTH_FAILED": grpc.StatusCode.INTERNAL,
    "UPSTREAM_ERROR": grpc.StatusCode.INTERNAL,
    "UPSTREAM_PROTOCOL_ERROR": grpc.StatusCode.INTERNAL,
    "SHUTTING_DOWN": grpc.StatusCode.UNAVAILABLE,
    "INTERNAL": grpc.StatusCode.INTERNAL,
}


def code_for(error: GatewayError) -> grpc.StatusCode:
    return CODE_BY_REASON.get(error.reason, grpc.StatusCode.INTERNAL)


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def _retry_delay(seconds: float) -> duration_pb2.Duration:
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(int(seconds * 1e9))
    return delay


def status_details(error: GatewayError, request_id: str) -> list[any_pb2.Any]:
    details = [_pack(error_details_pb2.ErrorInfo(
        reason=error.reason, domain=DOMAIN, metadata=error.metadata))]
    if error.retry_after is not None:
        details.append(_pack(error_details_pb2.RetryInfo(
            retry_delay=_retry_delay(error.retry_after))))
    if isinstance(error, InvalidRequest):
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ])))
    if request_id:
        details.append(_pack(error_details_pb2.RequestInfo(request_id=request_id)))
    return details


def to_status(error: GatewayError, request_id: str
              ) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    """(code, message, trailing metadata) for context.abort()."""
    code = code_for(error)
    status = status_pb2.Status(code=code.value[0], message=error.message,
                               details=status_details(error, request_id))
    return code, error.message, ((STATUS_DETAILS_KEY, status.SerializeToString()),)


def internal_status(request_id: str) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    message = f"internal error (request id {request_id})"
    status = status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message=message,
                               details=[_pack(error_details_pb2.ErrorInfo(
                                   reason="INTERNAL", domain=DOMAIN)),
                                   _pack(error_details_pb2.RequestInfo(request_id=request_id))])
    return grpc.StatusCode.INTERNAL, message, ((STATUS_DETAILS_KEY, status.SerializeToString()),)


def to_item_error(error: GatewayError, request_id: str) -> common_pb2.ItemError:
    """What a failed call's status would carry, for one item of a batch."""
    item = common_pb2.ItemError(code=code_for(error).value[0], message=error.message,
                                reason=error.reason, metadata=error.metadata,
                                request_id=request_id)
    if error.retry_after is not None:
        item.retry_delay.CopyFrom(_retry_delay(error.retry_after))
    if isinstance(error, InvalidRequest):
        item.field_violations.extend(
            common_pb2.FieldViolation(field=v.field, description=v.description)
            for v in error.violations)
    return item
