"""Core token counts -> protobuf."""

from __future__ import annotations

from llmgateway.v1 import chat_pb2

from ..core.tokens import CountMethod, TokenCount

_METHODS = {
    CountMethod.PROVIDER_ENDPOINT: chat_pb2.CountTokensResponse.METHOD_PROVIDER_ENDPOINT,
    CountMethod.PROVIDER_TOKENIZER: chat_pb2.CountTokensResponse.METHOD_PROVIDER_TOKENIZER,
    CountMethod.BUILTIN: chat_pb2.CountTokensResponse.METHOD_BUILTIN,
}


def count_tokens_to_proto(count: TokenCount) -> chat_pb2.CountTokensResponse:
    return chat_pb2.CountTokensResponse(
        input_tokens=count.input_tokens, method=_METHODS[count.method],
        method_detail=count.method_detail, model=count.model, provider=count.provider)
