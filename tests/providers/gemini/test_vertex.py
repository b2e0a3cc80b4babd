"""The Vertex AI adapter over real HTTP to the fake upstream, including the
OAuth token flow: a service-account key (generated here) whose token_uri
points at the fake, the signed JWT assertion it posts, and the bearer token
used for generateContent."""

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from llm_gateway.config.loader import ConfigError, load_config, validate
from llm_gateway.core import errors as e
from llm_gateway.core.accumulate import accumulate
from llm_gateway.core.embeddings import EmbeddingTask, EmbedRequest
from llm_gateway.core.tokens import CountMethod, TokenCount
from llm_gateway.core.types import ChatRequest, FunctionTool, Message, Role, TextPart, Usage
from llm_gateway.providers.gemini.config import vertex_base_url

from tests.fixtures import gemini as fx
from tests.support.fake_upstream import FakeUpstream, RecordedRequest, Reply, Stream
from tests.support.providers import ctx, make_provider

MODEL = "gemini-2.5-flash"
PREFIX = "/v1/projects/proj-42/locations/europe-west4/publishers/google/models"
EMAIL = "gateway@proj-42.iam.gserviceaccount.com"
TOKEN = fx.TOKEN_RESPONSE["access_token"]
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_file(tmp_path: Path, upstream: FakeUpstream, rsa_key: rsa.RSAPrivateKey) -> Path:
    pem = rsa_key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "proj-42", "private_key_id": "kid-1",
        "private_key": pem, "client_email": EMAIL, "client_id": "1234567890",
        "token_uri": f"{upstream.url}/token",
    }))
    return path


def vertex(upstream: FakeUpstream, key_file: Path, **settings: object):  # type: ignore[no-untyped-def]
    return make_provider("vertex", upstream, path="/v1", project="proj-42",
                         location="europe-west4", credentials_file=str(key_file), **settings)


