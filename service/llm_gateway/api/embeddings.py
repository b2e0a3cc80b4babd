"""Protobuf <-> core translation for EmbeddingService."""

from __future__ import annotations

from llmgateway.v1 import embeddings_pb2

from ..core.embeddings import EmbeddingTask, EmbedRequest, EmbedResponse, Truncation
from .common import metadata_from_proto, provider_options_from_proto, usage_to_proto
from .violations import Violations

MAX_INPUTS = 2048
_TASKS = {
    embeddings_pb2.EmbedRequest.TASK_TYPE_RETRIEVAL_QUERY: EmbeddingTask.RETRIEVAL_QUERY,
    embeddings_pb2.EmbedRequest.TASK_TYPE_RETRIEVAL_DOCUMENT: EmbeddingTask.RETRIEVAL_DOCUMENT,
    embeddings_pb2.EmbedRequest.TASK_TYPE_SEMANTIC_SIMILARITY: EmbeddingTask.SEMANTIC_SIMILARITY,
    embeddings_pb2.EmbedRequest.TASK_TYPE_CLASSIFICATION: EmbeddingTask.CLASSIFICATION,
    embeddings_pb2.EmbedRequest.TASK_TYPE_CLUSTERING: EmbeddingTask.CLUSTERING,
}
_TRUNCATIONS = {
    embeddings_pb2.EmbedRequest.TRUNCATION_NONE: Truncation.NONE,
    embeddings_pb2.EmbedRequest.TRUNCATION_START: Truncation.START,
    embeddings_pb2.EmbedRequest.TRUNCATION_END: Truncation.END,
}


def embed_request_from_proto(pb: embeddings_pb2.EmbedRequest) -> EmbedRequest:
    v = Violations()
    if not pb.model:
        v.add("model", "required: an alias or 'provider/model'")
    if not pb.inputs:
        v.add("inputs", "at least one input")
    elif len(pb.inputs) > MAX_INPUTS:
        v.add("inputs", f"at most {MAX_INPUTS} inputs")
    texts = []
    for i, item in enumerate(pb.inputs):
        if item.WhichOneof("content") != "text":
            v.add(f"inputs[{i}]", "needs text")
        else:
            texts.append(item.text)
    dimensions = pb.dimensions if pb.HasField("dimensions") else None
    if dimensions is not None and dimensions <= 0:
        v.add("dimensions", "must be > 0")
    if pb.task_type and pb.task_type not in _TASKS:
        v.add("task_type", "unknown task type")
    if pb.truncation and pb.truncation not in _TRUNCATIONS:
        v.add("truncation", "unknown truncation")
    meta = metadata_from_proto(pb.metadata, v, "metadata")
    options = provider_options_from_proto(pb.provider_options, v, "provider_options")
    v.raise_if_any()
    return EmbedRequest(
        model=pb.model, inputs=tuple(texts), dimensions=dimensions,
        task=_TASKS.get(pb.task_type), normalize=pb.normalize if pb.HasField("normalize") else None,
        truncation=_TRUNCATIONS.get(pb.truncation), provider_options=options, metadata=meta,
    )


def embed_response_to_proto(r: EmbedResponse) -> embeddings_pb2.EmbedResponse:
    return embeddings_pb2.EmbedResponse(
        model=r.model, provider=r.provider, request_id=r.request_id,
        usage=usage_to_proto(r.usage),
        embeddings=[embeddings_pb2.Embedding(index=i, values=vec)
                    for i, vec in enumerate(r.vectors)],
    )
