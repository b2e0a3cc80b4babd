"""EmbeddingService: protobuf in, one gateway call, protobuf out."""

from __future__ import annotations

import grpc
from llmgateway.v1 import embeddings_pb2, embeddings_pb2_grpc

from ..api.embeddings import embed_request_from_proto, embed_response_to_proto
from .rpc import Call, RpcServicer, unary


class EmbeddingServicer(RpcServicer, embeddings_pb2_grpc.EmbeddingServiceServicer):

    @unary("Embed")
    async def Embed(self, request: embeddings_pb2.EmbedRequest,
                    context: grpc.aio.ServicerContext, call: Call
                    ) -> embeddings_pb2.EmbedResponse:
        core = embed_request_from_proto(request)
        call.model = core.model
        response = await self._gateway.embed(core, request_id=call.request_id,
                                             deadline=call.deadline)
        call.provider = response.provider
        return embed_response_to_proto(response)
