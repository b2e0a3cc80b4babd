"""What the gateway knows about a model: identity, capabilities, limits."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, replace


class Modality(enum.Enum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    EMBEDDING = "embedding"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Features a model supports through the gateway (ModelCapabilities in
    models.proto). The gateway refuses a request that uses a feature marked
    False, naming the provider and the feature."""

    chat: bool = False
    streaming: bool = False
    tools: bool = False
    parallel_tool_calls: bool = False
    vision: bool = False
    structured_output: bool = False
    reasoning: bool = False
    embeddings: bool = False
    text_completion: bool = False
    token_counting: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def with_overrides(self, overrides: dict[str, bool]) -> Capabilities:
        return replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    provider: str  # configured provider name
    provider_type: str
    id: str  # the model id sent upstream
    capabilities: Capabilities
    display_name: str = ""
    aliases: tuple[str, ...] = ()
    input_modalities: tuple[Modality, ...] = (Modality.TEXT,)
    output_modalities: tuple[Modality, ...] = (Modality.TEXT,)
    context_window: int | None = None
    max_output_tokens: int | None = None
    embedding_dimensions: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.id}"
