"""Ollama configuration: defaults, the base URL check, and OLLAMA_HOST."""

import pytest
from llm_gateway.config.defaults import default_config
from llm_gateway.config.loader import ConfigError, validate
from llm_gateway.providers.ollama.config import from_env, host_url


def test_defaults() -> None:
    config = validate({"providers": {"ollama": {}}}, "test").providers["ollama"]
    assert config.type == "ollama"
    assert config.base_url == "http://localhost:11434"  # type: ignore[attr-defined]
    assert config.api_key is None  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["http://localhost:11434/v1", "http://localhost:11434/api/"])
def test_base_url_is_the_server_root(url: str) -> None:
    with pytest.raises(ConfigError) as exc:
        validate({"providers": {"local": {"type": "ollama", "base_url": url}}}, "test")
    (path, problem), = exc.value.problems
    assert path == "providers.local.base_url" and "type ollama_openai" in problem


@pytest.mark.parametrize("value, url", [
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("0.0.0.0:8080", "http://127.0.0.1:8080"),
    ("127.0.0.1:11434", "http://127.0.0.1:11434"),
    ("gpu-box", "http://gpu-box:11434"),
    ("gpu-box:1234", "http://gpu-box:1234"),
    (":11434", "http://127.0.0.1:11434"),
    ("  http://gpu-box  ", "http://gpu-box:80"),
    ("https://ollama.example.org", "https://ollama.example.org:443"),
    ("https://proxy.example.org:8443/ollama/", "https://proxy.example.org:8443/ollama"),
    ("::", "http://[::1]:11434"),
    ("[::]:11434", "http://[::1]:11434"),
    ("[fe80::1]:9000", "http://[fe80::1]:9000"),
    ("ollama.com", "https://ollama.com:443"),
])
def test_ollama_host(value: str, url: str) -> None:
    assert host_url(value) == url


def test_embedded_default_serves_ollama_when_ollama_host_is_set() -> None:
    assert from_env({}) is None
    assert from_env({"OLLAMA_HOST": " "}) is None
    assert default_config({"OLLAMA_HOST": "0.0.0.0"})["providers"]["ollama"] == {
        "type": "ollama", "base_url": "http://127.0.0.1:11434"}
    assert "ollama" not in default_config({})["providers"]
