"""Anthropic's error bodies -> UpstreamProblem, and the HTTP status each
in-stream error type stands for. Pure.

Wire reference: https://platform.claude.com/docs/en/api/errors. Errors are
`{"type": "error", "error": {"type", "message"}, "request_id"}`; the
`request-id` response header identifies the request (read by the shared
transport). After a stream has started with HTTP 200, the same error object
arrives as an `error` event.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..http.client import default_problem
from ..http.errors import UpstreamProblem

# error.type -> the HTTP status Anthropic documents for it.
STATUS_BY_ERROR_TYPE = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
    "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
    "rate_limit_error": 429, "api_error": 500, "timeout_error": 504,
    "overloaded_error": 529,
}
# Messages Anthropic uses when the input does not fit the context window.
_CONTEXT_HINTS = ("prompt is too long", "exceed context limit", "context window")


def anthropic_problem(status: int, body: Any) -> UpstreamProblem:
    problem = default_problem(status, body)
    message = problem.message.lower()
    return replace(problem, context_length=any(h in message for h in _CONTEXT_HINTS))


def stream_error_status(problem: UpstreamProblem) -> int:
    """An `error` event's type as an HTTP status (unknown types: 500)."""
    return STATUS_BY_ERROR_TYPE.get(problem.code, 500)
