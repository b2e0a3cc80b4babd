from llmgateway.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EmbedRequest(_message.Message):
    __slots__ = ("model", "inputs", "dimensions", "task_type", "normalize", "truncation", "metadata", "provider_options")
    class TaskType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TASK_TYPE_UNSPECIFIED: _ClassVar[EmbedRequest.TaskType]
        TASK_TYPE_RETRIEVAL_QUERY: _ClassVar[EmbedRequest.TaskType]
        TASK_TYPE_RETRIEVAL_DOCUMENT: _ClassVar[EmbedRequest.TaskType]
        TASK_TYPE_SEMANTIC_SIMILARITY: _ClassVar[EmbedRequest.TaskType]
        TASK_TYPE_CLASSIFICATION: _ClassVar[EmbedRequest.TaskType]
        TASK_TYPE_CLUSTERING: _ClassVar[EmbedRequest.TaskType]
    TASK_TYPE_UNSPECIFIED: EmbedRequest.TaskType
    TASK_TYPE_RETRIEVAL_QUERY: EmbedRequest.TaskType
    TASK_TYPE_RETRIEVAL_DOCUMENT: EmbedRequest.TaskType
    TASK_TYPE_SEMANTIC_SIMILARITY: EmbedRequest.TaskType
    TASK_TYPE_CLASSIFICATION: EmbedRequest.TaskType
    TASK_TYPE_CLUSTERING: EmbedRequest.TaskType
    class Truncation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TRUNCATION_UNSPECIFIED: _ClassVar[EmbedRequest.Truncation]
        TRUNCATION_NONE: _ClassVar[EmbedRequest.Truncation]
        TRUNCATION_START: _ClassVar[EmbedRequest.Truncation]
        TRUNCATION_END: _ClassVar[EmbedRequest.Truncation]
    TRUNCATION_UNSPECIFIED: EmbedRequest.Truncation
    TRUNCATION_NONE: EmbedRequest.Truncation
    TRUNCATION_START: EmbedRequest.Truncation
    TRUNCATION_END: EmbedRequest.Truncation
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    TRUNCATION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    inputs: _containers.RepeatedCompositeFieldContainer[EmbedInput]
    dimensions: int
    task_type: EmbedRequest.TaskType
    normalize: bool
    truncation: EmbedRequest.Truncation
    metadata: _common_pb2.RequestMetadata
    provider_options: _common_pb2.ProviderOptions
    def __init__(self, model: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[EmbedInput, _Mapping]]] = ..., dimensions: _Optional[int] = ..., task_type: _Optional[_Union[EmbedRequest.TaskType, str]] = ..., normalize: _Optional[bool] = ..., truncation: _Optional[_Union[EmbedRequest.Truncation, str]] = ..., metadata: _Optional[_Union[_common_pb2.RequestMetadata, _Mapping]] = ..., provider_options: _Optional[_Union[_common_pb2.ProviderOptions, _Mapping]] = ...) -> None: ...

class EmbedInput(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("model", "provider", "embeddings", "usage", "request_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    usage: _common_pb2.Usage
    request_id: str
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("index", "values")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    index: int
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, index: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...
