"""The embedded default configuration: used when no file is given.

It always has the `echo` provider, and adds each real provider whose standard
environment variables are set, so `llm-gateway` with OPENAI_API_KEY exported
serves OpenAI with no file at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# (provider name, required env vars, settings built from the environment).
# Entries whose type is not registered are skipped.
EnvRule = tuple[str, tuple[str, ...], Callable[[Mapping[str, str]], dict[str, Any]]]

ENV_PROVIDERS: list[EnvRule] = []


def default_config(env: Mapping[str, str]) -> dict[str, Any]:
    from ..providers.registry import SPECS

    providers: dict[str, Any] = {"echo": {"type": "echo"}}
    for name, required, settings in ENV_PROVIDERS:
        if all(env.get(var) for var in required):
            entry = settings(env)
            if entry.get("type", name) in SPECS:
                providers[name] = entry
    return {"providers": providers}
