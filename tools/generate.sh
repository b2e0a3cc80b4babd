#!/usr/bin/env bash
# Generates every language's stubs from proto/ into OUT (default: generated/).
# `make generate` writes generated/; `make check-generated` writes a temporary
# directory and compares it with the committed tree.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-generated}
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"

# --- Python: grpcio-tools' bundled protoc (version pinned in constraints.txt).
py_out="$OUT/python"
mkdir -p "$py_out"
rm -rf "$py_out/llmgateway"
"$PY" -m grpc_tools.protoc -Iproto \
  --python_out="$py_out" --pyi_out="$py_out" --grpc_python_out="$py_out" \
  proto/llmgateway/v1/*.proto
touch "$py_out/llmgateway/__init__.py" "$py_out/llmgateway/v1/__init__.py"
