"""Each language's client suite (clients/TESTING.md), run by that language's
own test runner against the real gateway process of this session.

These tests only orchestrate: start the environment, run the runner, and
fail with its output when it fails. A missing toolchain is a failure, never a
skip: `.ci/run` installs every toolchain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.client_env import script_client_routes
from tests.support.fake_upstream import FakeUpstream
from tests.support.gateway_process import GatewayProcess

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"
# `make test` builds every client before pytest starts (clients-deps); this
# bound covers a suite run by hand on a cold cache.
TIMEOUT = 900
pytestmark = pytest.mark.timeout(TIMEOUT)


@pytest.fixture
def client_env(gateway: GatewayProcess, rotating_gateway: GatewayProcess,
               upstream: FakeUpstream) -> dict[str, str]:
    script_client_routes(upstream)
    return {**os.environ, "LLMGATEWAY_ADDRESS": gateway.address,
            "LLMGATEWAY_ROTATING_ADDRESS": rotating_gateway.address}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None and not Path(command[0]).exists():
        pytest.fail(f"{command[0]} is not installed (run .ci/run or install it)")
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed in {cwd}:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")


def test_python_client(client_env: dict[str, str]) -> None:
    run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], CLIENTS / "python",
        client_env)


def test_go_client(client_env: dict[str, str]) -> None:
    run(["go", "test", "-count=1", "./..."], CLIENTS / "go", client_env)


def test_typescript_client(client_env: dict[str, str]) -> None:
    run(["npm", "test", "--silent"], CLIENTS / "typescript", client_env)


def test_rust_client(client_env: dict[str, str]) -> None:
    env = {**client_env, "CARGO_TARGET_DIR": str(ROOT / ".tools" / "cargo-target")}
    run(["cargo", "test", "--locked", "--quiet"], CLIENTS / "rust", env)
