"""Async Python client for the LLM gateway (llmgateway.v1)."""

from .client import DEFAULT_TIMEOUT, GatewayClient, chat_input, user
from .errors import FieldViolation, GatewayError
from .reassemble import Reassembler, areassemble, areassemble_completion, reassemble

__all__ = [
    "DEFAULT_TIMEOUT",
    "FieldViolation",
    "GatewayClient",
    "GatewayError",
    "Reassembler",
    "areassemble",
    "areassemble_completion",
    "chat_input",
    "reassemble",
    "user",
]
