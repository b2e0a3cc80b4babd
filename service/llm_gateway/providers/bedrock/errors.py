"""Bedrock errors -> core errors.

An HTTP error carries its type in the `x-amzn-errortype` header
(`ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`)
and a JSON body `{"message": "..."}`. A ConverseStream exception frame
carries the type in `:exception-type` (`throttlingException`, ...) and the
same body; ModelStreamErrorException adds `originalStatusCode` and
`originalMessage`. Error types and statuses: the Converse, ConverseStream and
InvokeModel pages of https://docs.aws.amazon.com/bedrock/latest/APIReference/.

The error class follows the *type* where Bedrock's status says less than the
type does (424 for a model failure, 400 for a quota), through the status the
type stands for in the shared table (http/errors.py); `upstream_status`
keeps the status Bedrock actually sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.errors import UpstreamError
from ..http.errors import UpstreamProblem, to_error

# Error type (lower case) -> the status whose core error it should raise.
_STANDS_FOR: dict[str, int] = {
    "throttlingexception": 429,
    # Exceeding an account quota: a wait or a quota increase helps, not a fix
    # of the request.
    "servicequotaexceededexception": 429,
    "serviceunavailableexception": 503,
    # The model is loading; Bedrock documents it as retryable.
    "modelnotreadyexception": 503,
    # The model failed while generating (HTTP 424 Failed Dependency).
    "modelerrorexception": 503,
    "modelstreamerrorexception": 503,
    "modeltimeoutexception": 408,
    "internalserverexception": 500,
    "validationexception": 400,
    "accessdeniedexception": 403,
    "unrecognizedclientexception": 403,
    "invalidsignatureexception": 403,
    "expiredtokenexception": 403,
    "resourcenotfoundexception": 404,
}
# When the type is missing: statuses the shared table does not know.
_STATUS_FALLBACK = {424: 503}
# In-stream exceptions come inside a 200 response: the status each one has
# when Bedrock returns it as an HTTP error.
_DOCUMENTED_STATUS: dict[str, int] = {
    "internalserverexception": 500, "modelstreamerrorexception": 424,
    "validationexception": 400, "throttlingexception": 429,
    "serviceunavailableexception": 503,
}


def error_type(headers: Mapping[str, str]) -> str:
    """The type from `x-amzn-errortype`, without its namespace suffix."""
    return headers.get("x-amzn-errortype", "").split(":", 1)[0].strip()


def problem(body: Any, kind: str) -> UpstreamProblem:
    message = ""
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("Message") or "")
        if not kind and isinstance(body.get("__type"), str):
            kind = body["__type"].rsplit("#", 1)[-1]
        original = body.get("originalMessage")
        if original:
            status = body.get("originalStatusCode")
            message = f"{message} (model: {status} {original})" if status else \
                f"{message} (model: {original})"
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    return UpstreamProblem(message, kind)


def bedrock_error(status: int, kind: str, body: Any, *, provider: str, model: str,
                  headers: Mapping[str, str], secrets: tuple[str, ...] | list[str] = ()
                  ) -> UpstreamError:
    """An HTTP error response (status, `x-amzn-errortype`, parsed body)."""
    details = problem(body, kind)
    stands_for = _STANDS_FOR.get(details.code.lower()) or _STATUS_FALLBACK.get(status, status)
    error = to_error(stands_for, details, provider=provider, model=model, headers=headers,
                     secrets=secrets)
    if stands_for != status:
        error.status = status
        error.metadata["upstream_status"] = str(status)
    return error


def stream_exception(kind: str, body: Any, *, provider: str, model: str,
                     headers: Mapping[str, str], secrets: tuple[str, ...] | list[str] = ()
                     ) -> UpstreamError:
    """An exception frame of ConverseStream (`:exception-type` and payload)."""
    # Frame types are camelCase (throttlingException); match case-insensitively.
    status = _DOCUMENTED_STATUS.get(kind.lower(), 500)
    return bedrock_error(status, kind, body, provider=provider, model=model, headers=headers,
                         secrets=secrets)
