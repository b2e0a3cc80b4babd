"""llm-gateway: one gRPC door to every LLM provider."""

__version__ = "0.1.0"
