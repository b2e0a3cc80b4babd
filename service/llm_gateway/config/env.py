"""`${VAR}` interpolation in configuration values.

Applied to the parsed YAML (never to its text), so a value can't break the
YAML syntax and an error can name the field. `${VAR}` requires VAR to be set;
`${VAR:-fallback}` uses the fallback when VAR is unset or empty; `$${` is a
literal `${`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariable(Exception):
    def __init__(self, path: str, variable: str) -> None:
        super().__init__(f"{path}: environment variable {variable} is not set")
        self.path = path
        self.variable = variable


def interpolate(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    if isinstance(value, dict):
        return {k: interpolate(v, env, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _PATTERN.sub(lambda m: _substitute(m, env, path), value)
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str], path: str) -> str:
    if match.group(0) == "$${":
        return "${"
    name, fallback = match.group(1), match.group(2)
    value = env.get(name, "")
    if value:
        return value
    if fallback is not None:
        return fallback
    raise MissingVariable(path, name)
