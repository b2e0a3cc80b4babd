from llmgateway.v1 import common_pb2 as _common_pb2
from llmgateway.v1 import content_pb2 as _content_pb2
from llmgateway.v1 import generation_pb2 as _generation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChatInput(_message.Message):
    __slots__ = ("model", "system", "messages", "generation", "tools", "tool_choice", "response_format", "reasoning", "provider_options")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CHOICE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    model: str
    system: _containers.RepeatedCompositeFieldContainer[_content_pb2.Part]
    messages: _containers.RepeatedCompositeFieldContainer[_content_pb2.Message]
    generation: _generation_pb2.GenerationConfig
    tools: _containers.RepeatedCompositeFieldContainer[_generation_pb2.Tool]
    tool_choice: _generation_pb2.ToolChoice
    response_format: _generation_pb2.ResponseFormat
    reasoning: _generation_pb2.ReasoningConfig
    provider_options: _common_pb2.ProviderOptions
    def __init__(self, model: _Optional[str] = ..., system: _Optional[_Iterable[_Union[_content_pb2.Part, _Mapping]]] = ..., messages: _Optional[_Iterable[_Union[_content_pb2.Message, _Mapping]]] = ..., generation: _Optional[_Union[_generation_pb2.GenerationConfig, _Mapping]] = ..., tools: _Optional[_Iterable[_Union[_generation_pb2.Tool, _Mapping]]] = ..., tool_choice: _Optional[_Union[_generation_pb2.ToolChoice, _Mapping]] = ..., response_format: _Optional[_Union[_generation_pb2.ResponseFormat, _Mapping]] = ..., reasoning: _Optional[_Union[_generation_pb2.ReasoningConfig, _Mapping]] = ..., provider_options: _Optional[_Union[_common_pb2.ProviderOptions, _Mapping]] = ...) -> None: ...

class ChatRequest(_message.Message):
    __slots__ = ("input", "metadata")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    input: ChatInput
    metadata: _common_pb2.RequestMetadata
    def __init__(self, input: _Optional[_Union[ChatInput, _Mapping]] = ..., metadata: _Optional[_Union[_common_pb2.RequestMetadata, _Mapping]] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("id", "model", "provider", "message", "finish_reason", "provider_finish_reason", "stop_sequence", "usage", "request_id", "upstream_request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    STOP_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    model: str
    provider: str
    message: _content_pb2.Message
    finish_reason: _common_pb2.FinishReason
    provider_finish_reason: str
    stop_sequence: str
    usage: _common_pb2.Usage
    request_id: str
    upstream_request_id: str
    def __init__(self, id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., message: _Optional[_Union[_content_pb2.Message, _Mapping]] = ..., finish_reason: _Optional[_Union[_common_pb2.FinishReason, str]] = ..., provider_finish_reason: _Optional[str] = ..., stop_sequence: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ..., request_id: _Optional[str] = ..., upstream_request_id: _Optional[str] = ...) -> None: ...

class StreamChatRequest(_message.Message):
    __slots__ = ("input", "metadata")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    input: ChatInput
    metadata: _common_pb2.RequestMetadata
    def __init__(self, input: _Optional[_Union[ChatInput, _Mapping]] = ..., metadata: _Optional[_Union[_common_pb2.RequestMetadata, _Mapping]] = ...) -> None: ...

class StreamChatResponse(_message.Message):
    __slots__ = ("start", "text_delta", "reasoning_delta", "tool_call_start", "tool_call_delta", "tool_call_end", "usage", "done")
    START_FIELD_NUMBER: _ClassVar[int]
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    REASONING_DELTA_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_START_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_DELTA_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_END_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    start: StreamStart
    text_delta: TextDelta
    reasoning_delta: ReasoningDelta
    tool_call_start: ToolCallStart
    tool_call_delta: ToolCallDelta
    tool_call_end: ToolCallEnd
    usage: UsageUpdate
    done: StreamDone
    def __init__(self, start: _Optional[_Union[StreamStart, _Mapping]] = ..., text_delta: _Optional[_Union[TextDelta, _Mapping]] = ..., reasoning_delta: _Optional[_Union[ReasoningDelta, _Mapping]] = ..., tool_call_start: _Optional[_Union[ToolCallStart, _Mapping]] = ..., tool_call_delta: _Optional[_Union[ToolCallDelta, _Mapping]] = ..., tool_call_end: _Optional[_Union[ToolCallEnd, _Mapping]] = ..., usage: _Optional[_Union[UsageUpdate, _Mapping]] = ..., done: _Optional[_Union[StreamDone, _Mapping]] = ...) -> None: ...

class StreamStart(_message.Message):
    __slots__ = ("id", "model", "provider", "request_id", "upstream_request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    model: str
    provider: str
    request_id: str
    upstream_request_id: str
    def __init__(self, id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., request_id: _Optional[str] = ..., upstream_request_id: _Optional[str] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("index", "text", "thought_signature")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    THOUGHT_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    thought_signature: str
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ..., thought_signature: _Optional[str] = ...) -> None: ...

class ReasoningDelta(_message.Message):
    __slots__ = ("index", "text", "signature", "redacted_data", "id", "provider_type")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REDACTED_DATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    signature: str
    redacted_data: bytes
    id: str
    provider_type: str
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ..., signature: _Optional[str] = ..., redacted_data: _Optional[bytes] = ..., id: _Optional[str] = ..., provider_type: _Optional[str] = ...) -> None: ...

class ToolCallStart(_message.Message):
    __slots__ = ("index", "id", "name", "thought_signature")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    THOUGHT_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    index: int
    id: str
    name: str
    thought_signature: str
    def __init__(self, index: _Optional[int] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., thought_signature: _Optional[str] = ...) -> None: ...

class ToolCallDelta(_message.Message):
    __slots__ = ("index", "arguments_fragment")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FRAGMENT_FIELD_NUMBER: _ClassVar[int]
    index: int
    arguments_fragment: str
    def __init__(self, index: _Optional[int] = ..., arguments_fragment: _Optional[str] = ...) -> None: ...

class ToolCallEnd(_message.Message):
    __slots__ = ("index", "tool_call")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    index: int
    tool_call: _content_pb2.ToolCall
    def __init__(self, index: _Optional[int] = ..., tool_call: _Optional[_Union[_content_pb2.ToolCall, _Mapping]] = ...) -> None: ...

class UsageUpdate(_message.Message):
    __slots__ = ("usage",)
    USAGE_FIELD_NUMBER: _ClassVar[int]
    usage: _common_pb2.Usage
    def __init__(self, usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ...) -> None: ...

class StreamDone(_message.Message):
    __slots__ = ("finish_reason", "provider_finish_reason", "stop_sequence", "usage")
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    STOP_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    finish_reason: _common_pb2.FinishReason
    provider_finish_reason: str
    stop_sequence: str
    usage: _common_pb2.Usage
    def __init__(self, finish_reason: _Optional[_Union[_common_pb2.FinishReason, str]] = ..., provider_finish_reason: _Optional[str] = ..., stop_sequence: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.Usage, _Mapping]] = ...) -> None: ...

