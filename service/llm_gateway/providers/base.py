"""The provider interface every adapter implements, and its shared base.

An adapter translates the neutral core model (`core/`) to one provider
family's wire format and back. It is constructed once per configured provider
and owns that provider's pooled HTTP client. The gateway (`gateway.py`) picks
the adapter, checks the model's capabilities and passes a CallContext that
carries the upstream model id and the caller's deadline.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..core.completions import CompletionEvent, CompletionRequest, CompletionResponse
from ..core.embeddings import EmbedRequest, EmbedResponse
from ..core.errors import UnsupportedOperation, UpstreamProtocolError
from ..core.events import StreamEvent
from ..core.local_models import LocalModelDetails, PullProgress
from ..core.models import Capabilities, Modality, ModelInfo
from ..core.tokens import CountMethod, TokenCount
from ..core.types import ChatRequest, ChatResponse
from .reads import flatten


@dataclass(frozen=True, slots=True)
class CallContext:
    model: str  # the upstream model id
    request_id: str = ""
    # Event-loop time (loop.time()) by which the call must end; None = no
    # deadline. Adapters cap their upstream timeouts with `timeout()`.
    deadline: float | None = None

    def timeout(self, configured: float | None) -> float | None:
        """The upstream timeout: the configured one, capped by the deadline."""
        if self.deadline is None:
            return configured
        remaining = max(self.deadline - asyncio.get_running_loop().time(), 0.001)
        return remaining if configured is None else min(configured, remaining)

    def remaining(self) -> float:
        if self.deadline is None:
            return math.inf
        return self.deadline - asyncio.get_running_loop().time()


@dataclass(frozen=True, slots=True)
class HealthReport:
    ok: bool
    detail: str = ""


@runtime_checkable
class Provider(Protocol):
    """What the gateway needs from a provider adapter."""

    name: str  # the configured provider name ("openai", "vllm-prod", ...)
    type: str  # the provider type ("openai", "vllm", "anthropic", ...)

    def model_info(self, model_id: str) -> ModelInfo | None:
        """The model's identity and capabilities, or None if it is not served."""

    def listed_models(self) -> Sequence[ModelInfo]:
        """Models this provider offers (configured, plus discovered ones)."""

    async def refresh_models(self) -> None:
        """Re-reads the provider's model list where discovery is enabled."""

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse: ...

    def stream_reads(self, request: ChatRequest, ctx: CallContext
                     ) -> AsyncIterator[list[StreamEvent]]:
        """The streamed reply: for each read of the upstream, the events
        decoded from it (providers/reads.py)."""

    def stream(self, request: ChatRequest, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """The same events one at a time."""

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse: ...

    async def complete(
        self, request: CompletionRequest, ctx: CallContext
    ) -> CompletionResponse: ...

    def stream_complete(
        self, request: CompletionRequest, ctx: CallContext
    ) -> AsyncIterator[CompletionEvent]: ...

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount: ...

    def pull_model(self, model: str, insecure: bool) -> AsyncIterator[PullProgress]: ...

    async def show_model(self, model: str) -> LocalModelDetails: ...

    async def delete_model(self, model: str) -> None: ...

    async def check_health(self) -> HealthReport: ...

    def secrets(self) -> Sequence[str]:
        """Secret values to scrub from anything shown to callers or logs."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model as configured: the adapter turns it into a ModelInfo."""

    id: str
    kind: str = "chat"  # "chat" | "embedding" | "completion"
    display_name: str = ""
    context_window: int | None = None
    max_output_tokens: int | None = None
    embedding_dimensions: int | None = None
    capabilities: dict[str, bool] | None = None
    input_modalities: tuple[Modality, ...] | None = None


class ProviderBase:
    """Shared behaviour: the model catalogue, and refusal of every operation
    an adapter does not implement."""

    # The wire family; an instance may narrow it to a preset ("vllm").
    type: str = ""
    # A provider_options key shared by every type of a family ("openai").
    family: str = ""
    # The adapter's pooled client (providers/http/client.py), when it has one.
    client: Any = None
    # What the adapter implements for each kind of model. Per-model config can
    # only turn capabilities off (a model cannot gain what the adapter lacks).
    # (Adapters whose features depend on configuration set these per instance
    # before calling ProviderBase.__init__.)
    chat_capabilities: Capabilities = Capabilities()
    embedding_capabilities: Capabilities = Capabilities()
    chat_input_modalities: tuple[Modality, ...] = (Modality.TEXT,)

    def __init__(
        self,
        name: str,
        models: Sequence[ModelSpec] = (),
        *,
        allow_unlisted_models: bool = True,
    ) -> None:
        self.name = name
        self.allow_unlisted_models = allow_unlisted_models
        self._models: dict[str, ModelInfo] = {}
        for spec in models:
            self._models[spec.id] = self.build_model_info(spec)

    @classmethod
    def declared_capabilities(cls, provider_type: str) -> tuple[Capabilities, Capabilities]:
        """(chat model, embedding model) capabilities of a provider type, as
        the adapter declares them: the source of docs/providers.md."""
        return cls.chat_capabilities, cls.embedding_capabilities

    # --- catalogue ---------------------------------------------------------

    def build_model_info(self, spec: ModelSpec) -> ModelInfo:
        if spec.kind == "embedding":
            caps = self.embedding_capabilities
            inputs: tuple[Modality, ...] = (Modality.TEXT,)
            outputs: tuple[Modality, ...] = (Modality.EMBEDDING,)
        else:
            caps = self.chat_capabilities
            inputs = spec.input_modalities or self.chat_input_modalities
            if not caps.vision:
                inputs = tuple(m for m in inputs if m is not Modality.IMAGE)
            outputs = (Modality.TEXT,)
        if spec.capabilities:
            # Only narrowing: True in config cannot enable what the adapter lacks.
            caps = caps.with_overrides(
                {k: v and getattr(caps, k) for k, v in spec.capabilities.items()}
            )
        if not caps.vision:
            inputs = tuple(m for m in inputs if m is not Modality.IMAGE)
        return ModelInfo(
            provider=self.name,
            provider_type=self.type,
            id=spec.id,
            capabilities=caps,
            display_name=spec.display_name,
            input_modalities=inputs,
            output_modalities=outputs,
            context_window=spec.context_window,
            max_output_tokens=spec.max_output_tokens,
            embedding_dimensions=spec.embedding_dimensions,
        )

    def infer_kind(self, model_id: str) -> str:
        """The kind of an unlisted model, guessed from its id."""
        return "embedding" if "embed" in model_id.lower() else "chat"

    def model_info(self, model_id: str) -> ModelInfo | None:
        info = self._models.get(model_id)
        if info is None and self.allow_unlisted_models and model_id:
            info = self.build_model_info(ModelSpec(model_id, kind=self.infer_kind(model_id)))
        return info

    def listed_models(self) -> Sequence[ModelInfo]:
        return list(self._models.values())

    def add_discovered(self, infos: Sequence[ModelInfo]) -> None:
        for info in infos:
            self._models.setdefault(info.id, info)

    async def refresh_models(self) -> None:
        return None

    # --- operations: refused unless the adapter overrides them -------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        raise UnsupportedOperation(self.name, "chat")

    def stream_reads(self, request: ChatRequest, ctx: CallContext
                     ) -> AsyncIterator[list[StreamEvent]]:
        raise UnsupportedOperation(self.name, "streaming chat")

    def stream(self, request: ChatRequest, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        return flatten(self.stream_reads(request, ctx))

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        raise UnsupportedOperation(self.name, "embeddings")

    async def complete(self, request: CompletionRequest, ctx: CallContext) -> CompletionResponse:
        raise UnsupportedOperation(self.name, "text completion")

    def stream_complete(
        self, request: CompletionRequest, ctx: CallContext
    ) -> AsyncIterator[CompletionEvent]:
        raise UnsupportedOperation(self.name, "streaming text completion")

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        raise UnsupportedOperation(self.name, "token counting")

    def pull_model(self, model: str, insecure: bool) -> AsyncIterator[PullProgress]:
        raise UnsupportedOperation(self.name, "model pull")

    async def show_model(self, model: str) -> LocalModelDetails:
        raise UnsupportedOperation(self.name, "model show")

    async def delete_model(self, model: str) -> None:
        raise UnsupportedOperation(self.name, "model delete")

    async def check_health(self) -> HealthReport:
        return HealthReport(ok=True)

    # --- shared plumbing ----------------------------------------------------

    def options(self, provider_options: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The pass-through fields that apply here: the family's object, then
        the type's, then the configured name's (later keys win)."""
        merged: dict[str, Any] = {}
        for key in dict.fromkeys(k for k in (self.family, self.type, self.name) if k):
            self.merge_options(merged, provider_options.get(key, {}))
        return merged

    async def count_at(self, path: str, ctx: CallContext, body: Any, *, field: str,
                       detail: str, method: CountMethod = CountMethod.PROVIDER_ENDPOINT
                       ) -> TokenCount:
        """A count from the provider's own endpoint: `body` POSTed to `path`,
        the reply's integer `field` is the count (never a guess: a reply
        without it is a protocol error)."""
        response = await self.client.post_json(path, ctx, body)
        tokens = response.body.get(field) if isinstance(response.body, dict) else None
        if not isinstance(tokens, int) or isinstance(tokens, bool):
            raise UpstreamProtocolError(f"the token count response has no {field}",
                                        provider=self.name, model=ctx.model)
        return TokenCount(tokens, method, detail, model=ctx.model)

    @staticmethod
    def merge_options(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
        """Member by member (ProviderOptions in common.proto)."""
        into.update(extra)

    def secrets(self) -> Sequence[str]:
        return self.client.secrets if self.client is not None else ()

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
