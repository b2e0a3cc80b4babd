"""CompletionService: prompt in, text out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from llmgateway.v1 import completions_pb2, completions_pb2_grpc

from ..api.completions import (
    completion_event_to_proto,
    completion_request_from_proto,
    completion_response_to_proto,
)
from ..core.completions import CompletionStart
from .rpc import Call, RpcServicer, server_stream, unary


class CompletionServicer(RpcServicer, completions_pb2_grpc.CompletionServiceServicer):

    @unary("Complete")
    async def Complete(self, request: completions_pb2.CompleteRequest,
                       context: grpc.aio.ServicerContext, call: Call
                       ) -> completions_pb2.CompleteResponse:
        core = completion_request_from_proto(request.input, request.metadata)
        call.model = core.model
        response = await self._gateway.complete(core, request_id=call.request_id,
                                                deadline=call.deadline)
        call.provider = response.provider
        return completion_response_to_proto(response)

    @server_stream("StreamComplete")
    async def StreamComplete(self, request: completions_pb2.StreamCompleteRequest,
                             context: grpc.aio.ServicerContext, call: Call
                             ) -> AsyncIterator[completions_pb2.StreamCompleteResponse]:
        core = completion_request_from_proto(request.input, request.metadata)
        call.model = core.model
        async for event in self._gateway.stream_complete(core, request_id=call.request_id,
                                                         deadline=call.deadline):
            if type(event) is CompletionStart:
                call.provider = event.provider  # for the access log line
            yield completion_event_to_proto(event)
