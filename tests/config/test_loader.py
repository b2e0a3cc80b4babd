import os
import subprocess
import sys
from pathlib import Path

import pytest
from llm_gateway.config.loader import ConfigError, load_config

from tests.support.fake_upstream import FakeUpstream

SECRET = "sk-test-secret-value-123456"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return path


def problems(exc: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return dict(exc.value.problems)


def test_embedded_default_has_echo_only_without_provider_env() -> None:
    config = load_config(None, env={})
    assert list(config.providers) == ["echo"]
    assert config.server.address == "127.0.0.1:50051"


def test_full_file_with_env_interpolation(tmp_path: Path) -> None:
    path = write(tmp_path, """
server:
  address: 0.0.0.0:6000
  workers: 2
  drain_seconds: 1.5
providers:
  echo: {}
  local-echo:
    type: echo
    models: [a, {id: b, kind: embedding, embedding_dimensions: 8}]
aliases:
  fast: echo/echo
  default-embed: local-echo/b
""")
    config = load_config(path, env={})
    assert config.server.workers == 2
    assert config.providers["local-echo"].type == "echo"
    assert [m.id for m in config.providers["local-echo"].models] == ["a", "b"]
    assert config.aliases == {"fast": "echo/echo", "default-embed": "local-echo/b"}


def test_env_interpolation_fallback_and_escape(tmp_path: Path) -> None:
    from llm_gateway.config.env import interpolate

    env = {"HOST": "h", "EMPTY": ""}
    assert interpolate({"a": "${HOST}:1", "b": "${EMPTY:-x}", "c": "$${HOST}",
                        "d": ["${MISSING:-y}"]}, env) == {
        "a": "h:1", "b": "x", "c": "${HOST}", "d": ["y"]}


def test_every_missing_env_variable_names_its_field(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  address: ${GATEWAY_ADDR}\nproviders:\n  openai:\n"
                           "    api_key: ${OPENAI_API_KEY}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert problems(exc) == {
        "server.address": "environment variable GATEWAY_ADDR is not set",
        "providers.openai.api_key": "environment variable OPENAI_API_KEY is not set"}


def test_every_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, f"""
server:
  address: nowhere
  workers: -1
  colour: blue
providers:
  mystery: {{}}
  bad: {{type: warp}}
  echo:
    models: [{{id: x, capabilities: {{telepathy: true}}}}]
    api_key: {SECRET}
aliases:
  fast: nobody/model
  "a/b": echo/x
""")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    found = problems(exc)
    assert found["server.address"].startswith("must be host:port")
    assert "greater than or equal to 0" in found["server.workers"]
    assert found["server.colour"] == "unknown setting"
    assert found["providers.mystery.type"].startswith("required; one of")
    assert found["providers.bad.type"].startswith("unknown provider type")
    assert "unknown capability telepathy" in found["providers.echo.models[0].capabilities"]
    assert found["providers.echo.api_key"] == "unknown setting"
    assert "not configured" in found["aliases.fast"]
    assert "must not contain" in found["aliases.a/b"]
    assert SECRET not in str(exc.value)


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  address: [unclosed\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert "line" in str(exc.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml", env={})


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llm_gateway", *args],
                          capture_output=True, text=True, timeout=60)


def test_check_config_command(tmp_path: Path) -> None:
    good = write(tmp_path, "providers:\n  echo: {}\naliases:\n  e: echo/echo\n")
    ok = run_cli("check-config", str(good))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout and "echo (echo)" in ok.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"providers:\n  echo:\n    nonsense: {SECRET}\n")
    result = run_cli("check-config", str(bad))
    assert result.returncode == 2
    assert "providers.echo.nonsense: unknown setting" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_bad_config_stops_start_up(tmp_path: Path) -> None:
    bad = write(tmp_path, "server:\n  grace_seconds: soon\n")
    result = run_cli("serve", "--config", str(bad), "--address", "127.0.0.1:0")
    assert result.returncode == 2
    assert "server.grace_seconds" in result.stderr


def test_check_providers_command(tmp_path: Path, upstream: FakeUpstream) -> None:
    from tests.fixtures import openai as fx
    from tests.support.fake_upstream import Reply

    upstream.on("GET", "/v1/models", Reply(json=fx.MODELS))
    upstream.on("GET", "/bad/v1/models", Reply(401, json=fx.ERROR_BAD_KEY))
    path = write(tmp_path, f"""
providers:
  echo: {{}}
  good: {{type: openai, base_url: "{upstream.url}/v1", api_key: "${{GOOD_KEY}}"}}
  bad: {{type: openai, base_url: "{upstream.url}/bad/v1", api_key: "{SECRET}"}}
""")
    result = subprocess.run([sys.executable, "-m", "llm_gateway", "check-providers", "--config",
                             str(path)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "GOOD_KEY": "k"})
    assert result.returncode == 1, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["echo"] == "ok" and lines["good"] == "ok"
    assert lines["bad"].startswith("FAILED") and SECRET not in result.stdout
    upstream.wait_for_exchange(2)
    sent = next(r for r in upstream.requests() if r.path == "/v1/models")
    assert sent.headers["authorization"] == "Bearer k"
