"""Provider types the gateway knows, as data: type name -> config schema,
factory, and how the embedded default detects it from the environment.
Adding a provider family is one module plus entries here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config.schema import ModelEntry, ProviderConfig
from . import echo
from .base import ModelSpec, ProviderBase
from .openai import adapter as openai
from .openai.config import AzureOpenAIConfig, OpenAIConfig
from .openai.presets import PRESETS

# env -> settings for the embedded default, or None when not configured there.
EnvDetector = Callable[[Mapping[str, str]], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    type: str
    config: type[ProviderConfig]
    build: Callable[[str, Any, Sequence[ModelSpec]], ProviderBase]
    adapter: type[ProviderBase]
    summary: str
    from_env: EnvDetector | None = None
    env_vars: tuple[str, ...] = ()


def _preset_env(preset_type: str) -> EnvDetector:
    preset = PRESETS[preset_type]

    def detect(env: Mapping[str, str]) -> dict[str, Any] | None:
        key = env.get(preset.api_key_env or "") if preset.api_key_env else None
        url = env.get(preset.base_url_env or "") if preset.base_url_env else None
        # Hosted services need their key; self-hosted servers their URL.
        if not (key if preset.requires_key else url):
            return None
        settings: dict[str, Any] = {"type": preset_type}
        if key:
            settings["api_key"] = key
        if url:
            settings["base_url"] = url
        return settings

    return detect


def _azure_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    key, endpoint = env.get("AZURE_OPENAI_API_KEY"), env.get("AZURE_OPENAI_ENDPOINT")
    if not (key and endpoint):
        return None
    settings = {"type": "azure_openai", "api_key": key, "base_url": endpoint}
    if env.get("OPENAI_API_VERSION"):
        settings["api_version"] = env["OPENAI_API_VERSION"]
    return settings


def _specs() -> list[ProviderSpec]:
    specs = [ProviderSpec("echo", echo.EchoConfig, echo.from_config, echo.EchoProvider,
                          "Built-in deterministic provider for smoke tests and client development")]
    for preset in PRESETS.values():
        env_vars = tuple(v for v in (preset.api_key_env, preset.base_url_env) if v)
        specs.append(ProviderSpec(
            preset.type, OpenAIConfig, openai.from_config, openai.OpenAIProvider,
            f"{preset.title} (OpenAI Chat Completions)", _preset_env(preset.type), env_vars))
    specs.append(ProviderSpec("azure_openai", AzureOpenAIConfig, openai.azure_from_config,
                              openai.AzureOpenAIProvider, "Azure OpenAI (deployments)",
                              _azure_env, ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT")))
    return specs


SPECS: dict[str, ProviderSpec] = {spec.type: spec for spec in _specs()}


def model_specs(entries: Sequence[ModelEntry]) -> list[ModelSpec]:
    return [
        ModelSpec(
            id=e.id,
            kind=e.kind or ("embedding" if "embed" in e.id.lower() else "chat"),
            display_name=e.display_name,
            context_window=e.context_window,
            max_output_tokens=e.max_output_tokens,
            embedding_dimensions=e.embedding_dimensions,
            capabilities=e.capabilities,
        )
        for e in entries
    ]


def build_provider(name: str, config: ProviderConfig) -> ProviderBase:
    spec = SPECS[config.type]
    return spec.build(name, config, model_specs(config.models))
