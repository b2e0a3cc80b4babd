"""Ollama's model management wire <-> the neutral model. Pure.

- GET /api/tags -> {models: [{name, model, modified_at, size, digest,
  details}]} (https://docs.ollama.com/api/tags): what discovery lists;
- POST /api/show {model} -> {license, modelfile, parameters, template,
  details, model_info, capabilities, ...} (https://docs.ollama.com/api/show,
  api.ShowResponse): a model's details, and the capabilities ("completion",
  "tools", "vision", "thinking", "embedding", ...) discovery builds on;
- POST /api/pull {model, insecure, stream} -> NDJSON progress lines
  {status, digest?, total?, completed?} (api.ProgressResponse), the last one
  {"status": "success"};
- DELETE /api/delete {model} -> 200 without a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ...core.local_models import LocalModelDetails, PullProgress
from ...core.models import Modality
from ..base import ModelSpec

PULL_DONE_STATUS = "success"


def model_names(body: Any) -> list[str]:
    models = body.get("models") if isinstance(body, Mapping) else None
    names = []
    for entry in models or ():
        if isinstance(entry, Mapping):
            name = entry.get("name") or entry.get("model")
            if name:
                names.append(str(name))
    return names


def model_spec(model_id: str, show: Mapping[str, Any], fallback_kind: str) -> ModelSpec:
    """What a model can do through the gateway, from its /api/show answer.

    An older server that does not report capabilities leaves the kind to be
    guessed from the id, with every capability the adapter has.
    """
    info = show.get("model_info") or {}
    arch = info.get("general.architecture") if isinstance(info, Mapping) else None
    context = _positive_int(info.get(f"{arch}.context_length")) if arch else None
    raw_caps = show.get("capabilities")
    if not isinstance(raw_caps, list):
        return ModelSpec(model_id, kind=fallback_kind, context_window=context)
    caps = set(raw_caps)
    if "embedding" in caps and "completion" not in caps:
        dims = _positive_int(info.get(f"{arch}.embedding_length")) if arch else None
        return ModelSpec(model_id, kind="embedding", context_window=context,
                         embedding_dimensions=dims)
    completion = "completion" in caps
    vision = "vision" in caps
    return ModelSpec(
        model_id, kind="chat", context_window=context,
        capabilities={"chat": completion, "streaming": completion,
                      "structured_output": completion, "tools": "tools" in caps,
                      "parallel_tool_calls": "tools" in caps, "vision": vision,
                      "reasoning": "thinking" in caps},
        input_modalities=(Modality.TEXT, Modality.IMAGE) if vision else (Modality.TEXT,))


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None


def decode_show(body: Mapping[str, Any]) -> LocalModelDetails:
    details = body.get("details") or {}
    info = body.get("model_info")
    return LocalModelDetails(
        license=_text(body.get("license")),
        modelfile=_text(body.get("modelfile")),
        parameters=_text(body.get("parameters")),
        template=_text(body.get("template")),
        details={str(k): _detail(v) for k, v in details.items()}
        if isinstance(details, Mapping) else {},
        capabilities=tuple(str(c) for c in body.get("capabilities") or ()),
        model_info_json=orjson.dumps(info).decode() if info is not None else "",
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # a license may be a list of licenses
        return "\n\n".join(str(v) for v in value)
    return str(value)


def _detail(value: Any) -> str:
    """details is a string map in the contract: lists (families) join with
    commas, anything else that is not text becomes JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return orjson.dumps(value).decode()


def encode_pull(model: str, insecure: bool) -> dict[str, Any]:
    return {"model": model, "insecure": insecure, "stream": True}


def decode_progress(line: Mapping[str, Any]) -> PullProgress:
    return PullProgress(status=str(line.get("status") or ""),
                        digest=str(line.get("digest") or ""),
                        total=int(line.get("total") or 0),
                        completed=int(line.get("completed") or 0))
