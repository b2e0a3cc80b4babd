"""Fully qualified names of the gateway's gRPC services (for health and
reflection)."""

from llmgateway.v1 import (
    chat_pb2,
    completions_pb2,
    embeddings_pb2,
    local_models_pb2,
    models_pb2,
)

SERVICE_NAMES: tuple[str, ...] = (
    chat_pb2.DESCRIPTOR.services_by_name["ChatService"].full_name,
    embeddings_pb2.DESCRIPTOR.services_by_name["EmbeddingService"].full_name,
    models_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name,
    completions_pb2.DESCRIPTOR.services_by_name["CompletionService"].full_name,
    local_models_pb2.DESCRIPTOR.services_by_name["LocalModelService"].full_name,
)
