"""ChatService: protobuf in, one gateway call, protobuf out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from llmgateway.v1 import chat_pb2, chat_pb2_grpc

from ..api.chat import (
    chat_request_from_proto,
    chat_response_to_proto,
    stream_event_to_proto,
)
from ..api.errors import to_item_error
from ..api.tokens import count_tokens_to_proto
from ..batch import BatchItem, run_batch, validate_batch
from ..core.errors import GatewayError
from ..core.events import StreamStart
from .rpc import Call, RpcServicer, server_stream, unary


class ChatServicer(RpcServicer, chat_pb2_grpc.ChatServiceServicer):

    @unary("Chat")
    async def Chat(self, request: chat_pb2.ChatRequest, context: grpc.aio.ServicerContext,
                   call: Call) -> chat_pb2.ChatResponse:
        core = chat_request_from_proto(request.input, request.metadata)
        call.model = core.model
        response = await self._gateway.chat(core, request_id=call.request_id,
                                            deadline=call.deadline)
        call.provider = response.provider
        return chat_response_to_proto(response)

    @server_stream("StreamChat")
    async def StreamChat(self, request: chat_pb2.StreamChatRequest,
                         context: grpc.aio.ServicerContext, call: Call
                         ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        core = chat_request_from_proto(request.input, request.metadata)
        call.model = core.model
        async for event in self._gateway.stream(core, request_id=call.request_id,
                                                deadline=call.deadline):
            if type(event) is StreamStart:
                call.provider = event.provider  # for the access log line
            yield stream_event_to_proto(event)

    @unary("CountTokens")
    async def CountTokens(self, request: chat_pb2.CountTokensRequest,
                          context: grpc.aio.ServicerContext, call: Call
                          ) -> chat_pb2.CountTokensResponse:
        core = chat_request_from_proto(request.input, request.metadata)
        call.model = core.model
        count = await self._gateway.count_tokens(core, request_id=call.request_id,
                                                 deadline=call.deadline)
        call.provider = count.provider
        return count_tokens_to_proto(count)

    @server_stream("BatchChat")
    async def BatchChat(self, request: chat_pb2.BatchChatRequest,
                        context: grpc.aio.ServicerContext, call: Call
                        ) -> AsyncIterator[chat_pb2.BatchChatResponse]:
        concurrency = validate_batch(request)
        items = [BatchItem(item.id, item.input, f"items[{i}].input")
                 for i, item in enumerate(request.items)]
        async for item_id, request_id, result in run_batch(
                self._gateway, items, request.metadata, concurrency, call.request_id,
                call.deadline):
            if isinstance(result, GatewayError):
                yield chat_pb2.BatchChatResponse(id=item_id,
                                                 error=to_item_error(result, request_id))
            else:
                yield chat_pb2.BatchChatResponse(id=item_id,
                                                 response=chat_response_to_proto(result))