def hello() -> ChatRequest:
    return ChatRequest(f"vertex/{MODEL}", (Message(Role.USER, (TextPart("Hello"),)),))


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_token_request(sent: RecordedRequest, rsa_key: rsa.RSAPrivateKey) -> None:
    """The JWT-bearer grant, signed with the service account's key."""
    assert (sent.method, sent.path) == ("POST", "/token")
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(sent.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    header, claims, signature = form["assertion"][0].split(".")
    assert json.loads(b64url(header)) == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    payload = json.loads(b64url(claims))
    # (google-auth addresses the assertion to Google's token endpoint
    # whatever the token_uri.)
    assert (payload["iss"], payload["scope"], payload["aud"]) == (
        EMAIL, SCOPE, "https://oauth2.googleapis.com/token")
    assert payload["exp"] - payload["iat"] == 3600
    rsa_key.public_key().verify(b64url(signature), f"{header}.{claims}".encode(),
                                padding.PKCS1v15(), hashes.SHA256())


async def test_token_flow_and_generate_content(upstream: FakeUpstream, key_file: Path,
                                               rsa_key: rsa.RSAPrivateKey) -> None:
    upstream.on("POST", "/token", Reply(json=fx.TOKEN_RESPONSE))
    upstream.on("POST", f"{PREFIX}/{MODEL}:generateContent",
                Reply(json=fx.TEXT, headers={"x-request-id": "vx-1"}))
    provider = vertex(upstream, key_file)
    response = await provider.chat(hello(), ctx(MODEL))
    token_request, generate = (x.request for x in upstream.exchanges)
    assert_token_request(token_request, rsa_key)
    assert (generate.method, generate.path) == ("POST", f"{PREFIX}/{MODEL}:generateContent")
    assert generate.headers["authorization"] == f"Bearer {TOKEN}"
    assert "x-goog-api-key" not in generate.headers
    assert generate.json() == {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
    assert response.message.parts == (TextPart("Hello! How can I help you today?"),)
    assert response.upstream_request_id == "vx-1"
    # The token is cached: a second call asks for none.
    await provider.chat(hello(), ctx(MODEL))
    assert [r.path for r in upstream.requests()] == [
        "/token", f"{PREFIX}/{MODEL}:generateContent", f"{PREFIX}/{MODEL}:generateContent"]
    # ... and scrubbed from anything shown to callers.
    assert TOKEN in provider.secrets()
    await provider.aclose()


async def test_a_token_near_expiry_is_refreshed(upstream: FakeUpstream,
                                                key_file: Path) -> None:
    tokens = iter(["ya29.first", "ya29.second"])
    # 60 s left is inside the refresh margin: every call refreshes.
    upstream.on("POST", "/token", lambda _: Reply(json={
        "access_token": next(tokens), "expires_in": 60, "token_type": "Bearer"}))
    upstream.on("POST", f"{PREFIX}/{MODEL}:generateContent", Reply(json=fx.TEXT))
    provider = vertex(upstream, key_file)
    await provider.chat(hello(), ctx(MODEL))
    await provider.chat(hello(), ctx(MODEL))
    auth = [r.headers.get("authorization") for r in upstream.requests()
            if r.path.endswith(":generateContent")]
    assert auth == ["Bearer ya29.first", "Bearer ya29.second"]
    await provider.aclose()


async def test_a_refused_key_is_an_auth_failure(upstream: FakeUpstream, key_file: Path) -> None:
    upstream.on("POST", "/token", Reply(400, json={
        "error": "invalid_grant", "error_description": "Invalid JWT Signature."}))
    provider = vertex(upstream, key_file)
    with pytest.raises(e.UpstreamAuthFailed, match="Invalid JWT Signature"):
        await provider.chat(hello(), ctx(MODEL))
    # Nothing was sent to the model without a token.
    assert [r.path for r in upstream.requests()] == ["/token"]
    report = await provider.check_health()
    assert not report.ok and "invalid_grant" in report.detail
    await provider.aclose()


async def test_an_unreadable_key_file(upstream: FakeUpstream, tmp_path: Path) -> None:
    provider = vertex(upstream, tmp_path / "missing.json")
    with pytest.raises(e.UpstreamAuthFailed, match="cannot read credentials_file"):
        await provider.chat(hello(), ctx(MODEL))
    await provider.aclose()
    (tmp_path / "bad.json").write_text('{"type": "service_account"}')
    provider = vertex(upstream, tmp_path / "bad.json")
    with pytest.raises(e.UpstreamAuthFailed, match="not a service-account key file"):
        await provider.chat(hello(), ctx(MODEL))
    assert upstream.requests() == []
    await provider.aclose()


async def test_stream_uses_sse_on_the_regional_path(upstream: FakeUpstream,
                                                    key_file: Path) -> None:
    upstream.on("POST", "/token", Reply(json=fx.TOKEN_RESPONSE))
    upstream.on("POST", f"{PREFIX}/{MODEL}:streamGenerateContent",
                Stream(fx.sse_frames(fx.STREAM_TEXT)))
    provider = vertex(upstream, key_file)
    rebuilt = accumulate([ev async for ev in provider.stream(hello(), ctx(MODEL))])
    sent = upstream.wait_for_exchange(2).request
    assert sent.query == {"alt": ["sse"]}
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert rebuilt.message.text() == "Hello there!" and rebuilt.usage == Usage(9, 3)
    await provider.aclose()


async def test_errors_read_google_status(upstream: FakeUpstream, key_file: Path) -> None:
    upstream.on("POST", "/token", Reply(json=fx.TOKEN_RESPONSE))
    upstream.on("POST", f"{PREFIX}/{MODEL}:generateContent", Reply(403, json=fx.ERROR_PERMISSION))
    provider = vertex(upstream, key_file)
    with pytest.raises(e.UpstreamAuthFailed) as exc:
        await provider.chat(hello(), ctx(MODEL))
    assert "aiplatform.endpoints.predict" in exc.value.message
    await provider.aclose()


async def test_count_tokens_takes_the_vertex_fields(upstream: FakeUpstream,
                                                    key_file: Path) -> None:
    upstream.on("POST", "/token", Reply(json=fx.TOKEN_RESPONSE))
    upstream.on("POST", f"{PREFIX}/{MODEL}:countTokens", Reply(json=fx.VERTEX_COUNT_TOKENS))
    provider = vertex(upstream, key_file)
    request = ChatRequest("v", hello().messages, system=(TextPart("Be brief."),),
                          tools=(FunctionTool("get_time", strict=True),),
                          provider_options={"vertex": {"labels": {"team": "a"}}})
    count = await provider.count_tokens(request, ctx(MODEL))
    assert count == TokenCount(31, CountMethod.PROVIDER_ENDPOINT, "gemini:countTokens",
                               model=MODEL)
    # CountTokensRequest has no toolConfig or labels.
    assert upstream.wait_for_exchange(2).request.json() == {
        "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "get_time"}]}]}
    await provider.aclose()


async def test_embeddings_through_predict(upstream: FakeUpstream, key_file: Path) -> None:
    upstream.on("POST", "/token", Reply(json=fx.TOKEN_RESPONSE))
    upstream.on("POST", f"{PREFIX}/text-embedding-005:predict", Reply(json=fx.VERTEX_PREDICT))
    upstream.on("POST", f"{PREFIX}/gemini-embedding-001:predict",
                lambda r: Reply(json={"predictions": [
                    {"embeddings": {"values": [float(len(r.json()["instances"][0]["content"]))],
                                    "statistics": {"token_count": 2}}}]}))
    provider = vertex(upstream, key_file)
    response = await provider.embed(
        EmbedRequest("v", ("first", "second"), dimensions=3,
                     task=EmbeddingTask.SEMANTIC_SIMILARITY), ctx("text-embedding-005"))
    assert upstream.wait_for_exchange(2).request.json() == {
        "instances": [{"content": "first", "task_type": "SEMANTIC_SIMILARITY"},
                      {"content": "second", "task_type": "SEMANTIC_SIMILARITY"}],
        "parameters": {"outputDimensionality": 3}}
    assert response.vectors == ((0.0123, -0.045, 0.5), (0.25, 0.5, -0.125))
    assert response.usage == Usage(input_tokens=10)
    # gemini-embedding models take one instance per request: split, in order.
    response = await provider.embed(EmbedRequest("v", ("a", "bbb", "cc")),
                                    ctx("gemini-embedding-001"))
    assert response.vectors == ((1.0,), (3.0,), (2.0,))
    assert response.usage == Usage(input_tokens=6)
    await provider.aclose()


def test_environment_enables_vertex() -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": "/secrets/sa.json",
           "GOOGLE_CLOUD_PROJECT": "proj-42"}
    assert "vertex" not in load_config(None, {"GOOGLE_CLOUD_PROJECT": "p"}).providers
    config = load_config(None, env).providers["vertex"]
    assert (config.project, config.location, config.credentials_file, config.base_url) == (  # type: ignore[attr-defined]
        "proj-42", "us-central1", "/secrets/sa.json",
        "https://us-central1-aiplatform.googleapis.com/v1")
    config = load_config(None, {**env, "GOOGLE_CLOUD_LOCATION": "global"}).providers["vertex"]
    assert config.base_url == "https://aiplatform.googleapis.com/v1"  # type: ignore[attr-defined]
    assert vertex_base_url("asia-northeast1") == (
        "https://asia-northeast1-aiplatform.googleapis.com/v1")


@pytest.mark.parametrize("settings, problem", [
    ({}, "project"),
    ({"project": "p", "api_key": "k"}, "api_key is not used by Vertex AI"),
    ({"project": "p", "discover_models": True}, "discover_models is not available"),
    ({"project": "p", "location": "us/central"}, "location must be"),
])
def test_vertex_config_problems(settings: dict, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        validate({"providers": {"v": {"type": "vertex", **settings}}}, "test")
