"""GatewayClient: an async client (grpc.aio) over the generated stubs.

    async with GatewayClient("127.0.0.1:50051") as gw:
        reply = await gw.chat(chat_input("fast", user("Hello")))
        async for event in gw.stream(chat_input("fast", user("Hello"))):
            ...

The generated protobuf types are the data model; this module adds the
connection, deadlines, credentials, paging, reassembly and typed errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from llmgateway.v1 import (
    chat_pb2,
    chat_pb2_grpc,
    common_pb2,
    completions_pb2,
    completions_pb2_grpc,
    content_pb2,
    embeddings_pb2,
    embeddings_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
)

from .errors import GatewayError

DEFAULT_TIMEOUT = 120.0


def user(*texts: str) -> content_pb2.Message:
    """A user message with one text part per argument."""
    return content_pb2.Message(role=content_pb2.ROLE_USER,
                               parts=[content_pb2.Part(text=t) for t in texts])


def chat_input(model: str, *messages: content_pb2.Message, **fields: Any) -> chat_pb2.ChatInput:
    """A ChatInput; `fields` are any other ChatInput fields (tools, ...)."""
    return chat_pb2.ChatInput(model=model, messages=list(messages), **fields)


class _ApiKey(grpc.AuthMetadataPlugin):
    def __init__(self, key: str) -> None:
        self._metadata = (("authorization", f"Bearer {key}"),)

    def __call__(self, context: grpc.AuthMetadataContext,
                 callback: grpc.AuthMetadataPluginCallback) -> None:
        callback(self._metadata, None)


class GatewayClient:
    def __init__(self, address: str, *, tls: bool = False,
                 root_certificates: bytes | None = None, api_key: str | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT,
                 options: Sequence[tuple[str, Any]] = ()) -> None:
        """`timeout` is the default deadline of every call (None: no deadline).
        With plaintext connections the API key is sent as metadata too."""
        self.timeout = timeout
        self._metadata: tuple[tuple[str, str], ...] = ()
        if tls:
            creds = grpc.ssl_channel_credentials(root_certificates)
            if api_key:
                creds = grpc.composite_channel_credentials(
                    creds, grpc.metadata_call_credentials(_ApiKey(api_key)))
            self._channel = grpc.aio.secure_channel(address, creds, options=list(options))
        else:
            if api_key:
                self._metadata = (("authorization", f"Bearer {api_key}"),)
            self._channel = grpc.aio.insecure_channel(address, options=list(options))
        self._chat = chat_pb2_grpc.ChatServiceStub(self._channel)
        self._completions = completions_pb2_grpc.CompletionServiceStub(self._channel)
        self._embed = embeddings_pb2_grpc.EmbeddingServiceStub(self._channel)
        self._models = models_pb2_grpc.ModelServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    def _kwargs(self, timeout: float | None) -> dict[str, Any]:
        return {"timeout": self.timeout if timeout is None else timeout,
                "metadata": self._metadata or None}

    async def chat(self, input: chat_pb2.ChatInput, *, request_id: str = "",
                   timeout: float | None = None) -> chat_pb2.ChatResponse:
        request = chat_pb2.ChatRequest(input=input,
                                       metadata=common_pb2.RequestMetadata(request_id=request_id))
        try:
            return await self._chat.Chat(request, **self._kwargs(timeout))
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None

    async def stream(self, input: chat_pb2.ChatInput, *, request_id: str = "",
                     timeout: float | None = None
                     ) -> AsyncIterator[chat_pb2.StreamChatResponse]:
        """The reply's events as they arrive. Leaving the loop early (break,
        or cancelling the task) cancels the call and the upstream request."""
        request = chat_pb2.StreamChatRequest(
            input=input, metadata=common_pb2.RequestMetadata(request_id=request_id))
        call = self._chat.StreamChat(request, **self._kwargs(timeout))
        try:
            async for event in call:
                yield event
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None
        finally:
            call.cancel()  # no-op when the call already ended

    async def count_tokens(self, input: chat_pb2.ChatInput, *, timeout: float | None = None
                           ) -> chat_pb2.CountTokensResponse:
        try:
            return await self._chat.CountTokens(chat_pb2.CountTokensRequest(input=input),
                                                **self._kwargs(timeout))
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None

    async def batch_chat(self, items: Iterable[tuple[str, chat_pb2.ChatInput]], *,
                         max_concurrency: int = 0, timeout: float | None = None
                         ) -> AsyncIterator[tuple[str, chat_pb2.ChatResponse | GatewayError]]:
        """(item id, reply or that item's error), each as the item finishes.
        A failing item does not fail the others or the call."""
        request = chat_pb2.BatchChatRequest(
            items=[chat_pb2.BatchChatItem(id=i, input=inp) for i, inp in items],
            max_concurrency=max_concurrency)
        call = self._chat.BatchChat(request, **self._kwargs(timeout))
        try:
            async for result in call:
                if result.HasField("error"):
                    yield result.id, GatewayError.from_item_error(result.error)
                else:
                    yield result.id, result.response
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None
        finally:
            call.cancel()

    async def complete(self, input: completions_pb2.CompletionInput, *,
                       timeout: float | None = None) -> completions_pb2.CompleteResponse:
        try:
            return await self._completions.Complete(
                completions_pb2.CompleteRequest(input=input), **self._kwargs(timeout))
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None

    async def stream_complete(self, input: completions_pb2.CompletionInput, *,
                              timeout: float | None = None
                              ) -> AsyncIterator[completions_pb2.StreamCompleteResponse]:
        """Completion events as they arrive; leaving the loop cancels the call."""
        call = self._completions.StreamComplete(
            completions_pb2.StreamCompleteRequest(input=input), **self._kwargs(timeout))
        try:
            async for event in call:
                yield event
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None
        finally:
            call.cancel()

    async def embed(self, model: str, texts: Iterable[str], *, timeout: float | None = None,
                    **fields: Any) -> embeddings_pb2.EmbedResponse:
        request = embeddings_pb2.EmbedRequest(
            model=model, inputs=[embeddings_pb2.EmbedInput(text=t) for t in texts], **fields)
        try:
            return await self._embed.Embed(request, **self._kwargs(timeout))
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None

    async def list_models(self, *, provider: str = "", page_size: int = 0,
                          timeout: float | None = None) -> AsyncIterator[models_pb2.Model]:
        """Every model, following the pages."""
        token = ""
        while True:
            try:
                page = await self._models.ListModels(models_pb2.ListModelsRequest(
                    page_size=page_size, page_token=token, provider=provider),
                    **self._kwargs(timeout))
            except grpc.RpcError as err:
                raise GatewayError.from_rpc_error(err) from None
            for model in page.models:
                yield model
            token = page.next_page_token
            if not token:
                return

    async def get_model(self, name: str, *, timeout: float | None = None) -> models_pb2.Model:
        try:
            reply = await self._models.GetModel(models_pb2.GetModelRequest(name=name),
                                                **self._kwargs(timeout))
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None
        return reply.model

    async def health(self, service: str = "", *, timeout: float | None = None) -> bool:
        """True when the service ("" = the whole server) is SERVING."""
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(service=service),
                                             **self._kwargs(timeout))
        except grpc.RpcError as err:
            raise GatewayError.from_rpc_error(err) from None
        return reply.status == health_pb2.HealthCheckResponse.SERVING
