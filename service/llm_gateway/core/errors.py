"""The gateway's errors: one shallow tree, keyed by a stable reason.

    GatewayError                      (reason: ErrorReason name, metadata)
    ├── InvalidRequest                INVALID_REQUEST, with field violations
    ├── ModelNotFound                 MODEL_NOT_FOUND
    ├── ProviderNotFound              PROVIDER_NOT_FOUND
    ├── UnsupportedFeature            UNSUPPORTED_FEATURE (provider, feature)
    ├── UnsupportedOperation          UNSUPPORTED_OPERATION (provider, operation)
    ├── InternalError                 INTERNAL (a gateway bug)
    ├── ShuttingDown                  SHUTTING_DOWN
    └── UpstreamError                 a provider failed (provider, model,
        │                             upstream_status, upstream_request_id)
        ├── UpstreamInvalidRequest    UPSTREAM_INVALID_REQUEST      (400, 422)
        ├── ContextLengthExceeded     CONTEXT_LENGTH_EXCEEDED
        ├── ContentFiltered           CONTENT_FILTERED
        ├── UpstreamModelNotFound     UPSTREAM_MODEL_NOT_FOUND      (404)
        ├── UpstreamAuthFailed        UPSTREAM_AUTH_FAILED          (401, 403)
        ├── UpstreamRateLimited       UPSTREAM_RATE_LIMITED         (429)
        ├── UpstreamUnavailable       UPSTREAM_UNAVAILABLE          (502, 503, 529)
        ├── UpstreamTimeout           UPSTREAM_TIMEOUT              (408, 504)
        ├── UpstreamUnreachable       UPSTREAM_UNREACHABLE          (connect)
        ├── UpstreamProtocolError     UPSTREAM_PROTOCOL_ERROR       (bad frames)
        └── UpstreamFailure           UPSTREAM_ERROR                (500, other)

Core code never imports grpc: `api/errors.py` maps each reason to a gRPC code
in one table. Messages are developer-facing and must never contain secrets;
`redact()` strips configured secret values from upstream text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str  # a path into the request, e.g. "input.messages[1].parts[0]"
    description: str


class GatewayError(Exception):
    reason: ClassVar[str] = "UNSPECIFIED"
    # Seconds after which a retry may succeed; None when a retry won't help.
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: dict[str, str] = dict(metadata or {})
        if retry_after is not None:
            self.retry_after = retry_after


class InvalidRequest(GatewayError):
    reason = "INVALID_REQUEST"

    def __init__(self, violations: Iterable[FieldViolation]) -> None:
        self.violations = tuple(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations[:3])
        more = len(self.violations) - 3
        if more > 0:
            summary += f" (and {more} more)"
        super().__init__(f"invalid request: {summary}")

    @classmethod
    def one(cls, field: str, description: str) -> InvalidRequest:
        return cls([FieldViolation(field, description)])


class ModelNotFound(GatewayError):
    reason = "MODEL_NOT_FOUND"

    def __init__(self, model: str, hint: str = "") -> None:
        msg = f"model {model!r} is not known to this gateway"
        super().__init__(f"{msg}; {hint}" if hint else msg, metadata={"model": model})


class ProviderNotFound(GatewayError):
    reason = "PROVIDER_NOT_FOUND"

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"provider {provider!r} is not configured", metadata={"provider": provider}
        )


class UnsupportedFeature(GatewayError):
    reason = "UNSUPPORTED_FEATURE"

    def __init__(self, provider: str, feature: str, detail: str = "") -> None:
        msg = f"provider {provider!r} does not support {feature}"
        super().__init__(
            f"{msg}: {detail}" if detail else msg,
            metadata={"provider": provider, "feature": feature},
        )


class UnsupportedOperation(GatewayError):
    reason = "UNSUPPORTED_OPERATION"

    def __init__(self, provider: str, operation: str, detail: str = "") -> None:
        msg = f"provider {provider!r} does not offer {operation}"
        super().__init__(
            f"{msg}: {detail}" if detail else msg,
            metadata={"provider": provider, "operation": operation},
        )


class InternalError(GatewayError):
    """A bug in the gateway; the message says only that (details go to the log)."""

    reason = "INTERNAL"


class ShuttingDown(GatewayError):
    reason = "SHUTTING_DOWN"
    retry_after = 1.0


class UpstreamError(GatewayError):
    """A provider failed. The message is the provider's own (redacted) where it
    gave one, prefixed with who failed."""

    reason = "UPSTREAM_ERROR"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str = "",
        status: int | None = None,
        upstream_request_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        metadata = {"provider": provider}
        if model:
            metadata["model"] = model
        if status is not None:
            metadata["upstream_status"] = str(status)
        if upstream_request_id:
            metadata["upstream_request_id"] = upstream_request_id
        self.provider = provider
        self.status = status
        self.upstream_request_id = upstream_request_id
        super().__init__(f"{provider}: {message}", metadata=metadata, retry_after=retry_after)


class UpstreamInvalidRequest(UpstreamError):
    reason = "UPSTREAM_INVALID_REQUEST"


class ContextLengthExceeded(UpstreamError):
    reason = "CONTEXT_LENGTH_EXCEEDED"


class ContentFiltered(UpstreamError):
    reason = "CONTENT_FILTERED"


class UpstreamModelNotFound(UpstreamError):
    reason = "UPSTREAM_MODEL_NOT_FOUND"


class UpstreamAuthFailed(UpstreamError):
    reason = "UPSTREAM_AUTH_FAILED"


class UpstreamBillingFailed(UpstreamError):
    """The provider refused the gateway's account (no credits, a spend limit):
    no retry helps until an operator fixes it, so no retry_after."""

    reason = "UPSTREAM_BILLING"

    def __init__(self, message: str, **context: Any) -> None:
        # A Retry-After beside OpenAI's 429 does not make an empty account retryable.
        super().__init__(message, **{**context, "retry_after": None})


class UpstreamRateLimited(UpstreamError):
    reason = "UPSTREAM_RATE_LIMITED"
    retry_after = 1.0  # when the provider gives no Retry-After


class UpstreamUnavailable(UpstreamError):
    reason = "UPSTREAM_UNAVAILABLE"
    retry_after = 1.0


class UpstreamTimeout(UpstreamError):
    reason = "UPSTREAM_TIMEOUT"


class UpstreamUnreachable(UpstreamError):
    reason = "UPSTREAM_UNREACHABLE"
    retry_after = 1.0


class UpstreamProtocolError(UpstreamError):
    reason = "UPSTREAM_PROTOCOL_ERROR"


class UpstreamFailure(UpstreamError):
    reason = "UPSTREAM_ERROR"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replaces every secret value in `text` (upstream messages may echo a key)."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "[REDACTED]")
    return text
