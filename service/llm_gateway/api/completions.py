"""Protobuf <-> core translation for CompletionService."""

from __future__ import annotations

from llmgateway.v1 import common_pb2, completions_pb2

from ..core import completions as cc
from ..core.types import GenerationConfig
from .chat import generation_from_proto, response_format_from_proto
from .common import (
    FINISH_TO_PROTO,
    metadata_from_proto,
    provider_options_from_proto,
    usage_to_proto,
)
from .violations import Violations

MAX_PROMPTS = 64
MAX_LOGPROBS = 20


def completion_request_from_proto(inp: completions_pb2.CompletionInput,
                                  metadata: common_pb2.RequestMetadata) -> cc.CompletionRequest:
    v = Violations()
    f = "input"
    if not inp.model:
        v.add(f"{f}.model", "required: an alias or 'provider/model'")
    if not inp.prompts:
        v.add(f"{f}.prompts", "at least one prompt")
    elif len(inp.prompts) > MAX_PROMPTS:
        v.add(f"{f}.prompts", f"at most {MAX_PROMPTS} prompts")
    logprobs = inp.logprobs if inp.HasField("logprobs") else None
    if logprobs is not None and not 0 <= logprobs <= MAX_LOGPROBS:
        v.add(f"{f}.logprobs", f"from 0 to {MAX_LOGPROBS}")
    request = cc.CompletionRequest(
        model=inp.model,
        prompts=tuple(inp.prompts),
        generation=generation_from_proto(inp.generation, v, f"{f}.generation")
        if inp.HasField("generation") else GenerationConfig(),
        echo=inp.echo,
        logprobs=logprobs,
        suffix=inp.suffix,
        response_format=response_format_from_proto(inp.response_format, v,
                                                   f"{f}.response_format")
        if inp.HasField("response_format") else None,
        provider_options=provider_options_from_proto(inp.provider_options, v,
                                                     f"{f}.provider_options"),
        metadata=metadata_from_proto(metadata, v, "metadata"),
    )
    v.raise_if_any()
    return request


def _logprobs(items: tuple[cc.TokenLogprob, ...]) -> list[completions_pb2.TokenLogprob]:
    out = []
    for item in items:
        pb = completions_pb2.TokenLogprob(
            token=item.token, text_offset=item.text_offset,
            top_logprobs=[completions_pb2.TopLogprob(token=t, logprob=lp) for t, lp in item.top])
        if item.logprob is not None:
            pb.logprob = item.logprob
        out.append(pb)
    return out


def completion_response_to_proto(r: cc.CompletionResponse) -> completions_pb2.CompleteResponse:
    return completions_pb2.CompleteResponse(
        id=r.id, model=r.model, provider=r.provider, request_id=r.request_id,
        upstream_request_id=r.upstream_request_id, usage=usage_to_proto(r.usage),
        choices=[completions_pb2.CompletionChoice(
            index=c.index, text=c.text, finish_reason=FINISH_TO_PROTO[c.finish_reason],
            provider_finish_reason=c.provider_finish_reason, logprobs=_logprobs(c.logprobs))
            for c in r.choices],
    )


def completion_event_to_proto(e: cc.CompletionEvent) -> completions_pb2.StreamCompleteResponse:
    if isinstance(e, cc.CompletionDelta):
        return completions_pb2.StreamCompleteResponse(delta=completions_pb2.CompletionDelta(
            index=e.index, text=e.text, logprobs=_logprobs(e.logprobs)))
    if isinstance(e, cc.CompletionStart):
        return completions_pb2.StreamCompleteResponse(start=completions_pb2.CompletionStart(
            id=e.id, model=e.model, provider=e.provider, request_id=e.request_id,
            upstream_request_id=e.upstream_request_id))
    if isinstance(e, cc.CompletionChoiceDone):
        return completions_pb2.StreamCompleteResponse(
            choice_done=completions_pb2.CompletionChoiceDone(
                index=e.index, finish_reason=FINISH_TO_PROTO[e.finish_reason],
                provider_finish_reason=e.provider_finish_reason))
    return completions_pb2.StreamCompleteResponse(
        done=completions_pb2.CompletionDone(usage=usage_to_proto(e.usage)))
