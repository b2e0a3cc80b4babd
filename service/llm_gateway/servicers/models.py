"""ModelService: listing (AIP-132 pages) and lookup by name or alias."""

from __future__ import annotations

import grpc
from llmgateway.v1 import models_pb2, models_pb2_grpc

from ..api.models import decode_page_token, encode_page_token, model_to_proto, page_size
from ..core.errors import InvalidRequest
from .rpc import Call, RpcServicer, unary


class ModelServicer(RpcServicer, models_pb2_grpc.ModelServiceServicer):

    @unary("ListModels")
    async def ListModels(self, request: models_pb2.ListModelsRequest,
                         context: grpc.aio.ServicerContext, call: Call
                         ) -> models_pb2.ListModelsResponse:
        size = page_size(request.page_size)
        offset = decode_page_token(request.page_token, request.provider)
        models = self._gateway.list_models(request.provider)
        page = models[offset:offset + size]
        end = offset + len(page)
        token = encode_page_token(end, request.provider) if end < len(models) else ""
        return models_pb2.ListModelsResponse(models=[model_to_proto(m) for m in page],
                                             next_page_token=token)

    @unary("GetModel")
    async def GetModel(self, request: models_pb2.GetModelRequest,
                       context: grpc.aio.ServicerContext, call: Call
                       ) -> models_pb2.GetModelResponse:
        if not request.name:
            raise InvalidRequest.one("name", "required: a model name or alias")
        call.model = request.name
        model = self._gateway.get_model(request.name)
        return models_pb2.GetModelResponse(model=model_to_proto(model))
