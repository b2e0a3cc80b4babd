"""The contract guards themselves: buf lint (STANDARD) and buf breaking
(FILE, against the released image) must catch what they exist to catch."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUF = str(Path(sys.executable).with_name("buf"))
IMAGE = ROOT / "proto-lock" / "llmgateway-v1.binpb"


def copy_contract(tmp: Path) -> Path:
    shutil.copytree(ROOT / "proto", tmp / "proto")
    shutil.copy(ROOT / "buf.yaml", tmp / "buf.yaml")
    return tmp / "proto" / "llmgateway" / "v1"


def buf(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BUF, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_current_contract_is_compatible_with_the_release() -> None:
    result = buf(ROOT, "breaking", "--against", str(IMAGE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_a_field_is_caught(tmp_path: Path) -> None:
    v1 = copy_contract(tmp_path)
    chat = v1 / "chat.proto"
    text = chat.read_text()
    assert "  string stop_sequence = 7;\n" in text
    chat.write_text(text.replace("  string stop_sequence = 7;\n", "", 1))
    result = buf(tmp_path, "breaking", "--against", str(IMAGE))
    assert result.returncode != 0
    assert "stop_sequence" in result.stdout + result.stderr


def test_renumbering_an_enum_value_is_caught(tmp_path: Path) -> None:
    v1 = copy_contract(tmp_path)
    common = v1 / "common.proto"
    common.write_text(common.read_text().replace("FINISH_REASON_LENGTH = 2;",
                                                 "FINISH_REASON_LENGTH = 20;"))
    assert buf(tmp_path, "breaking", "--against", str(IMAGE)).returncode != 0


def test_lint_rejects_an_unprefixed_enum_value(tmp_path: Path) -> None:
    v1 = copy_contract(tmp_path)
    (v1 / "extra.proto").write_text(
        'syntax = "proto3";\npackage llmgateway.v1;\nenum Colour {\n  RED = 0;\n}\n')
    result = buf(tmp_path, "lint")
    assert result.returncode != 0 and "should be prefixed with \"COLOUR_\"" in result.stdout
