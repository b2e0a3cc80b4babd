"""OpenAI Chat Completions and the servers that speak it, as data.

Each preset is a provider type in the configuration (`type: vllm`); all are
served by the one adapter in `adapter.py`. A preset says where the server
usually is, how it is authenticated, and which parts of the neutral contract
it understands beyond the common OpenAI core; the adapter refuses the rest
with UNSUPPORTED_FEATURE instead of dropping it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    type: str
    title: str
    base_url: str
    # Environment variables that enable the preset in the embedded default
    # configuration, and hold its key and (optionally) its URL.
    api_key_env: str | None = None
    base_url_env: str | None = None
    requires_key: bool = True
    # The request field for the output limit (OpenAI deprecated max_tokens).
    max_tokens_field: str = "max_tokens"
    seed_field: str = "seed"
    # Which of top_k, min_p, repetition_penalty the server takes (top level).
    sampling_extras: frozenset[str] = frozenset()
    # vLLM's `structured_outputs` (regex, grammar, choice).
    guided_decoding: bool = False
    reasoning_effort: bool = False
    vision: bool = True
    strict_tools: bool = True
    embeddings: bool = True
    completions: bool = False
    # vLLM's /tokenize endpoint (served beside /v1, at the server root).
    tokenize: bool = False
    # Sends assistant reasoning back as `reasoning_content` (DeepSeek thinking
    # mode with tools needs it within a turn).
    echo_reasoning_content: bool = False
    docs: str = ""


_ALL = frozenset({"top_k", "min_p", "repetition_penalty"})

PRESETS: dict[str, Preset] = {p.type: p for p in (
    Preset("openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY", "OPENAI_BASE_URL",
           max_tokens_field="max_completion_tokens", reasoning_effort=True, completions=True,
           docs="https://platform.openai.com/docs/api-reference/chat"),
    Preset("vllm", "vLLM", "http://localhost:8000/v1", "VLLM_API_KEY", "VLLM_BASE_URL",
           requires_key=False, sampling_extras=_ALL, guided_decoding=True,
           reasoning_effort=True, completions=True, tokenize=True,
           docs="https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html"),
    Preset("ollama_openai", "Ollama (OpenAI-compatible /v1)", "http://localhost:11434/v1",
           requires_key=False, reasoning_effort=True, strict_tools=False, completions=True,
           docs="https://github.com/ollama/ollama/blob/main/docs/openai.md"),
    Preset("llamacpp", "llama.cpp server", "http://localhost:8080/v1", requires_key=False,
           sampling_extras=_ALL - {"repetition_penalty"}, strict_tools=False, completions=True,
           docs="https://github.com/ggml-org/llama.cpp/tree/master/tools/server"),
    Preset("lmstudio", "LM Studio", "http://localhost:1234/v1", requires_key=False,
           sampling_extras=frozenset({"top_k", "min_p"}), strict_tools=False, completions=True,
           docs="https://lmstudio.ai/docs/app/api/endpoints/openai"),
    Preset("tgi", "Hugging Face TGI", "http://localhost:8080/v1", requires_key=False,
           strict_tools=False, embeddings=False, completions=True,
           docs="https://huggingface.co/docs/text-generation-inference/messages_api"),
    Preset("groq", "Groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY",
           max_tokens_field="max_completion_tokens", reasoning_effort=True, strict_tools=False,
           embeddings=False, docs="https://console.groq.com/docs/api-reference"),
    Preset("together", "Together AI", "https://api.together.xyz/v1", "TOGETHER_API_KEY",
           sampling_extras=_ALL, reasoning_effort=True, completions=True,
           docs="https://docs.together.ai/reference/chat-completions-1"),
    Preset("fireworks", "Fireworks AI", "https://api.fireworks.ai/inference/v1",
           "FIREWORKS_API_KEY", sampling_extras=_ALL, reasoning_effort=True, completions=True,
           docs="https://docs.fireworks.ai/api-reference/post-chatcompletions"),
    Preset("deepseek", "DeepSeek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY",
           vision=False, embeddings=False, strict_tools=False, echo_reasoning_content=True,
           docs="https://api-docs.deepseek.com/api/create-chat-completion"),
    Preset("mistral", "Mistral AI", "https://api.mistral.ai/v1", "MISTRAL_API_KEY",
           seed_field="random_seed", strict_tools=False,
           docs="https://docs.mistral.ai/api/#tag/chat"),
    Preset("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY",
           sampling_extras=_ALL, reasoning_effort=True, embeddings=False, completions=True,
           docs="https://openrouter.ai/docs/api-reference/chat-completion"),
    Preset("xai", "xAI", "https://api.x.ai/v1", "XAI_API_KEY", reasoning_effort=True,
           embeddings=False, docs="https://docs.x.ai/docs/api-reference"),
)}
