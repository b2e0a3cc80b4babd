"""OpenAI-style text completion (`POST /v1/completions`) and vLLM's
`/tokenize` <-> the neutral model. Pure functions: no I/O.

Wire reference: https://platform.openai.com/docs/api-reference/completions
(legacy) and vLLM's OpenAI-compatible server. One prompt is sent as a string,
several as a list; the choice `index` is the prompt's position (n = 1).
Guided decoding goes to vLLM's `structured_outputs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...core.completions import (
    CompletionChoice,
    CompletionChoiceDone,
    CompletionDelta,
    CompletionDone,
    CompletionEvent,
    CompletionRequest,
    CompletionResponse,
    CompletionStart,
    TokenLogprob,
)
from ...core.errors import UnsupportedFeature
from ...core.types import (
    ChatRequest,
    JsonObjectFormat,
    JsonSchemaFormat,
    TextFormat,
    Usage,
)
from .chat_codec import (
    decode_usage,
    encode_messages,
    encode_sampling,
    encode_tool,
    finish_reason,
    guided,
)
from .presets import Preset


def encode_completion(request: CompletionRequest, model: str, preset: Preset, provider: str, *,
                      stream: bool, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    prompts = request.prompts
    body: dict[str, Any] = {"model": model,
                            "prompt": prompts[0] if len(prompts) == 1 else list(prompts)}
    # The legacy endpoint takes max_tokens, never max_completion_tokens.
    encode_sampling(body, request.generation, preset, provider, "max_tokens")
    if request.echo:
        body["echo"] = True
    if request.logprobs is not None:
        body["logprobs"] = request.logprobs
    if request.suffix:
        body["suffix"] = request.suffix
    _constraint(body, request, preset, provider)
    if request.metadata.end_user_id:
        body["user"] = request.metadata.end_user_id
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if options:
        body.update(options)
    return body


def _constraint(body: dict[str, Any], request: CompletionRequest, preset: Preset,
                provider: str) -> None:
    fmt = request.response_format
    if fmt is None or isinstance(fmt, TextFormat):
        return
    if not preset.guided_decoding:
        raise UnsupportedFeature(provider, "constrained output for text completion")
    if isinstance(fmt, JsonObjectFormat):
        body["structured_outputs"] = {"json_object": True}
    elif isinstance(fmt, JsonSchemaFormat):
        body["structured_outputs"] = {"json": dict(fmt.schema)}
    else:
        body["structured_outputs"] = guided(fmt)


def _logprobs(raw: Mapping[str, Any] | None) -> tuple[TokenLogprob, ...]:
    """OpenAI's parallel arrays -> one entry per token."""
    if not raw:
        return ()
    tokens = raw.get("tokens") or []
    values = raw.get("token_logprobs") or [None] * len(tokens)
    tops = raw.get("top_logprobs") or [None] * len(tokens)
    offsets = raw.get("text_offset") or [0] * len(tokens)
    return tuple(
        TokenLogprob(token, None if lp is None else float(lp),
                     tuple((t, float(v)) for t, v in (top or {}).items()), int(offset))
        for token, lp, top, offset in zip(tokens, values, tops, offsets, strict=False)
    )


def decode_completion(body: Mapping[str, Any], upstream_request_id: str = ""
                      ) -> CompletionResponse:
    choices = sorted(body.get("choices") or [], key=lambda c: c.get("index", 0))
    return CompletionResponse(
        id=body.get("id", ""), model=body.get("model", ""),
        choices=tuple(
            CompletionChoice(c.get("index", i), c.get("text") or "",
                             finish_reason(c.get("finish_reason")),
                             c.get("finish_reason") or "", _logprobs(c.get("logprobs")))
            for i, c in enumerate(choices)),
        usage=decode_usage(body.get("usage")), upstream_request_id=upstream_request_id)


class CompletionStreamDecoder:
    """`text_completion` chunks -> neutral completion events, as they come."""

    def __init__(self, upstream_request_id: str = "") -> None:
        self._upstream_request_id = upstream_request_id
        self._started = False
        self._open: set[int] = set()
        self._usage = Usage()
        self.finished = False

    def feed(self, chunk: Mapping[str, Any]) -> list[CompletionEvent]:
        out: list[CompletionEvent] = []
        if not self._started:
            self._started = True
            out.append(CompletionStart(chunk.get("id", ""), chunk.get("model", ""),
                                       self._upstream_request_id))
        for choice in chunk.get("choices") or ():
            index = int(choice.get("index", 0))
            text = choice.get("text") or ""
            logprobs = _logprobs(choice.get("logprobs"))
            if text or logprobs:
                self._open.add(index)
                out.append(CompletionDelta(index, text, logprobs))
            raw = choice.get("finish_reason")
            if raw:
                self._open.discard(index)
                self.finished = True
                out.append(CompletionChoiceDone(index, finish_reason(raw), raw))
        if chunk.get("usage"):
            self._usage = decode_usage(chunk["usage"])
        return out

    def feed_all(self, chunks: Sequence[Mapping[str, Any]], out: list[CompletionEvent]) -> None:
        """`feed` for each chunk in order, into `out`."""
        for chunk in chunks:
            out += self.feed(chunk)

    def finish(self) -> list[CompletionEvent]:
        return [CompletionDone(self._usage)]


def encode_tokenize(request: ChatRequest, model: str, preset: Preset, provider: str
                    ) -> dict[str, Any]:
    """vLLM `POST /tokenize` for a chat request: the messages (and tools) exactly
    as a chat call would send them, with the generation prompt added."""
    body: dict[str, Any] = {"model": model,
                            "messages": encode_messages(request, preset, provider),
                            "add_generation_prompt": True}
    if request.tools:
        body["tools"] = [encode_tool(t, preset, provider) for t in request.tools]
    return body
