"""GatewayError: a failed call, with its gRPC code and the rich details the
gateway sends (google.rpc ErrorInfo, RetryInfo, BadRequest, RequestInfo)."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2, status_pb2
from llmgateway.v1 import common_pb2

_DETAILS_KEY = "grpc-status-details-bin"
# google.rpc.Code number -> grpc.StatusCode.
_CODES = {code.value[0]: code for code in grpc.StatusCode}


@dataclass
class FieldViolation:
    field: str
    description: str


@dataclass
class GatewayError(Exception):
    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before retrying; None when a retry will not help.
    retry_delay: float | None = None
    field_violations: list[FieldViolation] = field(default_factory=list)
    request_id: str = ""

    def __str__(self) -> str:
        reason = f" [{self.reason}]" if self.reason else ""
        return f"{self.code.name}{reason}: {self.message}"

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> GatewayError:
        code = err.code()  # type: ignore[attr-defined]
        out = cls(code, err.details() or "")  # type: ignore[attr-defined]
        trailers = err.trailing_metadata() or ()  # type: ignore[attr-defined]
        raw = dict(trailers).get(_DETAILS_KEY)
        if isinstance(raw, bytes):
            out._read_details(status_pb2.Status.FromString(raw))
        return out

    @classmethod
    def from_item_error(cls, item: common_pb2.ItemError) -> GatewayError:
        """One failed item of a batch: what a failed call's status would carry
        (an ItemError has no domain, so that stays empty, as in the other
        clients)."""
        delay = item.retry_delay.ToNanoseconds() / 1e9 if item.HasField("retry_delay") else None
        return cls(_CODES.get(item.code, grpc.StatusCode.UNKNOWN), item.message, item.reason,
                   "", dict(item.metadata), delay,
                   [FieldViolation(v.field, v.description) for v in item.field_violations],
                   item.request_id)

    def _read_details(self, status: status_pb2.Status) -> None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                self.reason, self.domain, self.metadata = (info.reason, info.domain,
                                                           dict(info.metadata))
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                self.retry_delay = retry.retry_delay.ToNanoseconds() / 1e9
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                self.field_violations = [FieldViolation(v.field, v.description)
                                         for v in bad.field_violations]
            elif detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
                info = error_details_pb2.RequestInfo()
                detail.Unpack(info)
                self.request_id = info.request_id
