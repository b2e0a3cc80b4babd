"""The adapter for OpenAI Chat Completions and every compatible server
(presets.py), and Azure OpenAI. Transport only: the wire format is in
chat_codec.py and embed_codec.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...core.completions import CompletionEvent, CompletionRequest, CompletionResponse
from ...core.embeddings import EmbedRequest, EmbedResponse
from ...core.errors import UpstreamError, UpstreamProtocolError
from ...core.events import StreamEvent
from ...core.models import Capabilities, Modality
from ...core.tokens import CountMethod, TokenCount
from ...core.types import ChatRequest, ChatResponse
from ..base import CallContext, HealthReport, ModelSpec, ProviderBase
from ..http.client import UpstreamClient, default_problem, parse_json, parse_json_all
from ..http.errors import UpstreamProblem, request_id, to_error
from ..http.sse import ServerSentEvent, iter_sse
from ..reads import decode_reads, each, flatten
from .chat_codec import ChatStreamDecoder, decode_chat, encode_chat
from .completion_codec import (
    CompletionStreamDecoder,
    decode_completion,
    encode_completion,
    encode_tokenize,
)
from .config import AzureOpenAIConfig, OpenAIConfig
from .embed_codec import decode_embed, decode_model_ids, encode_embed
from .presets import PRESETS, Preset

# In-stream error types -> the HTTP status they stand for.
_STREAM_ERROR_STATUS = {"rate_limit_exceeded": 429, "rate_limit_error": 429,
                        "server_overloaded": 503, "overloaded_error": 503,
                        "invalid_request_error": 400, "context_length_exceeded": 400}


_Decoder = ChatStreamDecoder | CompletionStreamDecoder


def openai_problem(status: int, body: Any) -> UpstreamProblem:
    problem = default_problem(status, body)
    code = problem.code.lower()
    return replace(problem, context_length="context_length" in code,
                   content_filter="content_filter" in code or "content_policy" in code)


class OpenAIProvider(ProviderBase):
    type = "openai"
    family = "openai"

    def __init__(self, name: str, config: OpenAIConfig | AzureOpenAIConfig,
                 models: Sequence[ModelSpec], preset: Preset | None = None) -> None:
        self.preset = preset or PRESETS[config.type]
        self.type = config.type
        p = self.preset
        self.chat_capabilities, self.embedding_capabilities = _capabilities(p)
        self.chat_input_modalities = ((Modality.TEXT, Modality.IMAGE) if p.vision
                                      else (Modality.TEXT,))
        super().__init__(name, models, allow_unlisted_models=config.allow_unlisted_models)
        self.discover = config.discover_models
        self.client = UpstreamClient.from_config(name, config, self._auth_headers(config),
                                                 problem=openai_problem)
        # vLLM serves /tokenize at the server root, beside /v1.
        self._tokenize_url = config.base_url.removesuffix("/v1") + "/tokenize"

    @classmethod
    def declared_capabilities(cls, provider_type: str) -> tuple[Capabilities, Capabilities]:
        return _capabilities(PRESETS[provider_type])

    # --- what differs for Azure ---------------------------------------------

    def _auth_headers(self, config: OpenAIConfig | AzureOpenAIConfig) -> dict[str, str]:
        if config.api_key is None:
            return {}
        return {"authorization": f"Bearer {config.api_key.get_secret_value()}"}

    def _path(self, endpoint: str, model: str) -> str:
        return f"/{endpoint}"

    def _params(self) -> Mapping[str, str] | None:
        return None

    # --- helpers ---------------------------------------------------------------




    # --- chat -------------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        body = encode_chat(request, ctx.model, self.preset, self.name, stream=False,
                           options=self.options(request.provider_options))
        response = await self.client.post_json(self._path("chat/completions", ctx.model), ctx,
                                               body, params=self._params())
        if not isinstance(response.body, dict) or not response.body.get("choices"):
            raise UpstreamProtocolError("the response has no choices", provider=self.name,
                                        model=ctx.model)
        return decode_chat(response.body, response.request_id)

    def stream_reads(self, request: ChatRequest, ctx: CallContext
                     ) -> AsyncIterator[list[StreamEvent]]:
        body = encode_chat(request, ctx.model, self.preset, self.name, stream=True,
                           options=self.options(request.provider_options))
        return self._stream("chat/completions", body, ctx, ChatStreamDecoder)

    async def _stream(self, endpoint: str, body: dict[str, Any], ctx: CallContext,
                      decoder_type: type[_Decoder]) -> AsyncIterator[list[Any]]:
        """An OpenAI SSE stream through a decoder, a list of events per read:
        an in-stream `error` raised, and `[DONE]` (or a finish) required."""
        async with self.client.stream("POST", self._path(endpoint, ctx.model), ctx,
                                      json=body, params=self._params()) as (headers, chunks):
            decoder = decoder_type(request_id(headers))
            done = False

            def step(event: ServerSentEvent, out: list[Any]) -> bool:
                nonlocal done
                if event.data == "[DONE]":
                    done = True
                    out.extend(decoder.finish())  # with the last read's events
                    return True
                # A chunk that is not an object fails here (`.get`), and
                # decode_reads makes that an UpstreamProtocolError.
                chunk = parse_json(event.data, self.name, ctx.model)
                if chunk.get("error"):
                    raise self._stream_error(chunk, ctx, headers)
                out.extend(decoder.feed(chunk))
                return False

            def read(events: Sequence[ServerSentEvent], out: list[Any]) -> bool:
                # The usual read (chunks, perhaps `[DONE]` last) in one pass:
                # the JSON parsed at once and runs of plain text decoded as
                # one delta. Anything else (malformed JSON, an in-stream error,
                # `[DONE]` before the end: not JSON) goes one event at a time.
                nonlocal done
                datas = [event.data for event in events]
                last = datas[-1] == "[DONE]"
                if last:
                    del datas[-1]
                parsed = parse_json_all(datas)
                if parsed is None or [chunk for chunk in parsed
                                      if chunk.__class__ is not dict or chunk.get("error")]:
                    return each(step)(events, out)
                decoder.feed_all(parsed, out)
                if last:
                    done = True
                    out += decoder.finish()
                return last

            async for events in decode_reads(iter_sse(chunks), read,
                                             provider=self.name, model=ctx.model):
                yield events
            if not done:
                if not decoder.finished:
                    raise UpstreamProtocolError(
                        "the stream ended before the response was complete",
                        provider=self.name, model=ctx.model)
                yield decoder.finish()

    def _stream_error(self, chunk: Mapping[str, Any], ctx: CallContext,
                      headers: Mapping[str, str]) -> UpstreamError:
        problem = openai_problem(500, chunk)
        status = _STREAM_ERROR_STATUS.get(problem.code.lower(), 500)
        return to_error(status, problem, provider=self.name, model=ctx.model, headers=headers,
                        secrets=self.client.secrets)

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        body = encode_tokenize(request, ctx.model, self.preset, self.name)
        return await self.count_at(self._tokenize_url, ctx, body, field="count",
                                   detail=f"{self.type}:/tokenize",
                                   method=CountMethod.PROVIDER_TOKENIZER)

    # --- text completion -------------------------------------------------------------

    async def complete(self, request: CompletionRequest, ctx: CallContext
                       ) -> CompletionResponse:
        body = encode_completion(request, ctx.model, self.preset, self.name, stream=False,
                                 options=self.options(request.provider_options))
        response = await self.client.post_json(self._path("completions", ctx.model), ctx,
                                               body, params=self._params())
        if not isinstance(response.body, dict) or not response.body.get("choices"):
            raise UpstreamProtocolError("the response has no choices", provider=self.name,
                                        model=ctx.model)
        return decode_completion(response.body, response.request_id)

    def stream_complete(self, request: CompletionRequest, ctx: CallContext
                        ) -> AsyncIterator[CompletionEvent]:
        body = encode_completion(request, ctx.model, self.preset, self.name, stream=True,
                                 options=self.options(request.provider_options))
        return flatten(self._stream("completions", body, ctx, CompletionStreamDecoder))

    # --- embeddings ----------------------------------------------------------------

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        body = encode_embed(request, ctx.model, self.name, self.options(request.provider_options))
        response = await self.client.post_json(self._path("embeddings", ctx.model), ctx, body,
                                               params=self._params())
        if not isinstance(response.body, dict):
            raise UpstreamProtocolError("the response is not an object", provider=self.name,
                                        model=ctx.model)
        return decode_embed(response.body, len(request.inputs), self.name, ctx.model)

    # --- models ----------------------------------------------------------------------

    async def refresh_models(self) -> None:
        if not self.discover:
            return
        response = await self.client.get_json(self._path("models", ""), CallContext(model=""),
                                              params=self._params())
        ids = decode_model_ids(response.body if isinstance(response.body, dict) else {})
        self.add_discovered([self.build_model_info(ModelSpec(i, kind=self.infer_kind(i)))
                             for i in ids])

    async def check_health(self) -> HealthReport:
        try:
            await self.client.get_json(self._path("models", ""), CallContext(model=""),
                                       params=self._params())
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)


def _capabilities(p: Preset) -> tuple[Capabilities, Capabilities]:
    chat = Capabilities(
        chat=True, streaming=True, tools=True, parallel_tool_calls=True, vision=p.vision,
        structured_output=True, reasoning=p.reasoning_effort, text_completion=p.completions,
        token_counting=p.tokenize)
    return chat, Capabilities(embeddings=p.embeddings)


AZURE_PRESET = Preset("azure_openai", "Azure OpenAI", "", max_tokens_field="max_completion_tokens",
                      reasoning_effort=True, completions=True)


class AzureOpenAIProvider(OpenAIProvider):
    """Azure OpenAI: deployments in the path, `api-version` in the query, the
    key in the `api-key` header. The Chat Completions wire is OpenAI's."""

    type = "azure_openai"

    def __init__(self, name: str, config: AzureOpenAIConfig,
                 models: Sequence[ModelSpec]) -> None:
        self._deployments = dict(config.deployments)
        self._query = {"api-version": config.api_version}
        super().__init__(name, config, models, preset=AZURE_PRESET)

    @classmethod
    def declared_capabilities(cls, provider_type: str) -> tuple[Capabilities, Capabilities]:
        return _capabilities(AZURE_PRESET)

    def _auth_headers(self, config: OpenAIConfig | AzureOpenAIConfig) -> dict[str, str]:
        return {"api-key": config.api_key.get_secret_value()} if config.api_key else {}

    def _path(self, endpoint: str, model: str) -> str:
        if endpoint == "models":
            return "/openai/models"
        return f"/openai/deployments/{self._deployments.get(model, model)}/{endpoint}"

    def _params(self) -> Mapping[str, str] | None:
        return self._query


def from_config(name: str, config: OpenAIConfig, models: Sequence[ModelSpec]) -> OpenAIProvider:
    return OpenAIProvider(name, config, models)


def azure_from_config(name: str, config: AzureOpenAIConfig,
                      models: Sequence[ModelSpec]) -> AzureOpenAIProvider:
    return AzureOpenAIProvider(name, config, models)
