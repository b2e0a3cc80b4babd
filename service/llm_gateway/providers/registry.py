"""Provider types the gateway knows, as data: type name -> config schema,
factory, and how the embedded default detects it from the environment.
Adding a provider family is one module plus entries here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config.schema import ModelEntry, ProviderConfig
from . import echo
from .anthropic import adapter as anthropic
from .anthropic.config import AnthropicConfig
from .base import ModelSpec, ProviderBase
from .bedrock import adapter as bedrock
from .bedrock.config import BedrockConfig
from .gemini import adapter as gemini
from .gemini import config as gemini_config
from .ollama import adapter as ollama
from .ollama import config as ollama_config
from .openai import adapter as openai
from .openai.config import AzureOpenAIConfig, OpenAIConfig
from .openai.presets import PRESETS, Preset
from .openai_responses import adapter as openai_responses
from .openai_responses import config as openai_responses_config
from .openai_responses.config import OpenAIResponsesConfig

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
    # When the embedded default enables it (docs/providers.md).
    enabled_by: str = "configuration only"


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


def _preset_enabled_by(preset: Preset) -> str:
    if preset.requires_key and preset.api_key_env:
        return f"`{preset.api_key_env}`"
    if preset.base_url_env:
        return f"`{preset.base_url_env}`"
    return "configuration only"


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
                          "Built-in deterministic provider for smoke tests and client development",
                          enabled_by="always")]
    for preset in PRESETS.values():
        specs.append(ProviderSpec(
            preset.type, OpenAIConfig, openai.from_config, openai.OpenAIProvider,
            f"{preset.title} (OpenAI Chat Completions)", _preset_env(preset.type),
            _preset_enabled_by(preset)))
    specs.append(ProviderSpec("azure_openai", AzureOpenAIConfig, openai.azure_from_config,
                              openai.AzureOpenAIProvider, "Azure OpenAI (deployments)",
                              _azure_env, "`AZURE_OPENAI_API_KEY` and `AZURE_OPENAI_ENDPOINT`"))
    specs += [
        ProviderSpec("openai_responses", OpenAIResponsesConfig, openai_responses.from_config,
                     openai_responses.OpenAIResponsesProvider,
                     "OpenAI Responses API (stateless, reasoning round trips)",
                     openai_responses_config.from_env, "`OPENAI_API_KEY`"),
        ProviderSpec("anthropic", AnthropicConfig, anthropic.from_config,
                     anthropic.AnthropicProvider, "Anthropic (Messages API)",
                     anthropic.from_env, "`ANTHROPIC_API_KEY`"),
        ProviderSpec("gemini", gemini_config.GeminiConfig, gemini.from_config,
                     gemini.GeminiProvider, "Google Gemini API (AI Studio)",
                     gemini_config.gemini_from_env, "`GEMINI_API_KEY` or `GOOGLE_API_KEY`"),
        ProviderSpec("vertex", gemini_config.VertexConfig, gemini.vertex_from_config,
                     gemini.VertexProvider, "Google Vertex AI (Gemini models)",
                     gemini_config.vertex_from_env,
                     "`GOOGLE_APPLICATION_CREDENTIALS` and `GOOGLE_CLOUD_PROJECT`"),
        ProviderSpec("bedrock", BedrockConfig, bedrock.from_config, bedrock.BedrockProvider,
                     "Amazon Bedrock (Converse, ConverseStream, InvokeModel embeddings)",
                     bedrock.from_env,
                     "`AWS_REGION` (or `AWS_DEFAULT_REGION`) and AWS credentials "
                     "(`AWS_ACCESS_KEY_ID`, `AWS_PROFILE` or `AWS_BEARER_TOKEN_BEDROCK`)"),
        ProviderSpec("ollama", ollama_config.OllamaConfig, ollama.from_config,
                     ollama.OllamaProvider, "Ollama (native API, local model management)",
                     ollama_config.from_env, "`OLLAMA_HOST`"),
    ]
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
