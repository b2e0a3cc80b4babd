"""LocalModelService: pull, show and delete models on local backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from llmgateway.v1 import local_models_pb2, local_models_pb2_grpc

from ..api.violations import Violations
from .rpc import Call, RpcServicer, server_stream, unary


def _check(provider: str, model: str) -> None:
    v = Violations()
    if not provider:
        v.add("provider", "required: a configured provider name")
    if not model:
        v.add("model", "required")
    v.raise_if_any()


class LocalModelServicer(RpcServicer, local_models_pb2_grpc.LocalModelServiceServicer):

    @server_stream("PullModel")
    async def PullModel(self, request: local_models_pb2.PullModelRequest,
                        context: grpc.aio.ServicerContext, call: Call
                        ) -> AsyncIterator[local_models_pb2.PullModelResponse]:
        _check(request.provider, request.model)
        call.provider, call.model = request.provider, request.model
        async for p in self._gateway.pull_model(request.provider, request.model,
                                                request.insecure):
            yield local_models_pb2.PullModelResponse(status=p.status, digest=p.digest,
                                                     total=p.total, completed=p.completed)

    @unary("ShowModel")
    async def ShowModel(self, request: local_models_pb2.ShowModelRequest,
                        context: grpc.aio.ServicerContext, call: Call
                        ) -> local_models_pb2.ShowModelResponse:
        _check(request.provider, request.model)
        call.provider, call.model = request.provider, request.model
        d = await self._gateway.show_model(request.provider, request.model)
        return local_models_pb2.ShowModelResponse(
            license=d.license, modelfile=d.modelfile, parameters=d.parameters,
            template=d.template, details=dict(d.details), capabilities=list(d.capabilities),
            model_info_json=d.model_info_json)

    @unary("DeleteModel")
    async def DeleteModel(self, request: local_models_pb2.DeleteModelRequest,
                          context: grpc.aio.ServicerContext, call: Call
                          ) -> local_models_pb2.DeleteModelResponse:
        _check(request.provider, request.model)
        call.provider, call.model = request.provider, request.model
        await self._gateway.delete_model(request.provider, request.model)
        return local_models_pb2.DeleteModelResponse()
