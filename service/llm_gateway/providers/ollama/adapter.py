"""The adapter for Ollama's native API (`type: ollama`): chat, embeddings,
model discovery and local model management (pull, show, delete). Transport
only: the wire formats are in chat_codec.py, embed_codec.py and
models_codec.py; error mapping in errors.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from ...core.embeddings import EmbedRequest, EmbedResponse
from ...core.errors import UpstreamError, UpstreamProtocolError
from ...core.events import StreamEvent
from ...core.local_models import LocalModelDetails, PullProgress
from ...core.models import Capabilities, Modality
from ...core.types import ChatRequest, ChatResponse
from ..base import CallContext, HealthReport, ModelSpec, ProviderBase
from ..http.client import UpstreamClient, parse_json
from ..http.errors import request_id
from ..http.ndjson import iter_ndjson
from ..reads import decode_reads, each
from .chat_codec import ChatStreamDecoder, decode_chat, encode_chat
from .config import OllamaConfig
from .embed_codec import decode_embed, encode_embed
from .errors import ollama_problem, stream_error
from .models_codec import (
    PULL_DONE_STATUS,
    decode_progress,
    decode_show,
    encode_pull,
    model_names,
    model_spec,
)

# /api/show calls in flight at once during discovery (each reads model
# metadata from disk on the server).
SHOW_CONCURRENCY = 8


class OllamaProvider(ProviderBase):
    type = "ollama"
    # Per-model limits come from /api/show when models are discovered.
    chat_capabilities = Capabilities(chat=True, streaming=True, tools=True,
                                     parallel_tool_calls=True, vision=True,
                                     structured_output=True, reasoning=True)
    embedding_capabilities = Capabilities(embeddings=True)
    chat_input_modalities = (Modality.TEXT, Modality.IMAGE)

    def __init__(self, name: str, config: OllamaConfig, models: Sequence[ModelSpec]) -> None:
        super().__init__(name, models, allow_unlisted_models=config.allow_unlisted_models)
        self.discover = config.discover_models
        headers = ({"authorization": f"Bearer {config.api_key.get_secret_value()}"}
                   if config.api_key is not None else {})
        self.client = UpstreamClient.from_config(name, config, headers, problem=ollama_problem)




    def _expect_object(self, body: Any, what: str, model: str) -> Mapping[str, Any]:
        if not isinstance(body, dict):
            raise UpstreamProtocolError(f"{what} is not a JSON object", provider=self.name,
                                        model=model)
        return body

    def _line(self, raw: bytes, headers: Mapping[str, str], model: str) -> Mapping[str, Any]:
        """One NDJSON line's object; an `error` line raises the error it stands for."""
        line = self._expect_object(parse_json(raw, self.name, model), "a stream line", model)
        if line.get("error"):
            raise stream_error(line, provider=self.name, model=model, headers=headers,
                               secrets=self.client.secrets)
        return line

    async def _ndjson(self, chunks: AsyncIterator[bytes], headers: Mapping[str, str],
                      model: str) -> AsyncIterator[Mapping[str, Any]]:
        """The objects of an NDJSON body, each as its line completes."""
        async with aclosing(iter_ndjson(chunks)) as reads:
            async for lines in reads:
                for raw in lines:
                    yield self._line(raw, headers, model)

    # --- chat ---------------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        body = encode_chat(request, ctx.model, self.name, stream=False,
                           options=self.options(request.provider_options))
        response = await self.client.post_json("/api/chat", ctx, body)
        answer = self._expect_object(response.body, "the response", ctx.model)
        if not answer.get("done"):
            raise UpstreamProtocolError("the response is not complete (done is not true)",
                                        provider=self.name, model=ctx.model)
        return decode_chat(answer, response.request_id)

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        body = encode_chat(request, ctx.model, self.name, stream=True,
                           options=self.options(request.provider_options))
        async with self.client.stream("POST", "/api/chat", ctx, json=body) as (headers,
                                                                               chunks):
            decoder = ChatStreamDecoder(request_id(headers))

            def step(raw: bytes, out: list[StreamEvent]) -> bool:
                out.extend(decoder.feed(self._line(raw, headers, ctx.model)))
                return decoder.finished

            async for events in decode_reads(iter_ndjson(chunks), each(step),
                                             provider=self.name, model=ctx.model):
                yield events
            if not decoder.finished:
                raise UpstreamProtocolError("the stream ended before its done line",
                                            provider=self.name, model=ctx.model)

    # --- embeddings -------------------------------------------------------------------

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        body = encode_embed(request, ctx.model, self.name, self.options(request.provider_options))
        response = await self.client.post_json("/api/embed", ctx, body)
        answer = self._expect_object(response.body, "the response", ctx.model)
        return decode_embed(answer, len(request.inputs), self.name, ctx.model)

    # --- models ------------------------------------------------------------------------

    async def refresh_models(self) -> None:
        if not self.discover:
            return
        tags = await self.client.get_json("/api/tags", CallContext(model=""))
        names = model_names(tags.body)
        limit = asyncio.Semaphore(SHOW_CONCURRENCY)

        async def spec(name: str) -> ModelSpec:
            async with limit:
                try:
                    show = await self._show(name)
                except UpstreamError:
                    # Still listed (the server has it), with the adapter's
                    # capabilities for its guessed kind.
                    return ModelSpec(name, kind=self.infer_kind(name))
            return model_spec(name, show, self.infer_kind(name))

        specs = await asyncio.gather(*(spec(n) for n in names))
        self.add_discovered([self.build_model_info(s) for s in specs])

    async def _show(self, model: str) -> Mapping[str, Any]:
        response = await self.client.post_json("/api/show", CallContext(model=model),
                                               {"model": model})
        return self._expect_object(response.body, "the model details", model)

    async def check_health(self) -> HealthReport:
        try:
            await self.client.get_json("/api/version", CallContext(model=""))
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)

    # --- local model management -------------------------------------------------------

    async def pull_model(self, model: str, insecure: bool) -> AsyncIterator[PullProgress]:
        ctx = CallContext(model=model)
        async with self.client.stream("POST", "/api/pull", ctx,
                                      json=encode_pull(model, insecure)) as (headers,
                                                                             chunks):
            async with aclosing(self._ndjson(chunks, headers, model)) as lines:
                async for line in lines:
                    progress = decode_progress(line)
                    yield progress
                    if progress.status == PULL_DONE_STATUS:
                        return
            raise UpstreamProtocolError("the pull ended before it reported success",
                                        provider=self.name, model=model)

    async def show_model(self, model: str) -> LocalModelDetails:
        return decode_show(await self._show(model))

    async def delete_model(self, model: str) -> None:
        await self.client.request_json("DELETE", "/api/delete", CallContext(model=model),
                                       json={"model": model})


def from_config(name: str, config: OllamaConfig, models: Sequence[ModelSpec]) -> OllamaProvider:
    return OllamaProvider(name, config, models)
