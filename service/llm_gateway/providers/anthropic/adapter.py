"""The adapter for Anthropic's Messages API. Transport only: the wire format
is in messages_codec.py (requests), response_codec.py, stream_codec.py,
models_codec.py and errors.py.

POST /v1/messages (unary and `stream: true` SSE), POST
/v1/messages/count_tokens, GET /v1/models (paged), with the `x-api-key` and
`anthropic-version` headers (https://platform.claude.com/docs/en/api/overview).
"""

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
from ..reads import decode_reads, each
from .config import AnthropicConfig
from .errors import anthropic_problem, stream_error_status
from .messages_codec import EncodeSettings, encode_count_tokens, encode_request
from .models_codec import COUNT_TOKENS_PATH, decode_model_page
from .response_codec import decode_message
from .stream_codec import MessagesStreamDecoder
from .thinking import ThinkingSettings, effort_budgets

MESSAGES_PATH = "/v1/messages"
MODELS_PATH = "/v1/models"
MODELS_PAGE_LIMIT = "1000"  # the largest page Anthropic serves


class AnthropicProvider(ProviderBase):
    type = "anthropic"
    chat_capabilities = Capabilities(
        chat=True, streaming=True, tools=True, parallel_tool_calls=True, vision=True,
        structured_output=True, reasoning=True, token_counting=True)
    chat_input_modalities = (Modality.TEXT, Modality.IMAGE)

    def __init__(self, name: str, config: AnthropicConfig, models: Sequence[ModelSpec]) -> None:
        super().__init__(name, models, allow_unlisted_models=config.allow_unlisted_models)
        self.discover = config.discover_models
        self.settings = EncodeSettings(
            provider=name, provider_type=self.type,
            default_max_tokens=config.default_max_tokens,
            thinking=ThinkingSettings(config.effort_mode,
                                      effort_budgets(config.effort_budget_tokens)))
        assert config.api_key is not None  # the config requires it
        headers = {"x-api-key": config.api_key.get_secret_value(),
                   "anthropic-version": config.anthropic_version}
        if config.beta:
            headers["anthropic-beta"] = ",".join(config.beta)
        self.client = UpstreamClient.from_config(name, config, headers,
                                                 problem=anthropic_problem)

    def infer_kind(self, model_id: str) -> str:
        return "chat"  # Anthropic serves no embedding models




    # --- chat -----------------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        body = encode_request(request, ctx.model, self.settings, stream=False,
                              options=self.options(request.provider_options))
        response = await self.client.post_json(MESSAGES_PATH, ctx, body)
        if not isinstance(response.body, dict) or not isinstance(
                response.body.get("content"), list):
            raise UpstreamProtocolError("the response is not a message", provider=self.name,
                                        model=ctx.model)
        return decode_message(response.body, self.type, response.request_id)

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        body = encode_request(request, ctx.model, self.settings, stream=True,
                              options=self.options(request.provider_options))
        async with self.client.stream("POST", MESSAGES_PATH, ctx, json=body) as (headers,
                                                                                 chunks):
            decoder = MessagesStreamDecoder(request_id(headers), provider=self.name,
                                            model=ctx.model, provider_type=self.type)

            def step(sse: ServerSentEvent, out: list[StreamEvent]) -> bool:
                event = parse_json(sse.data, self.name, ctx.model)
                if not isinstance(event, dict):
                    raise UpstreamProtocolError("a stream event is not an object",
                                                provider=self.name, model=ctx.model)
                if event.get("type") == "error":
                    raise self._stream_error(event, ctx, headers)
                out.extend(decoder.feed(event))
                return decoder.finished  # message_stop: nothing may follow

            async for events in decode_reads(iter_sse(chunks), each(step),
                                             provider=self.name, model=ctx.model):
                yield events
            if not decoder.finished:
                raise UpstreamProtocolError("the stream ended before message_stop",
                                            provider=self.name, model=ctx.model)

    def _stream_error(self, event: Mapping[str, Any], ctx: CallContext,
                      headers: Mapping[str, str]) -> UpstreamError:
        """An error after HTTP 200: mapped as the status it stands for."""
        problem = anthropic_problem(500, event)
        return to_error(stream_error_status(problem), problem, provider=self.name,
                        model=ctx.model, headers=headers, secrets=self.client.secrets)

    # --- token counting ---------------------------------------------------------------

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        body = encode_count_tokens(request, ctx.model, self.settings,
                                   self.options(request.provider_options))
        return await self.count_at(COUNT_TOKENS_PATH, ctx, body, field="input_tokens",
                                   detail=f"anthropic:{COUNT_TOKENS_PATH}")

    # --- models --------------------------------------------------------------------------

    async def refresh_models(self) -> None:
        if not self.discover:
            return
        specs: list[ModelSpec] = []
        seen: set[str] = set()
        params = {"limit": MODELS_PAGE_LIMIT}
        while True:
            response = await self.client.get_json(MODELS_PATH, CallContext(model=""),
                                                  params=params)
            if not isinstance(response.body, dict):
                raise UpstreamProtocolError("the model list is not an object",
                                            provider=self.name)
            page = decode_model_page(response.body)
            specs.extend(page.models)
            if not page.has_more:
                break
            if not page.last_id or page.last_id in seen:
                raise UpstreamProtocolError("the model list's cursor does not advance",
                                            provider=self.name)
            seen.add(page.last_id)
            params = {"limit": MODELS_PAGE_LIMIT, "after_id": page.last_id}
        self.add_discovered([self.build_model_info(spec) for spec in specs])

    async def check_health(self) -> HealthReport:
        try:
            await self.client.get_json(MODELS_PATH, CallContext(model=""),
                                       params={"limit": "1"})
        except UpstreamError as exc:
            return HealthReport(False, exc.message)
        return HealthReport(True)


def from_config(name: str, config: AnthropicConfig,
                models: Sequence[ModelSpec]) -> AnthropicProvider:
    return AnthropicProvider(name, config, models)


def from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The embedded default's settings when ANTHROPIC_API_KEY is set."""
    key = env.get("ANTHROPIC_API_KEY")
    if not key:
        return None
    settings: dict[str, Any] = {"type": "anthropic", "api_key": key}
    if env.get("ANTHROPIC_BASE_URL"):
        settings["base_url"] = env["ANTHROPIC_BASE_URL"]
    return settings
