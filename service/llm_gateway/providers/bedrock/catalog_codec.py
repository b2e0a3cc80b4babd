"""ListFoundationModels -> model catalogue entries. Pure.

Wire: GET /foundation-models on the control plane ->
`{modelSummaries: [{modelId, modelName, providerName, inputModalities,
outputModalities, responseStreamingSupported, inferenceTypesSupported, ...}]}`
(https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html,
FoundationModelSummary). Modalities are TEXT, IMAGE and EMBEDDING.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...core.models import Modality

_MODALITIES = {"TEXT": Modality.TEXT, "IMAGE": Modality.IMAGE,
               "EMBEDDING": Modality.EMBEDDING, "AUDIO": Modality.AUDIO,
               "VIDEO": Modality.VIDEO}


@dataclass(frozen=True, slots=True)
class FoundationModel:
    id: str
    name: str
    provider_name: str
    inputs: tuple[Modality, ...]
    outputs: tuple[Modality, ...]
    streaming: bool
    inference_types: tuple[str, ...]

    @property
    def kind(self) -> str | None:
        """"embedding", "chat", or None for models the gateway cannot serve
        (image generators)."""
        if Modality.EMBEDDING in self.outputs:
            return "embedding"
        if Modality.TEXT in self.outputs:
            return "chat"
        return None


def decode_models(body: Mapping[str, Any]) -> list[FoundationModel]:
    models = []
    for summary in body.get("modelSummaries") or ():
        if not isinstance(summary, dict) or not summary.get("modelId"):
            continue
        models.append(FoundationModel(
            id=str(summary["modelId"]),
            name=str(summary.get("modelName") or ""),
            provider_name=str(summary.get("providerName") or ""),
            inputs=_modalities(summary.get("inputModalities")),
            outputs=_modalities(summary.get("outputModalities")),
            streaming=bool(summary.get("responseStreamingSupported")),
            inference_types=tuple(str(t) for t in summary.get("inferenceTypesSupported") or ()),
        ))
    return models


def _modalities(raw: Any) -> tuple[Modality, ...]:
    return tuple(_MODALITIES[m] for m in raw or () if m in _MODALITIES)
