"""docs/providers.md is generated from the adapters' declared capabilities;
this fails when someone changes an adapter without `make docs`."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_provider_matrix_is_current() -> None:
    spec = importlib.util.spec_from_file_location("provider_matrix",
                                                  ROOT / "tools" / "provider_matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "providers.md").read_text(encoding="utf-8")
    assert current == module.render(), "docs/providers.md is stale: run `make docs`"
