"""Which model capabilities a request needs: the gateway refuses a request
that needs a capability its model lacks, naming the feature, instead of
silently dropping it."""

from __future__ import annotations

from .models import Capabilities
from .types import (
    ChatRequest,
    ChoiceFormat,
    GrammarFormat,
    ImagePart,
    JsonObjectFormat,
    JsonSchemaFormat,
    RegexFormat,
    ToolResultPart,
)

# Capabilities that are whole operations: lacking one is UNIMPLEMENTED
# (UnsupportedOperation); lacking any other is a feature the request uses
# (UnsupportedFeature, FAILED_PRECONDITION).
OPERATIONS = frozenset({"chat", "streaming", "embeddings", "text_completion", "token_counting"})

# capability attribute -> the feature's name in error messages
FEATURE_NAMES = {
    "chat": "chat",
    "streaming": "streaming chat",
    "tools": "tools",
    "parallel_tool_calls": "parallel tool calls",
    "vision": "image input",
    "structured_output": "structured output",
    "reasoning": "reasoning controls",
    "embeddings": "embeddings",
    "text_completion": "text completion",
    "token_counting": "token counting",
}


def chat_needs(request: ChatRequest, *, streaming: bool) -> list[str]:
    """Capability names the request needs, in a stable order."""
    needs = ["streaming" if streaming else "chat"]
    if request.tools:
        needs.append("tools")
    if _has_image(request):
        needs.append("vision")
    if isinstance(request.response_format,
                  JsonObjectFormat | JsonSchemaFormat | RegexFormat | GrammarFormat | ChoiceFormat):
        needs.append("structured_output")
    if request.reasoning is not None:
        needs.append("reasoning")
    return needs


def missing(caps: Capabilities, needs: list[str]) -> str | None:
    for need in needs:
        if not getattr(caps, need):
            return need
    return None


def _has_image(request: ChatRequest) -> bool:
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, ImagePart):
                return True
            if isinstance(part, ToolResultPart) and any(
                isinstance(p, ImagePart) for p in part.content
            ):
                return True
    return False
