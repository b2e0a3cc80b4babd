"""Resolves a requested model name to a provider and an upstream model.

Accepted names, in order: an alias from the configuration ("fast"); the
direct form "provider/model" (the model id may itself contain '/', as in
"vllm/meta-llama/Llama-3.1-8B-Instruct": only the first '/' splits); a bare
model id that exactly one provider lists ("gpt-4.1-mini").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..core.errors import ModelNotFound
from ..core.models import ModelInfo
from ..providers.base import ProviderBase


@dataclass(frozen=True, slots=True)
class Route:
    provider: ProviderBase
    model: ModelInfo


class Router:
    def __init__(self, providers: Mapping[str, ProviderBase], aliases: Mapping[str, str]) -> None:
        self._providers = dict(providers)
        self._aliases = dict(aliases)
        self._cache: dict[str, Route] = {}

    @property
    def providers(self) -> Mapping[str, ProviderBase]:
        return self._providers

    def resolve(self, name: str) -> Route:
        route = self._cache.get(name)
        if route is None:
            route = self._resolve(name)
            if len(self._cache) < 10_000:  # bounded: names come from callers
                self._cache[name] = route
        return route

    def invalidate(self) -> None:
        """Forget resolutions (after a provider's model list changed)."""
        self._cache.clear()

    def _resolve(self, name: str) -> Route:
        target = self._aliases.get(name, name)
        provider_name, sep, model_id = target.partition("/")
        provider = self._providers.get(provider_name) if sep else None
        if provider is not None:
            info = provider.model_info(model_id)
            if info is None:
                raise ModelNotFound(name, f"provider {provider_name!r} does not list it; "
                                          "ModelService.ListModels shows what it serves")
            return Route(provider, self._with_aliases(info))
        matches = [
            (p, m) for p in self._providers.values() for m in p.listed_models() if m.id == name
        ]
        if len(matches) == 1:
            provider, info = matches[0]
            return Route(provider, self._with_aliases(info))
        if len(matches) > 1:
            names = ", ".join(sorted(m.name for _, m in matches))
            raise ModelNotFound(name, f"several providers serve it; name one of: {names}")
        raise ModelNotFound(name, "use an alias or 'provider/model'; "
                                  "ModelService.ListModels shows what is available")

    def _with_aliases(self, info: ModelInfo) -> ModelInfo:
        aliases = tuple(sorted(a for a, t in self._aliases.items() if t == info.name))
        return replace(info, aliases=aliases) if aliases != info.aliases else info

    def models(self, provider: str = "") -> list[ModelInfo]:
        """Every listed model and every alias target, with aliases, by name."""
        infos = {
            m.name: self._with_aliases(m)
            for name, p in self._providers.items()
            if not provider or name == provider
            for m in p.listed_models()
        }
        for target in set(self._aliases.values()):
            target_provider = target.partition("/")[0]
            if target not in infos and (not provider or target_provider == provider):
                try:
                    infos[target] = self.resolve(target).model
                except ModelNotFound:
                    continue  # an alias to an unlisted model of a strict provider
        return [infos[name] for name in sorted(infos)]
