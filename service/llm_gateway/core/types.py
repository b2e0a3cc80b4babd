"""The provider-neutral model of a chat call: the spine of the gateway.

Servicers translate protobuf to and from these types; provider adapters
translate them to and from each provider's wire format. Nothing else crosses
a layer. They are pure values: frozen dataclasses without behaviour or I/O,
mirroring `proto/llmgateway/v1/{content,generation,chat,common}.proto`.

JSON-valued fields (tool parameter schemas, response schemas, provider
options) are parsed once at the boundary and held as plain dicts; tool-call
arguments stay JSON *text*, exactly as the model produced them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JsonObject = Mapping[str, Any]


class Role(enum.Enum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


# --- Content parts -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    # Gemini's thoughtSignature on this part: opaque, returned unchanged.
    thought_signature: str = ""


@dataclass(frozen=True, slots=True)
class ImagePart:
    mime_type: str
    data: bytes | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallPart:
    id: str
    name: str
    arguments_json: str
    thought_signature: str = ""


@dataclass(frozen=True, slots=True)
class ToolResultPart:
    tool_call_id: str
    content: tuple[TextPart | ImagePart, ...]
    name: str = ""
    is_error: bool = False

    def text(self) -> str:
        """The text content joined: what providers without rich results get."""
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True)
class ReasoningPart:
    text: str = ""
    signature: str = ""
    redacted_data: bytes = b""
    id: str = ""
    # The provider type that produced the opaque fields above; adapters of
    # other types must not send them upstream.
    provider_type: str = ""


Part = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    parts: tuple[Part, ...]
    name: str = ""

    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


# --- Generation controls -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    stop_sequences: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class FunctionTool:
    name: str
    description: str = ""
    # None means "no arguments"; adapters send the empty-object schema.
    parameters: JsonObject | None = None
    strict: bool | None = None


class ToolChoiceMode(enum.Enum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class ToolChoice:
    mode: ToolChoiceMode | None = None
    function_name: str | None = None
    parallel_tool_calls: bool | None = None


@dataclass(frozen=True, slots=True)
class TextFormat:
    pass


@dataclass(frozen=True, slots=True)
class JsonObjectFormat:
    pass


@dataclass(frozen=True, slots=True)
class JsonSchemaFormat:
    schema: JsonObject
    name: str = ""
    description: str = ""
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class RegexFormat:
    pattern: str


@dataclass(frozen=True, slots=True)
class GrammarFormat:
    grammar: str


@dataclass(frozen=True, slots=True)
class ChoiceFormat:
    choices: tuple[str, ...]


ResponseFormat = (
    TextFormat | JsonObjectFormat | JsonSchemaFormat | RegexFormat | GrammarFormat | ChoiceFormat
)


class ReasoningEffort(enum.Enum):
    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"
    MAX = "max"


@dataclass(frozen=True, slots=True)
class ReasoningConfig:
    effort: ReasoningEffort | None = None
    budget_tokens: int | None = None
    include_thoughts: bool | None = None


# --- Request ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestMetadata:
    request_id: str = ""
    end_user_id: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    # As the caller wrote it: an alias or "provider/model". Adapters use the
    # resolved upstream model from their CallContext instead.
    model: str
    messages: tuple[Message, ...]
    system: tuple[TextPart, ...] = ()
    generation: GenerationConfig = GenerationConfig()
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    reasoning: ReasoningConfig | None = None
    # Key: provider type or configured provider name; value: a JSON object.
    provider_options: Mapping[str, JsonObject] = field(default_factory=dict)
    metadata: RequestMetadata = RequestMetadata()

    def system_text(self) -> str:
        return "".join(p.text for p in self.system)


# --- Response -----------------------------------------------------------------


class FinishReason(enum.Enum):
    UNSPECIFIED = "unspecified"
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    CONTEXT_LENGTH = "context_length"
    PAUSED = "paused"
    MALFORMED_TOOL_CALL = "malformed_tool_call"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Usage:
    """One semantics for every provider (see common.proto Usage):
    input_tokens includes cached reads and writes; output_tokens includes
    reasoning."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class ChatResponse:
    id: str
    model: str
    message: Message
    finish_reason: FinishReason
    provider_finish_reason: str = ""
    stop_sequence: str = ""
    usage: Usage = Usage()
    upstream_request_id: str = ""
    # Stamped by the gateway, not by adapters.
    provider: str = ""
    request_id: str = ""
