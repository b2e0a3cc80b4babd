"""Upstream HTTP failures -> core errors: the table every adapter shares.

Adapters parse their provider's error body into an `UpstreamProblem` (what
the provider said); `to_error` picks the core error from the HTTP status and
the problem's hints.

| upstream                      | core error (gRPC code)                        |
|-------------------------------|-----------------------------------------------|
| 400, 409, 413, 422            | UpstreamInvalidRequest (INVALID_ARGUMENT), or |
|                               | ContextLengthExceeded / ContentFiltered       |
| 401, 403                      | UpstreamAuthFailed (INTERNAL)                 |
| 404                           | UpstreamModelNotFound (NOT_FOUND)             |
| 408, 504                      | UpstreamTimeout (DEADLINE_EXCEEDED)           |
| 402; 429 with a billing code  | UpstreamBillingFailed (FAILED_PRECONDITION)   |
| 429                           | UpstreamRateLimited (RESOURCE_EXHAUSTED)      |
| 502, 503, 529                 | UpstreamUnavailable (UNAVAILABLE)             |
| 500 and anything else         | UpstreamFailure (INTERNAL)                    |
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ...core.errors import (
    ContentFiltered,
    ContextLengthExceeded,
    UpstreamAuthFailed,
    UpstreamBillingFailed,
    UpstreamError,
    UpstreamFailure,
    UpstreamInvalidRequest,
    UpstreamModelNotFound,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    redact,
)

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-amz-request-id",
                      "apim-request-id", "x-goog-request-id", "cf-ray")


@dataclass(frozen=True, slots=True)
class UpstreamProblem:
    message: str
    # The provider's own error type or code ("rate_limit_error", ...).
    code: str = ""
    # What the body says the failure is, whatever the status (some servers
    # answer an over-long input or an unknown model with a generic 500).
    context_length: bool = False
    content_filter: bool = False
    model_not_found: bool = False
    # The account cannot pay (OpenAI's error type `insufficient_quota`, whose
    # `code` then names the cause).
    billing: bool = False


_BY_STATUS: dict[int, type[UpstreamError]] = {
    400: UpstreamInvalidRequest, 409: UpstreamInvalidRequest, 413: UpstreamInvalidRequest,
    422: UpstreamInvalidRequest, 401: UpstreamAuthFailed, 403: UpstreamAuthFailed,
    402: UpstreamBillingFailed, 404: UpstreamModelNotFound, 408: UpstreamTimeout,
    504: UpstreamTimeout,
    429: UpstreamRateLimited, 502: UpstreamUnavailable, 503: UpstreamUnavailable,
    529: UpstreamUnavailable,
}

# OpenAI answers an account out of credits or over a spend limit with 429,
# like a rate limit, but waiting does not help: these codes tell them apart.
BILLING_CODES = frozenset({
    "insufficient_quota", "credit_balance_exhausted", "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded", "organization_usage_limit_exceeded"})

_CONTEXT_HINTS = ("context_length_exceeded", "context length", "context window",
                  "maximum context", "prompt is too long", "too many tokens",
                  "input is too long", "exceeds the maximum number of tokens",
                  "reduce the length")


def looks_like_context_length(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in _CONTEXT_HINTS)


def to_error(status: int, problem: UpstreamProblem, *, provider: str, model: str,
             headers: Mapping[str, str], secrets: list[str] | tuple[str, ...] = ()
             ) -> UpstreamError:
    cls = _BY_STATUS.get(status, UpstreamFailure)
    # A generic status (400-class or 500) is refined by what the body says;
    # the wording heuristic applies only to 400-class (a 429 about tokens per
    # minute must stay a rate limit).
    if cls in (UpstreamInvalidRequest, UpstreamFailure):
        if problem.context_length or (cls is UpstreamInvalidRequest and looks_like_context_length(
                f"{problem.code} {problem.message}")):
            cls = ContextLengthExceeded
        elif problem.model_not_found:
            cls = UpstreamModelNotFound
        elif problem.content_filter:
            cls = ContentFiltered
    elif cls is UpstreamRateLimited and (problem.billing or problem.code in BILLING_CODES):
        cls = UpstreamBillingFailed
    message = redact(problem.message or f"HTTP {status}", secrets)
    if problem.code:
        message = f"{message} ({redact(problem.code, secrets)})"
    return cls(message, provider=provider, model=model, status=status,
               upstream_request_id=request_id(headers), retry_after=retry_after(headers))


def request_id(headers: Mapping[str, str]) -> str:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return ""


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `retry-after` (seconds or an
    HTTP date); None when absent or unreadable."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: no delay rather than a failure
    return max(parsed.timestamp() - time.time(), 0.0)
