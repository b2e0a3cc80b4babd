"""The embedded default configuration: used when no file is given.

It always has the `echo` provider, and adds each real provider whose standard
environment variables are set (each provider type says which, in
providers/registry.py), so `llm-gateway` with OPENAI_API_KEY exported serves
OpenAI with no file at all. A provider is named after its type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def default_config(env: Mapping[str, str]) -> dict[str, Any]:
    from ..providers.registry import SPECS

    providers: dict[str, Any] = {"echo": {"type": "echo"}}
    for spec in SPECS.values():
        settings = spec.from_env(env) if spec.from_env else None
        if settings is not None:
            providers[spec.type] = settings
    return {"providers": providers}
