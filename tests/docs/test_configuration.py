"""docs/configuration.md documents every `server` setting the schema has."""

from pathlib import Path

from llm_gateway.config.schema import ServerConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_server_setting_has_a_row() -> None:
    text = DOC.read_text()
    section = text[text.index("## `server`"):text.index("## `providers`")]
    missing = [name for name in ServerConfig.model_fields if f"| `{name}` |" not in section]
    assert not missing, f"docs/configuration.md has no row for server.{missing}"
