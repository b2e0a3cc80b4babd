"""Google API errors -> core errors.

Google answers failures with `{"error": {"code", "message", "status",
"details": [...]}}` (google.rpc.Status; a JSON array of them for
streamGenerateContent without alt=sse). On top of the shared status table
(`http/errors.py`) this reads what Google puts in the body:

- `RetryInfo.retryDelay` ("37s") is the wait before a retry when no
  Retry-After header says otherwise (RESOURCE_EXHAUSTED carries it);
- `ErrorInfo.reason` API_KEY_INVALID arrives as 400 INVALID_ARGUMENT but is
  an authentication failure;
- INVALID_ARGUMENT messages about the input token count are
  CONTEXT_LENGTH_EXCEEDED;
- in-stream errors carry the canonical status name, mapped to the HTTP
  status it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.errors import UpstreamAuthFailed, UpstreamError, redact
from ..http.client import ErrorContext, default_problem, problem_errors
from ..http.errors import UpstreamProblem, request_id, retry_after, to_error

# google.rpc.Code names -> the HTTP status Google maps them to (for errors
# that arrive inside a 200 stream).
STATUS_HTTP = {
    "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
    "ABORTED": 409, "ALREADY_EXISTS": 409, "RESOURCE_EXHAUSTED": 429, "CANCELLED": 499,
    "INTERNAL": 500, "UNKNOWN": 500, "DATA_LOSS": 500, "NOT_IMPLEMENTED": 501,
    "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
}
_AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED",
                           "ACCESS_TOKEN_TYPE_UNSUPPORTED", "CREDENTIALS_MISSING"})
# "The input token count (1196265) exceeds the maximum number of tokens
# allowed (1048576)."
_CONTEXT = re.compile(r"input token count|exceeds the maximum number of tokens|"
                      r"token count .* exceeds|too many tokens", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


@dataclass(frozen=True, slots=True)
class GoogleProblem:
    problem: UpstreamProblem
    status_name: str = ""  # RESOURCE_EXHAUSTED, ...
    reason: str = ""  # ErrorInfo.reason
    retry_delay: float | None = None  # RetryInfo.retryDelay, seconds


def _error_object(body: Any) -> Mapping[str, Any] | None:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return None


def parse_problem(status: int, body: Any) -> GoogleProblem:
    err = _error_object(body)
    if err is None:
        text = body.strip()[:500] if isinstance(body, str) and body.strip() else \
            f"HTTP {status}"
        return GoogleProblem(UpstreamProblem(text))
    message = str(err.get("message") or "")
    status_name = str(err.get("status") or "")
    reason, delay = "", None
    for detail in err.get("details") or ():
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type", ""))
        if kind.endswith("google.rpc.RetryInfo"):
            delay = parse_duration(detail.get("retryDelay"))
        elif kind.endswith("google.rpc.ErrorInfo") and not reason:
            reason = str(detail.get("reason") or "")
    context = status_name in ("INVALID_ARGUMENT", "") and bool(_CONTEXT.search(message))
    problem = UpstreamProblem(message or f"HTTP {status}", status_name, context_length=context)
    return GoogleProblem(problem, status_name, reason, delay)


def parse_duration(value: Any) -> float | None:
    """A google.protobuf.Duration in JSON ("37s", "1.5s")."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1))
    return None


def to_google_error(status: int, body: Any, *, provider: str, model: str,
                    headers: Mapping[str, str], secrets: tuple[str, ...] | list[str] = ()
                    ) -> UpstreamError:
    parsed = parse_problem(status, body)
    if status == 200:  # an error inside a stream: the status it names
        code = (_error_object(body) or {}).get("code")
        status = STATUS_HTTP.get(parsed.status_name) or (
            code if isinstance(code, int) and 400 <= code <= 599 else 500)
    if parsed.reason in _AUTH_REASONS:
        message = redact(parsed.problem.message, secrets)
        return UpstreamAuthFailed(f"{message} ({parsed.reason})", provider=provider,
                                  model=model, status=status,
                                  upstream_request_id=request_id(headers))
    error = to_error(status, parsed.problem, provider=provider, model=model, headers=headers,
                     secrets=secrets)
    if retry_after(headers) is None and parsed.retry_delay is not None:
        error.retry_after = parsed.retry_delay
    return error


_plain_errors = problem_errors(default_problem)


def google_errors(status: int, body: Any, headers: Mapping[str, str], ctx: ErrorContext
                  ) -> UpstreamError:
    """The upstream client's error mapper: Google's error bodies (see module
    doc), or the shared reading of anything else (an HTML proxy page)."""
    if _error_object(body) is None:
        return _plain_errors(status, body, headers, ctx)
    return to_google_error(status, body, provider=ctx.provider, model=ctx.model,
                           headers=headers, secrets=ctx.secrets)
