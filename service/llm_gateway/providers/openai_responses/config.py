"""Configuration of the OpenAI Responses provider (`type: openai_responses`),
and how the embedded default enables it from `OPENAI_API_KEY`.

The settings are the OpenAI preset's (`providers/openai/config.py`): a base URL
that defaults to OpenAI's, and a key sent as `Authorization: Bearer`. The key
is required for OpenAI itself; other servers that implement `/responses`
behind another `base_url` may not need one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import model_validator

from ...config.schema import HttpProviderConfig

TYPE = "openai_responses"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
API_KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"


class OpenAIResponsesConfig(HttpProviderConfig):
    type: str = TYPE
    base_url: str = DEFAULT_BASE_URL

    @model_validator(mode="after")
    def _key_for_openai(self) -> OpenAIResponsesConfig:
        if self.api_key is None and urlsplit(self.base_url).hostname == "api.openai.com":
            raise ValueError(f"api_key is required for OpenAI (for example ${{{API_KEY_ENV}}})")
        return self


def from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The embedded default's settings: enabled by the same variables as the
    `openai` Chat Completions preset, beside it."""
    key = env.get(API_KEY_ENV)
    if not key:
        return None
    settings: dict[str, Any] = {"type": TYPE, "api_key": key}
    if env.get(BASE_URL_ENV):
        settings["base_url"] = env[BASE_URL_ENV]
    return settings
