"""The built-in `echo` provider: deterministic, offline, always configured.

It exists for smoke tests and client development: every feature of the
contract works against it without an upstream. Its rules (see docs/echo.md):

- Text: the reply is the text of the last user message.
- Tools: with tool choice REQUIRED it calls every declared tool (only the
  first when parallel_tool_calls is false); with a named tool choice it calls
  that tool. Arguments are {"text": <last user text>}. After tool results
  (the last message is a tool message) it replies "Tool results: ...".
- JSON output (json_object / json_schema): {"echo": <reply text>}.
- Reasoning (any effort but NONE, or a budget > 0): a reasoning part first,
  signed; a signed echo reasoning part sent back with a wrong signature is
  refused, so clients can test signature round trips.
- Tokens are whitespace-separated words. max_output_tokens truncates
  (finish LENGTH); a stop sequence cuts the reply before it (finish STOP).
- Embeddings: a unit vector derived from SHA-256 of the text, 16 dimensions
  unless `dimensions` is set.
- Provider options under "echo" (for client tests): delay_ms (before the
  reply), chunk_delay_ms (between stream events), repeat (the reply N times),
  fail (rate_limited | unavailable | internal | invalid),
  fail_after_events (with fail: the stream fails after N events).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..config.schema import ProviderConfig
from ..core.completions import (
    CompletionChoice,
    CompletionChoiceDone,
    CompletionDelta,
    CompletionDone,
    CompletionEvent,
    CompletionRequest,
    CompletionResponse,
    CompletionStart,
)
from ..core.embeddings import EmbedRequest, EmbedResponse
from ..core.errors import (
    FieldViolation,
    InvalidRequest,
    UpstreamBillingFailed,
    UpstreamError,
    UpstreamFailure,
    UpstreamInvalidRequest,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from ..core.events import (
    ReasoningDelta,
    StreamDone,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from ..core.models import Capabilities, Modality
from ..core.tokens import CountMethod, TokenCount
from ..core.types import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    Message,
    Part,
    ReasoningEffort,
    ReasoningPart,
    Role,
    TextPart,
    ToolCallPart,
    ToolChoiceMode,
    ToolResultPart,
    Usage,
)
from .base import CallContext, ModelSpec, ProviderBase

DEFAULT_MODELS = (
    ModelSpec("echo", kind="chat", display_name="Echo", context_window=1_000_000),
    ModelSpec("echo-embed", kind="embedding", display_name="Echo embeddings",
              embedding_dimensions=16),
)
_OPTION_KEYS = {"delay_ms", "chunk_delay_ms", "repeat", "fail", "fail_after_events"}
# `fail` option -> the error and the HTTP status it stands for.
_FAILURES: dict[str, tuple[type[UpstreamError], int]] = {
    "rate_limited": (UpstreamRateLimited, 429),
    "unavailable": (UpstreamUnavailable, 503),
    "internal": (UpstreamFailure, 500),
    "invalid": (UpstreamInvalidRequest, 400),
    "billing": (UpstreamBillingFailed, 402),
}


def count_words(text: str) -> int:
    return len(text.split())


def signature_for(text: str) -> str:
    return "echo:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def embedding_for(text: str, dimensions: int) -> tuple[float, ...]:
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        raw.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    vec = raw[:dimensions]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return tuple(v / norm for v in vec)


@dataclass(frozen=True, slots=True)
class _Options:
    delay: float = 0.0
    chunk_delay: float = 0.0
    repeat: int = 1
    fail: str = ""
    fail_after_events: int | None = None


@dataclass(frozen=True, slots=True)
class _Reply:
    parts: tuple[Part, ...]
    finish: FinishReason
    provider_finish: str
    stop_sequence: str
    usage: Usage


class EchoProvider(ProviderBase):
    type = "echo"
    chat_capabilities = Capabilities(
        chat=True, streaming=True, tools=True, parallel_tool_calls=True, vision=True,
        structured_output=True, reasoning=True, text_completion=True, token_counting=True,
    )
    embedding_capabilities = Capabilities(embeddings=True)
    chat_input_modalities = (Modality.TEXT, Modality.IMAGE)

    def __init__(self, name: str = "echo", models: Sequence[ModelSpec] = DEFAULT_MODELS,
                 *, allow_unlisted_models: bool = False) -> None:
        super().__init__(name, models or DEFAULT_MODELS,
                         allow_unlisted_models=allow_unlisted_models)

    # --- chat ---------------------------------------------------------------

    async def chat(self, request: ChatRequest, ctx: CallContext) -> ChatResponse:
        opts = self._options(request.provider_options)
        await _pause(opts.delay)
        _maybe_fail(opts, self.name, ctx.model, events_sent=None)
        reply = _reply(request, opts.repeat)
        return ChatResponse(
            id=_response_id(request), model=ctx.model,
            message=Message(Role.ASSISTANT, reply.parts), finish_reason=reply.finish,
            provider_finish_reason=reply.provider_finish, stop_sequence=reply.stop_sequence,
            usage=reply.usage, upstream_request_id="echo-" + ctx.request_id,
        )

    async def stream_reads(self, request: ChatRequest, ctx: CallContext
                           ) -> AsyncIterator[list[StreamEvent]]:
        opts = self._options(request.provider_options)
        await _pause(opts.delay)
        _maybe_fail(opts, self.name, ctx.model, events_sent=None)
        reply = _reply(request, opts.repeat)
        events: list[StreamEvent] = [
            StreamStart(_response_id(request), ctx.model, "echo-" + ctx.request_id)
        ]
        for index, part in enumerate(reply.parts):
            events.extend(_part_events(index, part))
        events.append(UsageUpdate(reply.usage))
        events.append(StreamDone(reply.finish, reply.provider_finish, reply.stop_sequence,
                                 reply.usage))
        if opts.chunk_delay <= 0:
            # One "read": everything is ready at once (up to a requested failure).
            fail_at = opts.fail_after_events if opts.fail else None
            if fail_at is not None and fail_at < len(events):
                if fail_at:
                    yield events[:fail_at]
                _maybe_fail(opts, self.name, ctx.model, events_sent=fail_at)
            yield events
            return
        for sent, event in enumerate(events):
            _maybe_fail(opts, self.name, ctx.model, events_sent=sent)
            if sent:
                await _pause(opts.chunk_delay)
            yield [event]

    async def count_tokens(self, request: ChatRequest, ctx: CallContext) -> TokenCount:
        return TokenCount(_input_tokens(request), CountMethod.BUILTIN, "echo:whitespace-words",
                          model=ctx.model)

    # --- embeddings -----------------------------------------------------------

    async def embed(self, request: EmbedRequest, ctx: CallContext) -> EmbedResponse:
        opts = self._options(request.provider_options)
        await _pause(opts.delay)
        _maybe_fail(opts, self.name, ctx.model, events_sent=None)
        dims = request.dimensions or 16
        vectors = tuple(embedding_for(text, dims) for text in request.inputs)
        tokens = sum(count_words(t) for t in request.inputs)
        return EmbedResponse(model=ctx.model, vectors=vectors, usage=Usage(input_tokens=tokens))

    # --- text completion --------------------------------------------------------

    async def complete(self, request: CompletionRequest, ctx: CallContext) -> CompletionResponse:
        events = [e async for e in self.stream_complete(request, ctx)]
        texts: dict[int, list[str]] = {}
        done: dict[int, CompletionChoiceDone] = {}
        usage = Usage()
        for e in events:
            if isinstance(e, CompletionDelta):
                texts.setdefault(e.index, []).append(e.text)
            elif isinstance(e, CompletionChoiceDone):
                done[e.index] = e
            elif isinstance(e, CompletionDone):
                usage = e.usage
        choices = tuple(
            CompletionChoice(i, "".join(texts.get(i, [])), done[i].finish_reason,
                             done[i].provider_finish_reason)
            for i in sorted(done)
        )
        return CompletionResponse(_completion_id(request), ctx.model, choices, usage,
                                  upstream_request_id="echo-" + ctx.request_id)

    async def stream_complete(
        self, request: CompletionRequest, ctx: CallContext
    ) -> AsyncIterator[CompletionEvent]:
        opts = self._options(request.provider_options)
        await _pause(opts.delay)
        _maybe_fail(opts, self.name, ctx.model, events_sent=None)
        yield CompletionStart(_completion_id(request), ctx.model, "echo-" + ctx.request_id)
        output_tokens = 0
        for index, prompt in enumerate(request.prompts):
            # A base "model" that continues the prompt by repeating it.
            gen = request.generation
            text, finish, _ = _limit(" ".join([prompt] * opts.repeat), gen.max_output_tokens,
                                     gen.stop_sequences)
            output_tokens += count_words(text)
            if request.echo:
                text = prompt + text
            for chunk in _chunks(text):
                await _pause(opts.chunk_delay)
                yield CompletionDelta(index, chunk)
            yield CompletionChoiceDone(index, finish, finish.value)
        input_tokens = sum(count_words(p) for p in request.prompts)
        yield CompletionDone(Usage(input_tokens=input_tokens, output_tokens=output_tokens))

    # --- options --------------------------------------------------------------

    def _options(self, provider_options: Mapping[str, Mapping[str, Any]]) -> _Options:
        raw: dict[str, Any] = {**provider_options.get("echo", {}),
                               **provider_options.get(self.name, {})}
        where = 'provider_options.json_by_provider["echo"]'
        unknown = sorted(set(raw) - _OPTION_KEYS)
        if unknown:
            raise InvalidRequest.one(where, f"unknown echo option(s): {', '.join(unknown)}")
        violations = []
        for key in ("delay_ms", "chunk_delay_ms", "repeat", "fail_after_events"):
            value = raw.get(key)
            if value is not None and (not isinstance(value, int | float) or value < 0):
                violations.append(FieldViolation(f"{where}.{key}", "must be a number >= 0"))
        if raw.get("fail") is not None and raw["fail"] not in _FAILURES:
            violations.append(FieldViolation(
                f"{where}.fail", f"must be one of {', '.join(sorted(_FAILURES))}"))
        if violations:
            raise InvalidRequest(violations)
        after = raw.get("fail_after_events")
        return _Options(
            delay=raw.get("delay_ms", 0) / 1000, chunk_delay=raw.get("chunk_delay_ms", 0) / 1000,
            repeat=max(int(raw.get("repeat", 1)), 1), fail=raw.get("fail") or "",
            fail_after_events=int(after) if after is not None else None,
        )


class EchoConfig(ProviderConfig):
    type: str = "echo"
    allow_unlisted_models: bool = False


def from_config(name: str, config: EchoConfig, specs: Sequence[ModelSpec]) -> EchoProvider:
    return EchoProvider(name, specs, allow_unlisted_models=config.allow_unlisted_models)


async def _pause(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def _maybe_fail(opts: _Options, provider: str, model: str, *, events_sent: int | None) -> None:
    """Raises the configured failure: before any output when fail_after_events
    is unset, else once that many stream events have been sent."""
    if not opts.fail or events_sent != opts.fail_after_events:
        return
    cls, status = _FAILURES[opts.fail]
    retry = 2.0 if cls is UpstreamRateLimited else None
    raise cls(f"echo failure requested ({opts.fail})", provider=provider, model=model,
              status=status, retry_after=retry)


def _response_id(request: ChatRequest) -> str:
    return "echo-" + hashlib.sha256(repr(request.messages).encode()).hexdigest()[:12]


def _completion_id(request: CompletionRequest) -> str:
    return "echo-cmpl-" + hashlib.sha256(repr(request.prompts).encode()).hexdigest()[:12]


def _input_tokens(request: ChatRequest) -> int:
    words = count_words(request.system_text())
    for message in request.messages:
        for part in message.parts:
            match part:
                case TextPart(text=t) | ReasoningPart(text=t):
                    words += count_words(t)
                case ToolCallPart(arguments_json=a):
                    words += count_words(a)
                case ToolResultPart():
                    words += count_words(part.text())
                case ImagePart():
                    words += 1
    return words


def _last_user_text(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.role is Role.USER:
            return message.text()
    return ""


def _check_signatures(request: ChatRequest) -> None:
    for m, message in enumerate(request.messages):
        for p, part in enumerate(message.parts):
            if (isinstance(part, ReasoningPart) and part.provider_type == "echo"
                    and part.signature != signature_for(part.text)):
                raise InvalidRequest.one(
                    f"input.messages[{m}].parts[{p}].reasoning.signature",
                    "does not match the reasoning text (it must be sent back unchanged)")


def _wants_reasoning(request: ChatRequest) -> bool:
    r = request.reasoning
    if r is None:
        return False
    if r.budget_tokens is not None:
        return r.budget_tokens > 0
    return r.effort is not ReasoningEffort.NONE


def _limit(text: str, max_tokens: int | None, stops: Sequence[str]
           ) -> tuple[str, FinishReason, str]:
    stop_hit = ""
    cut = len(text)
    for stop in stops:
        at = text.find(stop)
        if stop and at != -1 and at < cut:
            cut, stop_hit = at, stop
    text = text[:cut]
    if max_tokens is not None and count_words(text) > max_tokens:
        kept = _chunks(text)[:max_tokens]
        return "".join(kept).rstrip(), FinishReason.LENGTH, ""
    return text, FinishReason.STOP, stop_hit


def _chunks(text: str) -> list[str]:
    """Splits text into word chunks that keep their trailing whitespace, so the
    chunks concatenate to the text exactly."""
    chunks: list[str] = []
    current = ""
    for ch in text:
        if current and not ch.isspace() and current[-1].isspace():
            chunks.append(current)
            current = ""
        current += ch
    if current:
        chunks.append(current)
    return chunks


def _tool_calls(request: ChatRequest, text: str) -> tuple[ToolCallPart, ...]:
    choice = request.tool_choice
    if not request.tools or choice is None:
        return ()
    if choice.function_name:
        names = [choice.function_name]
    elif choice.mode is ToolChoiceMode.REQUIRED:
        names = [t.name for t in request.tools]
        if choice.parallel_tool_calls is False:
            names = names[:1]
    else:
        return ()
    args = orjson.dumps({"text": text}).decode()
    turn = len(request.messages)
    return tuple(ToolCallPart(f"call_{turn}_{i}", name, args) for i, name in enumerate(names))


def _reply(request: ChatRequest, repeat: int) -> _Reply:
    _check_signatures(request)
    parts: list[Part] = []
    text = _last_user_text(request)
    if _wants_reasoning(request):
        thought = f"The user said {count_words(text)} words."
        parts.append(ReasoningPart(thought, signature_for(thought), provider_type="echo"))
    last = request.messages[-1] if request.messages else None
    calls = () if last is not None and last.role is Role.TOOL else _tool_calls(request, text)
    finish, provider_finish, stop_hit = FinishReason.TOOL_CALLS, "tool_calls", ""
    if calls:
        parts.extend(calls)
        out_words = sum(count_words(c.arguments_json) for c in calls)
    else:
        if last is not None and last.role is Role.TOOL:
            results = [p for p in last.parts if isinstance(p, ToolResultPart)]
            text = "Tool results: " + "; ".join(
                f"{r.name or r.tool_call_id}={r.text()}" for r in results)
        text = " ".join([text] * repeat) if text else text
        if isinstance(request.response_format, JsonObjectFormat | JsonSchemaFormat):
            text = orjson.dumps({"echo": text}).decode()
        text, finish, stop_hit = _limit(text, request.generation.max_output_tokens,
                                        request.generation.stop_sequences)
        provider_finish = finish.value
        if text:
            parts.append(TextPart(text))
        out_words = count_words(text)
    reasoning_words = sum(count_words(p.text) for p in parts if isinstance(p, ReasoningPart))
    usage = Usage(
        input_tokens=_input_tokens(request), output_tokens=out_words + reasoning_words,
        reasoning_tokens=reasoning_words if reasoning_words else None,
    )
    return _Reply(tuple(parts), finish, provider_finish, stop_hit, usage)


def _part_events(index: int, part: Part) -> list[StreamEvent]:
    match part:
        case TextPart(text=text):
            return [TextDelta(index, chunk) for chunk in _chunks(text)]
        case ReasoningPart():
            return [ReasoningDelta(index, text=chunk) for chunk in _chunks(part.text)] + [
                ReasoningDelta(index, signature=part.signature, provider_type="echo")
            ]
        case ToolCallPart(id=call_id, name=name, arguments_json=args):
            half = len(args) // 2
            return [
                ToolCallStart(index, call_id, name),
                ToolCallDelta(index, args[:half]),
                ToolCallDelta(index, args[half:]),
                ToolCallEnd(index, part),
            ]
    return []
