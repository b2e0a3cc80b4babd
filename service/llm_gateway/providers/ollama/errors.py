"""Ollama's failures -> core errors.

Errors are `{"error": "<message>"}` with an HTTP status
(https://docs.ollama.com/api/errors): 400 bad request, 404 model not found
("model 'x' not found, try pulling it first"), 500 anything else. Once a
stream has started, an error is a line `{"error": ...}` without a status.
Some failures only say what they are in their text: an over-long input
("the input length exceeds the context length", a 500 on older
servers) and an unknown model in a pull ("pull model manifest: file does not
exist"). The problem parser flags those by their text, and the shared error
table (http/errors.py) maps the flags whatever the status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...core.errors import (
    UpstreamError,
)
from ..http.client import default_problem
from ..http.errors import UpstreamProblem, looks_like_context_length, to_error

_MISSING_MODEL_HINTS = ("file does not exist", "try pulling it first")


def ollama_problem(status: int, body: Any) -> UpstreamProblem:
    problem = default_problem(status, body)
    text = problem.message.lower()
    return replace(problem, context_length=looks_like_context_length(problem.message),
                   model_not_found=any(hint in text for hint in _MISSING_MODEL_HINTS))


def stream_error(line: Mapping[str, Any], *, provider: str, model: str,
                 headers: Mapping[str, str], secrets: tuple[str, ...]) -> UpstreamError:
    """An `{"error": ...}` line: the server's 500 path (it has no status once
    the response has started), classified by its text."""
    return to_error(500, ollama_problem(500, line), provider=provider, model=model,
                    headers=headers, secrets=secrets)
