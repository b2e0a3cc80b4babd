"""Management of models on local backends (Ollama): pull, show, delete."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PullProgress:
    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0


@dataclass(frozen=True, slots=True)
class LocalModelDetails:
    license: str = ""
    modelfile: str = ""
    parameters: str = ""
    template: str = ""
    details: Mapping[str, str] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    model_info_json: str = ""
