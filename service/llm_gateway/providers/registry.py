"""Provider types the gateway knows, as data: type name -> config schema and
factory. Adding a provider family is one module plus one line here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config.schema import ModelEntry, ProviderConfig
from . import echo
from .base import ModelSpec, ProviderBase


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    type: str
    config: type[ProviderConfig]
    build: Callable[[str, Any, Sequence[ModelSpec]], ProviderBase]
    adapter: type[ProviderBase]
    summary: str


SPECS: dict[str, ProviderSpec] = {
    spec.type: spec
    for spec in (
        ProviderSpec("echo", echo.EchoConfig, echo.from_config, echo.EchoProvider,
                     "Built-in deterministic provider for smoke tests and client development"),
    )
}


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
