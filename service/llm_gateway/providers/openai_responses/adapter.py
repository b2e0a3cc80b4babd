"""The adapter for the OpenAI Responses API. Transport only: the wire format
is in responses_codec.py and responses_stream.py. Error bodies are the Chat
Completions ones, read by the OpenAI family's parser."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ...core.errors import UpstreamError, UpstreamProtocolError
from ...core.events import StreamEvent
from ...core.models import Capabilities, Modality
from ...core.tokens import TokenCount
from ...core.types import ChatRequest, ChatResponse
from ..base import CallContext, HealthReport, ModelSpec, ProviderBase
from ..http.client import UpstreamClient, parse_json
from ..http.errors import request_id, to_error
from ..http.sse import ServerSentEvent, iter_sse
from ..openai.adapter import openai_problem
from ..openai.embed_codec import decode_model_ids
from ..reads import decode_reads, each
from .config import TYPE, OpenAIResponsesConfig
from .responses_codec import (
    COUNT_TOKENS_PATH,
    decode_response,
    encode_count_tokens,
    encode_request,
    failure,
)
from .responses_stream import ResponsesStreamDecoder


class OpenAIResponsesProvider(ProviderBase):
    type = TYPE
    chat_capabilities = Capabilities(chat=True, streaming=True, tools=True,
                                     parallel_tool_calls=True, vision=True,
                                     structured_output=True, reasoning=True,
                                     token_counting=True)
    chat_input_modalities = (Modality.TEXT, Modality.IMAGE)

    def __init__(self, name: str, config: OpenAIResponsesConfig,
                 models: Sequence[ModelSpec]) -> None:
        super().__init__(name, models, allow_unlisted_models=config.allow_unlisted_models)
        self.discover = config.discover_models
        headers = ({"authorization": f"Bearer {config.api_key.get_secret_value()}"}
                   if config.api_key is not None else {})
        self.client = UpstreamClient.from_config(name, config, headers, problem=openai_problem)




    # --- chat -------------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        body = encode_request(request, ctx.model, self.name, stream=False,
                              options=self.options(request.provider_options))
        response = await self.client.post_json("/responses", ctx, body)
        if not isinstance(response.body, dict):
            raise UpstreamProtocolError("the response is not an object", provider=self.name,
                                        model=ctx.model)
        failed = failure(response.body)
        if failed is not None:
            raise self._error(failed, ctx, response.headers)
        if not isinstance(response.body.get("output"), list):
            raise UpstreamProtocolError("the response has no output", provider=self.name,
                                        model=ctx.model)
        return decode_response(response.body, response.request_id)

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        body = encode_request(request, ctx.model, self.name, stream=True,
                              options=self.options(request.provider_options))
        async with self.client.stream("POST", "/responses", ctx, json=body) as (headers, chunks):
            decoder = ResponsesStreamDecoder(request_id(headers))

            def step(sse: ServerSentEvent, out: list[StreamEvent]) -> bool:
                event = parse_json(sse.data, self.name, ctx.model)
                if not isinstance(event, dict):
                    raise UpstreamProtocolError("a stream event is not an object",
                                                provider=self.name, model=ctx.model)
                failed = failure(event)
                if failed is not None:
                    raise self._error(failed, ctx, headers)
                out.extend(decoder.feed(event))
                return decoder.finished  # nothing follows the terminal event

            async for events in decode_reads(iter_sse(chunks), each(step),
                                             provider=self.name, model=ctx.model):
                yield events
            if not decoder.finished:
                raise UpstreamProtocolError("the stream ended before the response was complete",
                                            provider=self.name, model=ctx.model)

    # --- token counting ---------------------------------------------------------------

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        body = encode_count_tokens(request, ctx.model, self.name,
                                   self.options(request.provider_options))
        return await self.count_at(COUNT_TOKENS_PATH, ctx, body, field="input_tokens",
                                   detail=f"{self.type}:{COUNT_TOKENS_PATH}")

    def _error(self, failed: tuple[int, Mapping[str, Any]], ctx: CallContext,
               headers: Mapping[str, str]) -> UpstreamError:
        status, error = failed
        return to_error(status, openai_problem(status, error), provider=self.name,
                        model=ctx.model, headers=headers, secrets=self.client.secrets)

    # --- models -------------------------------------------------------------------

    async def refresh_models(self) -> None:
        if not self.discover:
            return
        response = await self.client.get_json("/models", CallContext(model=""))
        ids = decode_model_ids(response.body if isinstance(response.body, dict) else {})
        # /models lists every model of the account; only chat models are
        # served here (embeddings are the `openai` preset's).
        self.add_discovered([self.build_model_info(ModelSpec(i)) for i in ids
                             if self.infer_kind(i) == "chat"])

    async def check_health(self) -> HealthReport:
        try:
            await self.client.get_json("/models", CallContext(model=""))
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)


def from_config(name: str, config: OpenAIResponsesConfig,
                models: Sequence[ModelSpec]) -> OpenAIResponsesProvider:
    return OpenAIResponsesProvider(name, config, models)
