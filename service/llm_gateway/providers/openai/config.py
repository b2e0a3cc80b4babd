"""Configuration of the OpenAI family (every preset) and Azure OpenAI."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ...config.schema import HttpProviderConfig
from .presets import PRESETS


class OpenAIConfig(HttpProviderConfig):
    # Defaults to the preset's usual address (see presets.py).
    base_url: str = ""

    @model_validator(mode="before")
    @classmethod
    def _preset_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("base_url"):
            preset = PRESETS.get(str(data.get("type")))
            if preset is not None:
                data = {**data, "base_url": preset.base_url}
        return data

    @model_validator(mode="after")
    def _key_if_required(self) -> OpenAIConfig:
        preset = PRESETS[self.type]
        if preset.requires_key and self.api_key is None:
            hint = f" (for example ${{{preset.api_key_env}}})" if preset.api_key_env else ""
            raise ValueError(f"api_key is required for {preset.title}{hint}")
        return self


class AzureOpenAIConfig(HttpProviderConfig):
    """Azure OpenAI: `base_url` is the resource endpoint
    (https://<resource>.openai.azure.com); requests go to
    /openai/deployments/<deployment>/... with the `api-key` header."""

    type: str = "azure_openai"
    api_version: str = "2024-10-21"
    # Model id (as callers name it) -> deployment name; a model without an
    # entry is its own deployment name.
    deployments: dict[str, str] = Field(default_factory=dict)
