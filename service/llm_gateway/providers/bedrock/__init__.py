"""Amazon Bedrock: the Converse API for chat, InvokeModel for embeddings,
CountTokens for token counts and ListFoundationModels for discovery."""
