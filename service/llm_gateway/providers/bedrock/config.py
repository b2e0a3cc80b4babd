"""Configuration of the Bedrock provider type.

    providers:
      bedrock:
        type: bedrock
        region: us-east-1
        # profile: my-sso-profile          # else the default credential chain
        # bearer_token: ${AWS_BEARER_TOKEN_BEDROCK}   # a Bedrock API key

Requests are signed with SigV4 from the botocore credential chain (env,
shared profile, SSO, container or instance role), from explicit keys, or
carry a Bedrock API key as a bearer token. `base_url` and `control_base_url`
default to the region's runtime and control-plane endpoints.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from ...config.schema import HttpProviderConfig


def _endpoint(service: str, region: str) -> str:
    # The China partition has its own DNS suffix.
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{service}.{region}.{suffix}"


class BedrockConfig(HttpProviderConfig):
    type: str = "bedrock"
    # The SigV4 signing region; also picks the default endpoints.
    region: str = Field(min_length=1)
    # Runtime (Converse, InvokeModel, CountTokens): defaults from the region.
    base_url: str = ""
    # Control plane (ListFoundationModels): defaults from the region.
    control_base_url: str = ""
    # A named profile of the shared AWS config (SSO, assume-role, ...).
    profile: str | None = None
    # Explicit static credentials (else the botocore credential chain).
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    # A Bedrock API key: sent as `Authorization: Bearer`, no SigV4 signing.
    bearer_token: SecretStr | None = None
    # Embedding calls in flight at once for one request (Titan embeds one
    # text per call, Cohere 96).
    embedding_concurrency: int = Field(default=8, ge=1, le=64)

    @model_validator(mode="before")
    @classmethod
    def _default_endpoints(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("region"), str) and data["region"]:
            region = data["region"]
            data = dict(data)
            if not data.get("base_url"):
                data["base_url"] = _endpoint("bedrock-runtime", region)
            if not data.get("control_base_url"):
                data["control_base_url"] = _endpoint("bedrock", region)
        return data

    @field_validator("control_base_url")
    @classmethod
    def _control_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> BedrockConfig:
        if self.api_key is not None:
            raise ValueError("Bedrock takes no api_key: use bearer_token for a Bedrock API key, "
                             "or AWS credentials")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key go together")
        if self.session_token is not None and self.access_key_id is None:
            raise ValueError("session_token needs access_key_id and secret_access_key")
        if self.bearer_token is not None and (self.access_key_id or self.profile):
            raise ValueError("bearer_token replaces AWS credentials: drop access_key_id / "
                             "profile, or the bearer_token")
        if self.profile and self.access_key_id:
            raise ValueError("give either a profile or explicit access keys, not both")
        return self

    def secret_values(self) -> list[str]:
        values = super().secret_values()
        for secret in (self.secret_access_key, self.session_token, self.bearer_token):
            if secret is not None and secret.get_secret_value():
                values.append(secret.get_secret_value())
        return values
