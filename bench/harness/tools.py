"""The benchmark's tools, installed when missing: nginx and wrk from Debian's
packages (apt-get), ghz from the Go module proxy (pinned), buf and py-spy
from the pinned pip constraints, and bench/loadgen built with the local Go."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Pinned: the module proxy's version list for ghz stops at v0.93.0 (2021),
# so `@latest` installs that; v0.120.0 (2024) is ghz's latest release.
GHZ_MODULE = "github.com/bojand/ghz/cmd/ghz"
GHZ_VERSION = "v0.120.0"


@dataclass(frozen=True)
class Tools:
    nginx: str
    wrk: str
    ghz: str
    buf: str
    go: str
    loadgen: str  # built into the run directory
    py_spy: str | None  # None: could not be installed (the profile is skipped)

    def versions(self) -> dict[str, str]:
        return {
            "nginx": _first_line([self.nginx, "-v"]).rpartition("/")[2],
            "wrk": _first_line([self.wrk, "-v"]).split(" [")[0].removeprefix("wrk "),
            "ghz": GHZ_VERSION,
            "go": _first_line([self.go, "version"]).split()[2],
            "python (harness)": sys.version.split()[0],
        }


def _first_line(argv: list[str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise SystemExit(f"bench: missing {', '.join(packages)} and no apt-get to install it")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing {' '.join(packages)} (apt-get)")
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def _which(name: str, *extra_dirs: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs])
    return shutil.which(name, path=path)


def ensure_nginx() -> str:
    # Debian installs nginx in /usr/sbin, which a user's PATH may lack.
    found = _which("nginx", "/usr/sbin", "/sbin")
    if found is None:
        _apt_install("nginx-light")
        found = _which("nginx", "/usr/sbin", "/sbin")
    if found is None:
        raise SystemExit("bench: nginx is still missing after installing nginx-light")
    return found


def ensure_wrk() -> str:
    found = _which("wrk")
    if found is None:
        _apt_install("wrk")
        found = _which("wrk")
    if found is None:
        raise SystemExit("bench: wrk is still missing after installing it")
    return found


def ensure_go() -> str:
    found = _which("go", "/usr/local/go/bin", "/usr/lib/go/bin")
    if found is None:
        _apt_install("golang-go")
        found = _which("go", "/usr/lib/go/bin")
    if found is None:
        raise SystemExit("bench: Go is missing")
    # An older Go fetches the toolchain go.mod asks for (like .ci/run).
    os.environ.setdefault("GOTOOLCHAIN", "auto")
    return found


def _ghz_version(ghz: Path, go: str) -> str | None:
    out = subprocess.run([go, "version", "-m", str(ghz)], capture_output=True, text=True,
                         check=False)
    match = re.search(r"^\s*mod\s+github\.com/bojand/ghz\s+(\S+)", out.stdout, re.M)
    return match.group(1) if match else None


def ensure_ghz(repo: Path, go: str) -> str:
    bin_dir = repo / ".tools" / "bin"
    ghz = bin_dir / "ghz"
    if ghz.exists() and _ghz_version(ghz, go) == GHZ_VERSION:
        return str(ghz)
    say(f"installing ghz {GHZ_VERSION} (go install)")
    bin_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([go, "install", f"{GHZ_MODULE}@{GHZ_VERSION}"], check=True,
                   env={**os.environ, "GOBIN": str(bin_dir)})
    return str(ghz)


def _pip_install(repo: Path, package: str) -> bool:
    """`package` into the project's .venv, at the version constraints.txt pins."""
    say(f"installing {package} (pip, pinned by constraints.txt)")
    done = subprocess.run([str(repo / ".venv" / "bin" / "pip"), "install", "-q",
                           "--disable-pip-version-check", "-c", str(repo / "constraints.txt"),
                           package], check=False)
    return done.returncode == 0


def ensure_buf(repo: Path) -> str:
    buf = repo / ".venv" / "bin" / "buf"
    if not buf.exists() and not _pip_install(repo, "buf-bin"):
        raise RuntimeError("buf could not be installed (pip install buf-bin)")
    return str(buf)


def ensure_py_spy(repo: Path) -> str | None:
    py_spy = repo / ".venv" / "bin" / "py-spy"
    if not py_spy.exists() and not _pip_install(repo, "py-spy"):
        say("WARNING: py-spy could not be installed: no profile in this run")
        return None
    return str(py_spy)


def build_loadgen(repo: Path, go: str, out_dir: Path) -> str:
    out = out_dir / "loadgen"
    subprocess.run([go, "build", "-o", str(out), "."], check=True, cwd=repo / "bench" / "loadgen")
    return str(out)


def build_protoset(repo: Path, buf: str, out_dir: Path) -> Path:
    """ghz cannot read proto3 `optional` from .proto files, and the server's
    reflection is v1alpha only: ghz gets a descriptor set."""
    out = out_dir / "llmgateway.protoset"
    subprocess.run([buf, "build", "--as-file-descriptor-set", "-o", str(out)], check=True,
                   cwd=repo)
    return out


def ensure_tools(repo: Path, out_dir: Path) -> Tools:
    for tool in ("taskset",):
        if _which(tool) is None:
            _apt_install("util-linux")
    go = ensure_go()
    return Tools(nginx=ensure_nginx(), wrk=ensure_wrk(), ghz=ensure_ghz(repo, go),
                 buf=ensure_buf(repo), go=go, loadgen=build_loadgen(repo, go, out_dir),
                 py_spy=ensure_py_spy(repo))
