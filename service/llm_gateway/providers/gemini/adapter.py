"""The adapters for the Gemini API (AI Studio, type `gemini`) and Vertex AI
(type `vertex`). Transport only: the wire format is in chat_codec.py,
response_codec.py and embed_codec.py; errors in errors.py; Vertex tokens in
auth.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ...core.embeddings import EmbedRequest, EmbedResponse
from ...core.errors import UpstreamError, UpstreamProtocolError
from ...core.events import StreamEvent
from ...core.models import Capabilities, Modality, ModelInfo
from ...core.tokens import CountMethod, TokenCount
from ...core.types import ChatRequest, ChatResponse, Usage
from ..base import CallContext, HealthReport, ModelSpec, ProviderBase
from ..http.client import UpstreamClient, UpstreamResponse, parse_json
from ..http.errors import request_id
from ..http.sse import ServerSentEvent, iter_sse
from ..http.transport import RequestAuth
from ..reads import decode_reads, each
from .auth import BearerAuth, GoogleTokens
from .chat_codec import FAMILY, encode_chat, merge_options
from .config import GeminiConfig, VertexConfig
from .embed_codec import (
    GEMINI_BATCH_LIMIT,
    ListedModel,
    batch_request,
    batches,
    decode_embed_batch,
    decode_embed_one,
    decode_models,
    decode_token_count,
    decode_vertex_predict,
    embed_request,
    normalized,
    vertex_batch_limit,
    vertex_predict_request,
)
from .errors import google_errors, to_google_error
from .response_codec import ChatStreamDecoder, decode_chat

# Vertex's CountTokensRequest takes only these of a generateContent body.
_VERTEX_COUNT_FIELDS = ("contents", "systemInstruction", "tools", "generationConfig")
_MAX_MODEL_PAGES = 100
TOKEN_METHOD = "gemini:countTokens"


class GeminiProvider(ProviderBase):
    type = "gemini"
    family = FAMILY
    chat_capabilities = Capabilities(
        chat=True, streaming=True, tools=True, parallel_tool_calls=True, vision=True,
        structured_output=True, reasoning=True, token_counting=True)
    embedding_capabilities = Capabilities(embeddings=True)
    chat_input_modalities = (Modality.TEXT, Modality.IMAGE)

    def __init__(self, name: str, config: GeminiConfig | VertexConfig,
                 models: Sequence[ModelSpec]) -> None:
        super().__init__(name, models, allow_unlisted_models=config.allow_unlisted_models)
        self.discover = config.discover_models
        headers, auth = self._auth(config)
        self.client = UpstreamClient.from_config(name, config, headers, auth=auth,
                                                 errors=google_errors)

    # --- what differs for Vertex --------------------------------------------------

    def _auth(self, config: Any) -> tuple[dict[str, str], RequestAuth | None]:
        # A header, never the `key` query parameter: URLs end up in logs.
        return {"x-goog-api-key": config.api_key.get_secret_value()}, None

    def _resource(self, model: str) -> str:
        # A model id with a slash is a resource name (tunedModels/...).
        return model if "/" in model else f"models/{model}"

    def _path(self, model: str, method: str) -> str:
        return f"/{self._resource(model)}:{method}"

    # --- helpers -------------------------------------------------------------------

    @staticmethod
    def merge_options(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
        # Nested objects (generationConfig, ...) merge instead of replacing.
        merge_options(into, extra)

    async def _post(self, path: str, ctx: CallContext, body: Any) -> UpstreamResponse:
        response = await self.client.post_json(path, ctx, body)
        if not isinstance(response.body, dict):
            raise UpstreamProtocolError("the response is not a JSON object",
                                        provider=self.name, model=ctx.model)
        return response

    # --- chat ------------------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        body = encode_chat(request, self.name, self.options(request.provider_options),
                           model=ctx.model)
        response = await self._post(self._path(ctx.model, "generateContent"), ctx, body)
        return decode_chat(response.body, provider=self.name, model=ctx.model,
                           upstream_request_id=response.request_id)

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        body = encode_chat(request, self.name, self.options(request.provider_options),
                           model=ctx.model)
        async with self.client.stream("POST", self._path(ctx.model, "streamGenerateContent"),
                                      ctx, json=body, params={"alt": "sse"}
                                      ) as (headers, chunks):
            decoder = ChatStreamDecoder(self.name, ctx.model, request_id(headers))

            def step(event: ServerSentEvent, out: list[StreamEvent]) -> bool:
                chunk = parse_json(event.data, self.name, ctx.model)
                if not isinstance(chunk, dict):
                    raise UpstreamProtocolError("a stream event is not a JSON object",
                                                provider=self.name, model=ctx.model)
                if chunk.get("error"):
                    raise to_google_error(200, chunk, provider=self.name, model=ctx.model,
                                          headers=headers, secrets=tuple(self.secrets()))
                out.extend(decoder.feed(chunk))
                return False

            async for events in decode_reads(iter_sse(chunks), each(step),
                                             provider=self.name, model=ctx.model):
                yield events
            # No terminator: EOF ends the stream (finish() checks it was complete).
            yield decoder.finish()

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        body = self._count_body(request, ctx.model)
        response = await self._post(self._path(ctx.model, "countTokens"), ctx, body)
        return TokenCount(decode_token_count(response.body, self.name, ctx.model),
                          CountMethod.PROVIDER_ENDPOINT, TOKEN_METHOD, model=ctx.model)

    def _count_body(self, request: ChatRequest, model: str) -> dict[str, Any]:
        # The whole request (system, tools, config) counts: the
        # generateContentRequest form, which names the model again.
        generate = encode_chat(request, self.name, self.options(request.provider_options),
                               model=model)
        return {"generateContentRequest": {"model": self._resource(model), **generate}}

    # --- embeddings ---------------------------------------------------------------------

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        options = self.options(request.provider_options)
        vectors: list[list[float]] = []
        if len(request.inputs) == 1:
            body = embed_request(request.inputs[0], request, self.name)
            merge_options(body, options)
            response = await self._post(self._path(ctx.model, "embedContent"), ctx, body)
            vectors.append(decode_embed_one(response.body, self.name, ctx.model))
        else:
            # Batches in order, one after the other: the documented limit is
            # per call, and the vectors come back in request order.
            for _, texts in batches(request.inputs, GEMINI_BATCH_LIMIT):
                body = batch_request(texts, request, ctx.model, self.name)
                for entry in body["requests"]:
                    merge_options(entry, options)
                response = await self._post(self._path(ctx.model, "batchEmbedContents"),
                                            ctx, body)
                vectors.extend(decode_embed_batch(response.body, len(texts), self.name,
                                                  ctx.model))
        # (embedContent reports no token usage)
        return _embed_response(request, ctx.model, vectors, 0)

    # --- models ------------------------------------------------------------------------

    async def refresh_models(self) -> None:
        if not self.discover:
            return
        listed: list[ListedModel] = []
        token = ""
        for _ in range(_MAX_MODEL_PAGES):
            params = {"pageSize": "1000", **({"pageToken": token} if token else {})}
            response = await self.client.get_json("/models", CallContext(model=""),
                                                  params=params)
            page, token = decode_models(response.body if isinstance(response.body, dict)
                                        else {})
            listed.extend(page)
            if not token:
                break
        self.add_discovered([self._listed_info(m) for m in listed])

    def _listed_info(self, model: ListedModel) -> ModelInfo:
        narrowed = None if model.counts_tokens or model.kind != "chat" else \
            {"token_counting": False}
        return self.build_model_info(ModelSpec(
            model.id, kind=model.kind, display_name=model.display_name,
            context_window=model.context_window, max_output_tokens=model.max_output_tokens,
            capabilities=narrowed))

    async def check_health(self) -> HealthReport:
        try:
            await self.client.get_json("/models", CallContext(model=""),
                                       params={"pageSize": "1"})
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)


def _embed_response(request: EmbedRequest, model: str, vectors: list[list[float]],
                    tokens: int) -> EmbedResponse:
    out = tuple(normalized(v) if request.normalize else tuple(v) for v in vectors)
    return EmbedResponse(model=model, vectors=out, usage=Usage(input_tokens=tokens))


class VertexProvider(GeminiProvider):
    """Vertex AI: the same generateContent wire under
    /projects/{project}/locations/{location}/publishers/google/models/{model},
    a bearer token from google-auth, and text embeddings through `predict`."""

    type = "vertex"

    def __init__(self, name: str, config: VertexConfig, models: Sequence[ModelSpec]) -> None:
        self._prefix = f"projects/{config.project}/locations/{config.location}"
        self.tokens = GoogleTokens(name, config.credentials_file)
        super().__init__(name, config, models)

    def _auth(self, config: Any) -> tuple[dict[str, str], RequestAuth | None]:
        return {}, BearerAuth(self.tokens)

    def _resource(self, model: str) -> str:
        # A model id with a slash is a resource under the location
        # (endpoints/123 for a tuned model's endpoint).
        name = model if "/" in model else f"publishers/google/models/{model}"
        return f"{self._prefix}/{name}"

    def _count_body(self, request: ChatRequest, model: str) -> dict[str, Any]:
        generate = encode_chat(request, self.name, self.options(request.provider_options),
                               model=model)
        return {k: v for k, v in generate.items() if k in _VERTEX_COUNT_FIELDS}

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        options = self.options(request.provider_options)
        vectors: list[list[float]] = []
        tokens = 0
        for _, texts in batches(request.inputs, vertex_batch_limit(ctx.model)):
            body = vertex_predict_request(texts, request, self.name)
            merge_options(body, options)
            response = await self._post(self._path(ctx.model, "predict"), ctx, body)
            got, counted = decode_vertex_predict(response.body, len(texts), self.name,
                                                 ctx.model)
            vectors.extend(got)
            tokens += counted
        return _embed_response(request, ctx.model, vectors, tokens)

    async def refresh_models(self) -> None:
        return None  # the configuration refuses discover_models for Vertex

    async def check_health(self) -> HealthReport:
        try:
            await self.tokens.token()
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)

    def secrets(self) -> Sequence[str]:
        current = self.tokens.current
        return (*self.client.secrets, current) if current else self.client.secrets

    async def aclose(self) -> None:
        await super().aclose()
        self.tokens.close()


def from_config(name: str, config: GeminiConfig, models: Sequence[ModelSpec]) -> GeminiProvider:
    return GeminiProvider(name, config, models)


def vertex_from_config(name: str, config: VertexConfig,
                       models: Sequence[ModelSpec]) -> VertexProvider:
    return VertexProvider(name, config, models)
