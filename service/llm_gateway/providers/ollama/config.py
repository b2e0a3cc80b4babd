"""Configuration of the Ollama native API provider (`type: ollama`), and how
the embedded default finds a server from `OLLAMA_HOST`.

Ollama listens on http://localhost:11434 without authentication. Behind an
authenticating reverse proxy, `api_key` is sent as `Authorization: Bearer`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from pydantic import field_validator

from ...config.schema import HttpProviderConfig

DEFAULT_BASE_URL = "http://localhost:11434"
DEFAULT_PORT = "11434"


class OllamaConfig(HttpProviderConfig):
    type: str = "ollama"
    base_url: str = DEFAULT_BASE_URL

    @field_validator("base_url")
    @classmethod
    def _server_root(cls, value: str) -> str:
        # The native API lives at /api/... under the server root; a URL ending
        # in /v1 is the OpenAI-compatible API, which another type speaks.
        root = value.rstrip("/")
        if root.endswith(("/v1", "/api")):
            raise ValueError("must be the Ollama server root (for example "
                             "http://localhost:11434), without /v1 or /api; for the "
                             "OpenAI-compatible /v1 API use type ollama_openai")
        return value


def host_url(value: str) -> str:
    """The base URL a client uses for an `OLLAMA_HOST` value.

    Ollama reads OLLAMA_HOST as `[scheme://]host[:port][/path]`: without a
    scheme it is http with port 11434; `http://` and `https://` without a port
    mean 80 and 443; a bare IP or name keeps port 11434; `ollama.com` alone
    is https://ollama.com:443 (envconfig.Host). An unspecified bind address
    (0.0.0.0, ::) is where a server listens, not an address to connect to:
    the client uses loopback instead (as envconfig.ConnectableHost does).
    """
    text = value.strip()
    scheme, sep, rest = text.partition("://")
    default_port = DEFAULT_PORT
    if not sep:
        scheme, rest = "http", text
        if text == "ollama.com":  # Ollama's own shorthand for its cloud
            return "https://ollama.com:443"
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, slash, path = rest.partition("/")
    host, port = _split_host_port(hostport)
    if port is None:
        port = default_port
    if not host:
        host = "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and ip.is_unspecified:
        host = "127.0.0.1" if ip.version == 4 else "::1"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    url = f"{scheme}://{host}:{port}"
    return f"{url}/{path}".rstrip("/") if slash else url


def _split_host_port(hostport: str) -> tuple[str, str | None]:
    """("host", "port") like Go's net.SplitHostPort, or (host, None)."""
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        return host, tail[1:] if tail.startswith(":") and tail[1:].isdigit() else None
    host, sep, port = hostport.rpartition(":")
    if sep and ":" not in host and port.isdigit():
        return host, port
    return hostport, None


def from_env(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The embedded default serves Ollama when OLLAMA_HOST is set."""
    host = env.get("OLLAMA_HOST", "").strip()
    if not host:
        return None
    return {"type": "ollama", "base_url": host_url(host)}
