"""Loads and validates the configuration: a YAML file, or the embedded
default when there is none.

Every problem is reported with the path of the field and what is wrong with
it, never with the value (values may be secrets).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .defaults import default_config
from .env import MissingVariables, interpolate
from .schema import GatewayConfig, ProviderConfig

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class ConfigError(Exception):
    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"invalid configuration ({source}):"]
        lines += [f"  - {path or '(top level)'}: {problem}" for path, problem in problems]
        super().__init__("\n".join(lines))


def load_config(path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None
                ) -> GatewayConfig:
    env = os.environ if env is None else env
    if path is None:
        return validate(default_config(env), "embedded default")
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(source, [("", f"{problem}{where}")]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(source, [("", "must be a mapping (server, providers, aliases)")])
    try:
        raw = interpolate(raw, env)
    except MissingVariables as exc:
        raise ConfigError(source, [(path, f"environment variable {var} is not set")
                                   for path, var in exc.missing]) from None
    return validate(raw, source)


def validate(raw: dict[str, Any], source: str) -> GatewayConfig:
    # Imported here: the registry imports every adapter, which imports the
    # schema module; keeping it out of module scope avoids an import cycle.
    from ..providers.registry import SPECS

    problems: list[tuple[str, str]] = []
    raw = dict(raw)
    providers_raw = raw.pop("providers", None) or {}
    providers: dict[str, ProviderConfig] = {}
    if not isinstance(providers_raw, dict):
        problems.append(("providers", "must be a mapping of provider name to settings"))
        providers_raw = {}
    for name, entry in providers_raw.items():
        where = f"providers.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append((where, "provider names are 1-63 characters of a-z 0-9 _ . - "
                                    "starting with a letter or digit"))
            continue
        entry = {} if entry is None else entry
        if not isinstance(entry, dict):
            problems.append((where, "must be a mapping of settings"))
            continue
        kind = entry.get("type", name if name in SPECS else None)
        if kind is None:
            problems.append((f"{where}.type", f"required; one of {', '.join(sorted(SPECS))}"))
            continue
        if kind not in SPECS:
            problems.append((f"{where}.type",
                             f"unknown provider type; one of {', '.join(sorted(SPECS))}"))
            continue
        try:
            providers[name] = SPECS[kind].config.model_validate({**entry, "type": kind})
        except ValidationError as exc:
            problems.extend(_problems(exc, where))
    try:
        config = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems(exc, ""))
        config = None
    aliases = raw.get("aliases")
    if isinstance(aliases, dict):
        known = set(providers_raw) if isinstance(providers_raw, dict) else set()
        problems.extend(_alias_problems(
            {str(k): v for k, v in aliases.items() if isinstance(v, str)}, known))
    if problems:
        raise ConfigError(source, problems)
    assert config is not None
    return config.model_copy(update={"providers": providers})


def _alias_problems(aliases: Mapping[str, str], providers: set[str]
                    ) -> list[tuple[str, str]]:
    problems = []
    for alias, target in aliases.items():
        where = f"aliases.{alias}"
        if "/" in alias:
            problems.append((where, "an alias must not contain '/'"))
        provider, sep, model = target.partition("/")
        if not sep or not model:
            problems.append((where, "the target must be 'provider/model'"))
        elif provider not in providers:
            problems.append((where, f"the target names provider {provider!r}, "
                                    "which is not configured"))
    return problems


def _problems(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        path = prefix
        for part in err["loc"]:
            path = f"{path}[{part}]" if isinstance(part, int) else (
                f"{path}.{part}" if path else str(part))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        out.append((path, msg.removeprefix("Value error, ")))
    return out
