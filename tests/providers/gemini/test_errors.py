"""Google error bodies -> core errors, without HTTP."""

import pytest
from llm_gateway.core import errors as e
from llm_gateway.providers.gemini.errors import parse_duration, parse_problem, to_google_error

from tests.fixtures import gemini as fx


def error(status: int, body: object, headers: dict | None = None) -> e.UpstreamError:
    return to_google_error(status, body, provider="gemini", model="m", headers=headers or {},
                           secrets=("AIzaSECRETKEY",))


@pytest.mark.parametrize("value, seconds", [
    ("37s", 37.0), ("1.5s", 1.5), ("0.000001s", 0.000001), (" 2s ", 2.0),
    ("37", None), ("1m", None), (37, None), (None, None),
])
def test_retry_delay_durations(value: object, seconds: float | None) -> None:
    assert parse_duration(value) == seconds


def test_problem_details() -> None:
    parsed = parse_problem(429, fx.ERROR_RATE_LIMIT)
    assert (parsed.status_name, parsed.retry_delay) == ("RESOURCE_EXHAUSTED", 37.0)
    assert parse_problem(400, fx.ERROR_BAD_KEY).reason == "API_KEY_INVALID"
    assert parse_problem(400, fx.ERROR_CONTEXT).problem.context_length
    assert not parse_problem(400, fx.ERROR_INVALID).problem.context_length
    # streamGenerateContent without alt=sse answers errors as an array.
    assert parse_problem(503, [fx.ERROR_UNAVAILABLE]).status_name == "UNAVAILABLE"
    assert parse_problem(502, "<html>bad gateway</html>").problem.message == (
        "<html>bad gateway</html>")


@pytest.mark.parametrize("body, cls, status", [
    (fx.ERROR_RATE_LIMIT, e.UpstreamRateLimited, "429"),
    (fx.ERROR_UNAVAILABLE, e.UpstreamUnavailable, "503"),
    (fx.ERROR_CONTEXT, e.ContextLengthExceeded, "400"),
    (fx.ERROR_PERMISSION, e.UpstreamAuthFailed, "403"),
    ({"error": {"code": 429, "message": "slow down"}}, e.UpstreamRateLimited, "429"),
    ({"error": {"message": "?"}}, e.UpstreamFailure, "500"),
    ({"error": {"code": 504, "status": "DEADLINE_EXCEEDED", "message": "late"}},
     e.UpstreamTimeout, "504"),
])
def test_in_stream_errors_take_the_status_they_name(body: dict, cls: type,
                                                    status: str) -> None:
    err = error(200, body)
    assert type(err) is cls and err.metadata["upstream_status"] == status


def test_retry_after_header_wins_over_retry_info() -> None:
    assert error(429, fx.ERROR_RATE_LIMIT).retry_after == 37.0
    assert error(429, fx.ERROR_RATE_LIMIT, {"retry-after": "5"}).retry_after == 5.0


def test_secrets_are_scrubbed() -> None:
    body = {"error": {"code": 400, "message": "key AIzaSECRETKEY is bad",
                      "status": "INVALID_ARGUMENT",
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                   "reason": "API_KEY_INVALID"}]}}
    err = error(400, body)
    assert isinstance(err, e.UpstreamAuthFailed)
    assert "AIzaSECRETKEY" not in err.message and "[REDACTED]" in err.message
