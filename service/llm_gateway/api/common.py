"""Protobuf <-> core translation of the pieces every service shares: usage,
finish reasons, request metadata and provider options."""

from __future__ import annotations

from typing import Any

from llmgateway.v1 import common_pb2

from ..core.types import FinishReason, RequestMetadata, Usage
from .violations import Violations

FINISH_TO_PROTO = {
    FinishReason.UNSPECIFIED: common_pb2.FINISH_REASON_UNSPECIFIED,
    FinishReason.STOP: common_pb2.FINISH_REASON_STOP,
    FinishReason.LENGTH: common_pb2.FINISH_REASON_LENGTH,
    FinishReason.TOOL_CALLS: common_pb2.FINISH_REASON_TOOL_CALLS,
    FinishReason.CONTENT_FILTER: common_pb2.FINISH_REASON_CONTENT_FILTER,
    FinishReason.REFUSAL: common_pb2.FINISH_REASON_REFUSAL,
    FinishReason.CONTEXT_LENGTH: common_pb2.FINISH_REASON_CONTEXT_LENGTH,
    FinishReason.PAUSED: common_pb2.FINISH_REASON_PAUSED,
    FinishReason.MALFORMED_TOOL_CALL: common_pb2.FINISH_REASON_MALFORMED_TOOL_CALL,
    FinishReason.OTHER: common_pb2.FINISH_REASON_OTHER,
}

_MAX_REQUEST_ID = 128


def usage_to_proto(usage: Usage) -> common_pb2.Usage:
    out = common_pb2.Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )
    if usage.cached_input_tokens is not None:
        out.cached_input_tokens = usage.cached_input_tokens
    if usage.cache_write_tokens is not None:
        out.cache_write_tokens = usage.cache_write_tokens
    if usage.reasoning_tokens is not None:
        out.reasoning_tokens = usage.reasoning_tokens
    return out


def metadata_from_proto(pb: common_pb2.RequestMetadata, v: Violations, field: str
                        ) -> RequestMetadata:
    rid = pb.request_id
    if rid and (len(rid) > _MAX_REQUEST_ID or not rid.isascii() or not rid.isprintable()):
        v.add(f"{field}.request_id", f"at most {_MAX_REQUEST_ID} printable ASCII characters")
    for key, value in pb.labels.items():
        if not key or len(key) > 63:
            v.add(f"{field}.labels", "label keys are 1 to 63 characters")
        if len(value) > 256:
            v.add(f'{field}.labels["{key}"]', "label values are at most 256 characters")
    if not (rid or pb.end_user_id or pb.labels):
        return _EMPTY_METADATA
    return RequestMetadata(request_id=rid, end_user_id=pb.end_user_id, labels=dict(pb.labels))


_EMPTY_METADATA = RequestMetadata()


def provider_options_from_proto(pb: common_pb2.ProviderOptions, v: Violations, field: str
                                ) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, text in pb.json_by_provider.items():
        value = v.json_object(text, f'{field}.json_by_provider["{key}"]', required=True)
        if value is not None:
            out[key] = value
    return out
