"""SigV4 signing (checked against the documented algorithm), the credential
cache (resolution and refresh off the event loop), configuration and the
embedded-default detection."""

import asyncio
import datetime
import threading

import botocore.auth
import pytest
from botocore.credentials import Credentials, ReadOnlyCredentials, RefreshableCredentials
from llm_gateway.config.loader import ConfigError, validate
from llm_gateway.core.errors import UpstreamAuthFailed
from llm_gateway.providers.bedrock.adapter import from_env
from llm_gateway.providers.bedrock.credentials import AwsCredentials
from llm_gateway.providers.bedrock.signing import sign
from llm_gateway.providers.http.transport import OutgoingRequest

from tests.fixtures.bedrock import verify_sigv4

KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FIXED = datetime.datetime(2025, 1, 2, 3, 4, 5)


def test_signature_shape_and_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FIXED)
    url = ("https://bedrock-runtime.eu-west-1.amazonaws.com/model/"
           "arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Ainference-profile%2Feu.x%3A0"
           "/converse")
    body = b'{"messages":[]}'
    request = OutgoingRequest("POST", url, {"content-type": "application/json"}, body)
    sign(request, ReadOnlyCredentials(KEY_ID, SECRET, "session-token"), "eu-west-1")
    assert request.headers["x-amz-date"] == "20250102T030405Z"
    assert request.headers["x-amz-security-token"] == "session-token"
    auth = request.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/eu-west-1/"
                           "bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                           "x-amz-security-token, Signature=")
    # The transport adds Host from the URL, as botocore assumed when signing.
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "bedrock-runtime.eu-west-1.amazonaws.com"
    assert verify_sigv4("POST", url, headers, body, SECRET)
    assert not verify_sigv4("POST", url, headers, body + b" ", SECRET)


async def test_static_credentials() -> None:
    creds = AwsCredentials("bedrock", static=Credentials(KEY_ID, SECRET))
    assert creds.secret_values() == []  # nothing resolved yet
    frozen = await creds.get()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (KEY_ID, SECRET, None)
    assert creds.secret_values() == [SECRET]


async def test_refresh_runs_off_the_loop_and_once() -> None:
    loop_thread = threading.get_ident()
    now = [datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.UTC)]
    calls: list[int] = []

    def refresh() -> dict[str, str]:
        calls.append(threading.get_ident())
        expiry = now[0] + datetime.timedelta(hours=1)
        return {"access_key": f"AKID{len(calls)}", "secret_key": f"secret{len(calls)}",
                "token": f"token{len(calls)}", "expiry_time": expiry.isoformat()}

    source = RefreshableCredentials("AKID0", "secret0", "token0",
                                    now[0] + datetime.timedelta(hours=1), refresh, "test",
                                    time_fetcher=lambda: now[0])
    creds = AwsCredentials("bedrock", static=source)
    assert (await creds.get()).access_key == "AKID0"
    assert (await creds.get()).access_key == "AKID0" and calls == []  # cached, still valid
    # 10 minutes left: inside botocore's advisory refresh window.
    now[0] += datetime.timedelta(minutes=50)
    refreshed = await asyncio.gather(*(creds.get() for _ in range(5)))
    assert {c.access_key for c in refreshed} == {"AKID1"}
    assert len(calls) == 1 and calls[0] != loop_thread  # one refresh, in a worker thread
    assert creds.secret_values() == ["secret1", "token1"]


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """No AWS settings but what a test sets (and no metadata-service calls)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_ROLE_ARN", "AWS_CREDENTIAL_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("BOTO_CONFIG", str(tmp_path / "boto.cfg"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


async def test_the_botocore_chain_reads_the_environment(isolated_env) -> None:
    isolated_env.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    isolated_env.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    frozen = await AwsCredentials("bedrock").get()
    assert (frozen.access_key, frozen.secret_key) == ("AKIDENV", "env-secret")


async def test_a_named_profile(isolated_env, tmp_path) -> None:
    (tmp_path / "credentials").write_text(
        "[team]\naws_access_key_id = AKIDTEAM\naws_secret_access_key = team-secret\n")
    frozen = await AwsCredentials("bedrock", profile="team").get()
    assert frozen.access_key == "AKIDTEAM"
    with pytest.raises(UpstreamAuthFailed, match="cannot load AWS credentials"):
        await AwsCredentials("bedrock", profile="missing").get()


async def test_no_credentials_anywhere(isolated_env) -> None:
    with pytest.raises(UpstreamAuthFailed, match="no AWS credentials found"):
        await AwsCredentials("bedrock").get()


def config(**settings: object):
    return validate({"providers": {"b": {"type": "bedrock", **settings}}}, "test").providers["b"]


def test_endpoints_follow_the_region() -> None:
    c = config(region="eu-central-1")
    assert (c.base_url, c.control_base_url) == ("https://bedrock-runtime.eu-central-1.amazonaws.com",
                                                "https://bedrock.eu-central-1.amazonaws.com")
    cn = config(region="cn-north-1")
    assert cn.base_url == "https://bedrock-runtime.cn-north-1.amazonaws.com.cn"
    custom = config(region="us-east-1", base_url="http://127.0.0.1:1/",
                    control_base_url="http://127.0.0.1:2/")
    assert (custom.base_url, custom.control_base_url) == ("http://127.0.0.1:1",
                                                          "http://127.0.0.1:2")
    keys = config(region="us-east-1", access_key_id="AKID", secret_access_key="s3cr3t-value",
                  session_token="tok-value", bearer_token=None)
    assert set(keys.secret_values()) == {"s3cr3t-value", "tok-value"}


@pytest.mark.parametrize("settings, problem", [
    ({}, "region"),
    ({"region": "us-east-1", "api_key": "k"}, "use bearer_token"),
    ({"region": "us-east-1", "access_key_id": "AKID"}, "go together"),
    ({"region": "us-east-1", "session_token": "t"}, "session_token needs"),
    ({"region": "us-east-1", "bearer_token": "t", "profile": "p"}, "bearer_token replaces"),
    ({"region": "us-east-1", "profile": "p", "access_key_id": "a", "secret_access_key": "s"},
     "not both"),
    ({"region": "us-east-1", "control_base_url": "ftp://x"}, "http"),
])
def test_config_problems_are_named(settings: dict, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        config(**settings)


@pytest.mark.parametrize("env, settings", [
    ({}, None),
    ({"AWS_REGION": "us-east-1"}, None),  # a region without credentials
    ({"AWS_ACCESS_KEY_ID": "AKID"}, None),  # credentials without a region
    ({"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID"},
     {"type": "bedrock", "region": "us-east-1"}),
    ({"AWS_DEFAULT_REGION": "eu-west-3", "AWS_PROFILE": "dev"},
     {"type": "bedrock", "region": "eu-west-3"}),
    ({"AWS_REGION": "us-west-2", "AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-x"},
     {"type": "bedrock", "region": "us-west-2", "bearer_token": "bedrock-api-key-x"}),
])
def test_embedded_default_detection(env: dict, settings: dict | None) -> None:
    assert from_env(env) == settings
