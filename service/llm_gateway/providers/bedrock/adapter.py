"""The Amazon Bedrock adapter. Transport only: the wire formats are in
converse_codec.py, converse_stream.py, embed_codec.py and catalog_codec.py,
the framing in eventstream.py, the signing in signing.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

import orjson
from botocore.credentials import Credentials

from ...core.embeddings import EmbedRequest, EmbedResponse
from ...core.errors import UpstreamError, UpstreamProtocolError
from ...core.events import StreamEvent
from ...core.models import Capabilities, Modality, ModelInfo
from ...core.tokens import TokenCount
from ...core.types import ChatRequest, ChatResponse, Usage
from ..base import CallContext, HealthReport, ModelSpec, ProviderBase
from ..http.client import ErrorContext, UpstreamClient, parse_json
from ..http.errors import request_id
from ..reads import decode_reads, each
from .catalog_codec import FoundationModel, decode_models
from .config import BedrockConfig
from .converse_codec import decode_converse, encode_converse, encode_count_tokens, model_path
from .converse_stream import ConverseStreamDecoder
from .credentials import AwsCredentials
from .embed_codec import EmbedCall, decode_call, join, plan
from .errors import bedrock_error, error_type, stream_exception
from .eventstream import Frame, iter_frames
from .signing import SigV4

T = TypeVar("T")

# Bedrock reports InvokeModel token counts in this header (the Cohere Embed
# body has none).
INPUT_TOKENS_HEADER = "x-amzn-bedrock-input-token-count"


def bedrock_errors(status: int, body: Any, headers: Mapping[str, str], ctx: ErrorContext
                   ) -> UpstreamError:
    """Bedrock names its error in the x-amzn-errortype header."""
    return bedrock_error(status, error_type(headers), body, provider=ctx.provider,
                         model=ctx.model, headers=headers, secrets=ctx.secrets)


class BedrockProvider(ProviderBase):
    type = "bedrock"
    chat_capabilities = Capabilities(
        chat=True, streaming=True, tools=True, parallel_tool_calls=True, vision=True,
        structured_output=True, reasoning=True, token_counting=True)
    embedding_capabilities = Capabilities(embeddings=True)
    chat_input_modalities = (Modality.TEXT, Modality.IMAGE)

    def __init__(self, name: str, config: BedrockConfig, models: Sequence[ModelSpec]) -> None:
        super().__init__(name, models, allow_unlisted_models=config.allow_unlisted_models)
        self.discover = config.discover_models
        self._models_url = f"{config.control_base_url}/foundation-models"
        self._concurrency = config.embedding_concurrency
        self._credentials: AwsCredentials | None = None
        headers: dict[str, str] = {}
        auth: SigV4 | None = None
        if config.bearer_token is not None:
            headers["authorization"] = f"Bearer {config.bearer_token.get_secret_value()}"
        else:
            static = None
            if config.access_key_id is not None and config.secret_access_key is not None:
                static = Credentials(
                    config.access_key_id.get_secret_value(),
                    config.secret_access_key.get_secret_value(),
                    config.session_token.get_secret_value() if config.session_token else None)
            self._credentials = AwsCredentials(name, static=static, profile=config.profile)
            auth = SigV4(self._credentials, config.region)
        self.client = UpstreamClient.from_config(name, config, headers, auth=auth,
                                                 errors=bedrock_errors)

    # --- helpers -----------------------------------------------------------------


    def secrets(self) -> Sequence[str]:
        resolved = self._credentials.secret_values() if self._credentials else []
        return (*self.client.secrets, *resolved)


    # --- chat ------------------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        body = encode_converse(request, ctx.model, self.name,
                               self.options(request.provider_options))
        response = await self.client.post_json(model_path(ctx.model, "converse"), ctx, body)
        if not isinstance(response.body, dict) or not isinstance(response.body.get("output"),
                                                                 dict):
            raise UpstreamProtocolError("the response has no output", provider=self.name,
                                        model=ctx.model)
        return decode_converse(response.body, ctx.model, response.request_id)

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        body = encode_converse(request, ctx.model, self.name,
                               self.options(request.provider_options))
        async with self.client.stream("POST", model_path(ctx.model, "converse-stream"), ctx,
                                      json=body) as (headers, chunks):
            decoder = ConverseStreamDecoder(ctx.model, request_id(headers), self.name)

            def step(frame: Frame, out: list[StreamEvent]) -> bool:
                if frame.message_type != "event":
                    raise self._frame_error(frame, ctx, headers)
                payload = parse_json(frame.payload, self.name, ctx.model)
                if not isinstance(payload, dict):
                    raise UpstreamProtocolError(f"the {frame.kind} event is not an object",
                                                provider=self.name, model=ctx.model)
                out.extend(decoder.feed(frame.kind, payload))
                return False

            frames = iter_frames(chunks, self.name, ctx.model)
            async for events in decode_reads(frames, each(step),
                                             provider=self.name, model=ctx.model):
                yield events
            yield decoder.finish()

    def _frame_error(self, frame: Frame, ctx: CallContext,
                     headers: Mapping[str, str]) -> UpstreamError:
        common: dict[str, Any] = {"provider": self.name, "model": ctx.model,
                                  "headers": headers, "secrets": self.client.secrets}
        if frame.message_type == "exception":
            return stream_exception(frame.kind, _json_or_text(frame.payload), **common)
        # A service error frame: `:error-code` and `:error-message` headers.
        return bedrock_error(500, frame.kind, {"message": frame.error_message}, **common)

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        body = encode_count_tokens(request, ctx.model, self.name,
                                   self.options(request.provider_options))
        return await self.count_at(model_path(ctx.model, "count-tokens"), ctx, body,
                                   field="inputTokens", detail="Bedrock Runtime CountTokens")

    # --- embeddings ----------------------------------------------------------------------

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        calls = plan(request, ctx.model, self.name, self.options(request.provider_options))
        path = model_path(ctx.model, "invoke")

        async def invoke(call: EmbedCall) -> tuple[list[tuple[float, ...]], int]:
            response = await self.client.post_json(path, ctx, call.body,
                                                   headers={"accept": "application/json"})
            vectors, tokens = decode_call(response.body, call, self.name, ctx.model)
            if tokens is None:
                tokens = _int_header(response.headers, INPUT_TOKENS_HEADER)
            return vectors, tokens

        results = await bounded_gather([partial(invoke, c) for c in calls], self._concurrency)
        return EmbedResponse(model=ctx.model, vectors=join([r[0] for r in results]),
                             usage=Usage(input_tokens=sum(r[1] for r in results)))

    # --- models --------------------------------------------------------------------------

    async def refresh_models(self) -> None:
        if not self.discover:
            return
        response = await self.client.get_json(self._models_url, CallContext(model=""))
        body = response.body if isinstance(response.body, dict) else {}
        infos = [info for m in decode_models(body) if (info := self._model_info(m))]
        self.add_discovered(infos)

    def _model_info(self, model: FoundationModel) -> ModelInfo | None:
        kind = model.kind
        if kind is None:
            return None
        overrides = None
        if kind == "chat":
            overrides = {"streaming": model.streaming, "vision": Modality.IMAGE in model.inputs}
        info = self.build_model_info(ModelSpec(model.id, kind=kind, display_name=model.name,
                                               capabilities=overrides,
                                               input_modalities=model.inputs or None))
        extra = {"provider_name": model.provider_name}
        if model.inference_types:
            extra["inference_types"] = ",".join(model.inference_types)
        return replace(info, extra=extra)

    async def check_health(self) -> HealthReport:
        try:
            await self.client.get_json(self._models_url, CallContext(model=""))
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)


async def bounded_gather(calls: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Runs the calls with at most `limit` in flight; results in call order.
    The first failure cancels the rest and propagates unchanged."""
    semaphore = asyncio.Semaphore(limit)

    async def run(call: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await call()

    tasks = [asyncio.ensure_future(run(call)) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _json_or_text(data: bytes) -> Any:
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        return data.decode("utf-8", errors="replace")


def _int_header(headers: Mapping[str, str], name: str) -> int:
    try:
        return int(headers.get(name) or 0)
    except ValueError:
        return 0


def from_config(name: str, config: BedrockConfig, models: Sequence[ModelSpec]
                ) -> BedrockProvider:
    return BedrockProvider(name, config, models)


def from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The embedded default: a region and some credentials in the environment.
    Keys and profiles are read by botocore's chain at call time; only the
    Bedrock API key is copied into the settings."""
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    token = env.get("AWS_BEARER_TOKEN_BEDROCK")
    if not region or not (token or env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE")):
        return None
    settings: dict[str, Any] = {"type": "bedrock", "region": region}
    if token:
        settings["bearer_token"] = token
    return settings