class CountTokensRequest(_message.Message):
    __slots__ = ("input", "metadata")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    input: ChatInput
    metadata: _common_pb2.RequestMetadata
    def __init__(self, input: _Optional[_Union[ChatInput, _Mapping]] = ..., metadata: _Optional[_Union[_common_pb2.RequestMetadata, _Mapping]] = ...) -> None: ...

class CountTokensResponse(_message.Message):
    __slots__ = ("input_tokens", "method", "method_detail", "model", "provider")
    class Method(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        METHOD_UNSPECIFIED: _ClassVar[CountTokensResponse.Method]
        METHOD_PROVIDER_ENDPOINT: _ClassVar[CountTokensResponse.Method]
        METHOD_PROVIDER_TOKENIZER: _ClassVar[CountTokensResponse.Method]
        METHOD_BUILTIN: _ClassVar[CountTokensResponse.Method]
    METHOD_UNSPECIFIED: CountTokensResponse.Method
    METHOD_PROVIDER_ENDPOINT: CountTokensResponse.Method
    METHOD_PROVIDER_TOKENIZER: CountTokensResponse.Method
    METHOD_BUILTIN: CountTokensResponse.Method
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    METHOD_DETAIL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    method: CountTokensResponse.Method
    method_detail: str
    model: str
    provider: str
    def __init__(self, input_tokens: _Optional[int] = ..., method: _Optional[_Union[CountTokensResponse.Method, str]] = ..., method_detail: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class BatchChatRequest(_message.Message):
    __slots__ = ("items", "max_concurrency", "metadata")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[BatchChatItem]
    max_concurrency: int
    metadata: _common_pb2.RequestMetadata
    def __init__(self, items: _Optional[_Iterable[_Union[BatchChatItem, _Mapping]]] = ..., max_concurrency: _Optional[int] = ..., metadata: _Optional[_Union[_common_pb2.RequestMetadata, _Mapping]] = ...) -> None: ...

class BatchChatItem(_message.Message):
    __slots__ = ("id", "input")
    ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    input: ChatInput
    def __init__(self, id: _Optional[str] = ..., input: _Optional[_Union[ChatInput, _Mapping]] = ...) -> None: ...

class BatchChatResponse(_message.Message):
    __slots__ = ("id", "response", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    response: ChatResponse
    error: _common_pb2.ItemError
    def __init__(self, id: _Optional[str] = ..., response: _Optional[_Union[ChatResponse, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.ItemError, _Mapping]] = ...) -> None: ...
