"""Small helpers for asserting on gRPC results: rich error details and the
messages tests build over and over."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2, status_pb2
from llmgateway.v1 import chat_pb2, common_pb2, content_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass
class RichError:
    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    retry_delay: float | None = None
    violations: list[tuple[str, str]] = field(default_factory=list)
    request_id: str = ""


def rich_error(err: grpc.RpcError) -> RichError:
    """Decodes google.rpc.Status details from a failed call's trailers."""
    trailers = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
    out = RichError(err.code(), err.details())  # type: ignore[attr-defined]
    raw = trailers.get(STATUS_DETAILS_KEY)
    if raw is None:
        return out
    status = status_pb2.Status.FromString(raw)
    assert status.code == err.code().value[0]  # type: ignore[attr-defined]
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            out.reason, out.domain, out.metadata = info.reason, info.domain, dict(info.metadata)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            out.retry_delay = retry.retry_delay.ToNanoseconds() / 1e9
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out.violations = [(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
            info = error_details_pb2.RequestInfo()
            detail.Unpack(info)
            out.request_id = info.request_id
    return out


def user(text: str) -> content_pb2.Message:
    return content_pb2.Message(role=content_pb2.ROLE_USER, parts=[content_pb2.Part(text=text)])


def chat_input(model: str, text: str = "hello", **kwargs: object) -> chat_pb2.ChatInput:
    return chat_pb2.ChatInput(model=model, messages=[user(text)], **kwargs)  # type: ignore[arg-type]


def slow_stream(words: int, delay_ms: int = 50) -> chat_pb2.StreamChatRequest:
    """An echo stream of `words` text deltas, `delay_ms` apart."""
    text = " ".join(f"w{i}" for i in range(words))
    return chat_pb2.StreamChatRequest(input=chat_input(
        "echo", text, provider_options=common_pb2.ProviderOptions(
            json_by_provider={"echo": f'{{"chunk_delay_ms": {delay_ms}}}'})))
