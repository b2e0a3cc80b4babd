"""Configuration of the Gemini API (AI Studio) and of Vertex AI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import model_validator

from ...config.schema import HttpProviderConfig

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"


class GeminiConfig(HttpProviderConfig):
    """The Gemini API: the key goes in the `x-goog-api-key` header (never in
    the URL, so it stays out of access logs)."""

    type: str = "gemini"
    base_url: str = GEMINI_BASE_URL

    @model_validator(mode="after")
    def _key_required(self) -> GeminiConfig:
        if self.api_key is None:
            raise ValueError("api_key is required for the Gemini API "
                             "(for example ${GEMINI_API_KEY})")
        return self


def vertex_base_url(location: str) -> str:
    """The regional endpoint; the `global` location has no regional host."""
    host = "aiplatform.googleapis.com" if location == "global" else \
        f"{location}-aiplatform.googleapis.com"
    return f"https://{host}/v1"


class VertexConfig(HttpProviderConfig):
    """Vertex AI: requests go to
    {base_url}/projects/{project}/locations/{location}/publishers/google/models/{model}:...
    with an OAuth bearer token from a service-account key file
    (`credentials_file`) or, without one, application-default credentials.
    `base_url` defaults to the location's endpoint (override it for tests or
    private endpoints)."""

    type: str = "vertex"
    project: str
    location: str = "us-central1"
    credentials_file: str | None = None
    base_url: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_endpoint(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("base_url"):
            data = {**data, "base_url": vertex_base_url(str(data.get("location") or
                                                            "us-central1"))}
        return data

    @model_validator(mode="after")
    def _checks(self) -> VertexConfig:
        if not self.project.strip():
            raise ValueError("project must name a Google Cloud project")
        if not self.location.strip() or "/" in self.location:
            raise ValueError("location must be a Vertex AI location such as us-central1")
        if self.api_key is not None:
            raise ValueError("api_key is not used by Vertex AI: it authenticates with "
                             "credentials_file or application-default credentials")
        if self.discover_models:
            raise ValueError("discover_models is not available for Vertex AI (v1 has no "
                             "publisher model listing); list the models instead")
        return self


# --- the embedded default's environment ---------------------------------------



def gemini_from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    key = env.get("GEMINI_API_KEY") or env.get("GOOGLE_API_KEY")
    return {"type": "gemini", "api_key": key} if key else None


def vertex_from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    credentials, project = env.get("GOOGLE_APPLICATION_CREDENTIALS"), \
        env.get("GOOGLE_CLOUD_PROJECT")
    if not (credentials and project):
        return None
    return {"type": "vertex", "project": project, "credentials_file": credentials,
            "location": env.get("GOOGLE_CLOUD_LOCATION") or "us-central1"}
