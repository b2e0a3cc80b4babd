#!/usr/bin/env bash
# Installs the pinned code generators into .tools/ (idempotent):
#   Go plugins from the Go module proxy, protoc-gen-es from npm (lockfile),
#   the Rust generator (prost + tonic) from crates.io (Cargo.lock).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/versions.env
root=$PWD/.tools
mkdir -p "$root/bin"

want_go="protoc-gen-go $PROTOC_GEN_GO_VERSION"
if [ "$(cat "$root/bin/.go-plugins" 2>/dev/null)" != "$want_go $PROTOC_GEN_GO_GRPC_VERSION" ]; then
  GOBIN="$root/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  GOBIN="$root/bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  echo "$want_go $PROTOC_GEN_GO_GRPC_VERSION" > "$root/bin/.go-plugins"
fi

if [ ! -x tools/node/node_modules/.bin/protoc-gen-es ] \
   || [ tools/node/package-lock.json -nt tools/node/node_modules/.package-lock.json ]; then
  (cd tools/node && npm ci --no-audit --no-fund --loglevel=error)
fi

CARGO_TARGET_DIR="$root/cargo-target" cargo build --quiet --locked \
  --manifest-path tools/rust-codegen/Cargo.toml
