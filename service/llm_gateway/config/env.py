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


class MissingVariables(Exception):
    def __init__(self, missing: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(f"{path}: {var}" for path, var in missing))
        self.missing = missing  # (path, variable name)


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """The value with every `${...}` replaced; raises MissingVariables
    naming every unset variable and where it is used."""
    missing: list[tuple[str, str]] = []
    result = _walk(value, env, "", missing)
    if missing:
        raise MissingVariables(missing)
    return result


def _walk(value: Any, env: Mapping[str, str], path: str, missing: list[tuple[str, str]]
          ) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, env, f"{path}.{k}" if path else str(k), missing)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, env, f"{path}[{i}]", missing) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _PATTERN.sub(lambda m: _substitute(m, env, path, missing), value)
    return value


def _substitute(match: re.Match[str], env: Mapping[str, str], path: str,
                missing: list[tuple[str, str]]) -> str:
    if match.group(0) == "$${":
        return "${"
    name, fallback = match.group(1), match.group(2)
    value = env.get(name, "")
    if value:
        return value
    if fallback is not None:
        return fallback
    missing.append((path, name))
    return ""
