"""Ollama's failures -> core errors.

Errors are `{"error": "<message>"}` with an HTTP status
(https://docs.ollama.com/api/errors): 400 bad request, 404 model not found
("model 'x' not found, try pulling it first"), 500 anything else. Once a
stream has started, an error is a line `{"error": ...}` without a status.
Some failures only say what they are in their text: an over-long input
("the input length exceeds the context length", a 500 on older
servers) and an unknown model in a pull ("pull model manifest: file does not
exist"). `refine` maps those by their text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.errors import (
    ContextLengthExceeded,
    UpstreamError,
    UpstreamFailure,
    UpstreamModelNotFound,
)
from ..http.client import default_problem
from ..http.errors import UpstreamProblem, looks_like_context_length, to_error

_MISSING_MODEL_HINTS = ("file does not exist", "try pulling it first")


def ollama_problem(status: int, body: Any) -> UpstreamProblem:
    problem = default_problem(status, body)
    return UpstreamProblem(problem.message, problem.code,
                           context_length=looks_like_context_length(problem.message))


def refine(error: UpstreamError) -> UpstreamError:
    """A generic failure whose text names an over-long input or a missing
    model becomes CONTEXT_LENGTH_EXCEEDED or UPSTREAM_MODEL_NOT_FOUND."""
    if type(error) is not UpstreamFailure:
        return error
    text = error.message.removeprefix(f"{error.provider}: ")
    if looks_like_context_length(text):
        cls: type[UpstreamError] = ContextLengthExceeded
    elif any(hint in text.lower() for hint in _MISSING_MODEL_HINTS):
        cls = UpstreamModelNotFound
    else:
        return error
    return cls(text, provider=error.provider, model=error.metadata.get("model", ""),
               status=error.status, upstream_request_id=error.upstream_request_id)


def stream_error(line: Mapping[str, Any], *, provider: str, model: str,
                 headers: Mapping[str, str], secrets: tuple[str, ...]) -> UpstreamError:
    """An `{"error": ...}` line: the server's 500 path (it has no status once
    the response has started), refined by its text."""
    problem = ollama_problem(500, line)
    return refine(to_error(500, problem, provider=provider, model=model, headers=headers,
                           secrets=secrets))


class refined_errors:
    """Applies `refine` to the generic failures leaving the block (status
    errors are built inside the shared client, from the status alone)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, UpstreamFailure):
            better = refine(exc)
            if better is not exc:
                raise better from None
