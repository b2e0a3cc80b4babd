"""The configuration shipped in deploy/gateway.yaml's ConfigMap is valid and
says what deploy/README.md promises."""

from __future__ import annotations

from pathlib import Path

import yaml
from llm_gateway.config.loader import load_config

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "gateway.yaml"


def test_the_configmap_holds_a_valid_configuration(tmp_path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    (configmap,) = [d for d in documents if d["kind"] == "ConfigMap"]
    (text,) = configmap["data"].values()
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    config = load_config(path, env={"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"})
    assert config.server.address == "0.0.0.0:50051"
    # Clients reconnect now and then, so a Service spreads them over replicas.
    assert config.server.max_connection_age_seconds == 300
    assert config.server.max_connection_age_grace_seconds is None
