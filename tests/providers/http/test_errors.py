"""The shared upstream error table (providers/http/errors.py)."""

import pytest
from llm_gateway.core import errors as e
from llm_gateway.providers.http.errors import UpstreamProblem, retry_after, to_error


def error(status: int, problem: UpstreamProblem, **headers: str) -> e.UpstreamError:
    return to_error(status, problem, provider="p", model="m", headers=headers,
                    secrets=("sk-secret-1234",))


@pytest.mark.parametrize("status, problem, cls", [
    (400, UpstreamProblem("This model's maximum context length is 8192 tokens"),
     e.ContextLengthExceeded),
    (500, UpstreamProblem("input too long", context_length=True), e.ContextLengthExceeded),
    (500, UpstreamProblem("pull manifest: file does not exist", model_not_found=True),
     e.UpstreamModelNotFound),
    (400, UpstreamProblem("blocked", content_filter=True), e.ContentFiltered),
    # The wording heuristic never turns a rate limit into a context error.
    (429, UpstreamProblem("Rate limit reached: too many tokens per min"), e.UpstreamRateLimited),
    (503, UpstreamProblem("overloaded", context_length=True), e.UpstreamUnavailable),
    # Out of credits or over a spend limit: no wait helps.
    (402, UpstreamProblem("Your credit balance is too low", "billing_error"),
     e.UpstreamBillingFailed),
    (429, UpstreamProblem("You exceeded your current quota", "credit_balance_exhausted"),
     e.UpstreamBillingFailed),
    (429, UpstreamProblem("You exceeded your current quota", "", billing=True),
     e.UpstreamBillingFailed),
    (429, UpstreamProblem("Rate limit reached", "rate_limit_exceeded"), e.UpstreamRateLimited),
    (500, UpstreamProblem("boom"), e.UpstreamFailure),
])
def test_status_then_what_the_body_says(status: int, problem: UpstreamProblem,
                                        cls: type) -> None:
    assert type(error(status, problem)) is cls


def test_message_is_redacted_and_keeps_the_code() -> None:
    err = error(401, UpstreamProblem("bad key sk-secret-1234", "invalid_api_key"),
                **{"x-request-id": "req_1"})
    assert err.message == "p: bad key [REDACTED] (invalid_api_key)"
    assert err.metadata == {"provider": "p", "model": "m", "upstream_status": "401",
                            "upstream_request_id": "req_1"}


@pytest.mark.parametrize("headers, seconds", [
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds
