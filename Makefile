# The two commands of the README:
#   make run    set up a virtualenv and start the gateway on 127.0.0.1:50051
#   make test   install what the tests need and run all of them
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install -q --disable-pip-version-check -c constraints.txt
ADDRESS ?= 127.0.0.1:50051
PYTEST_ARGS ?=
export PATH := $(CURDIR)/.tools/bin:$(PATH)

.PHONY: run test generate check-generated codegen-tools lint breaking release-contract \
        docs clients-deps test-python clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run: $(BIN)/python pyproject.toml constraints.txt generated/python/pyproject.toml
	$(PIP) -e generated/python -e '.[fast]'
	@touch $@

$(VENV)/.test: $(VENV)/.run clients/python/pyproject.toml
	$(PIP) -e '.[fast,test]' -e clients/python
	@touch $@

run: $(VENV)/.run
	$(BIN)/llm-gateway serve --address $(ADDRESS)

## The benchmark (bench/README.md), not part of `make test`:
## `make bench`, or `make bench BENCH_ARGS=--quick` for a short smoke run.
.PHONY: bench
bench: $(VENV)/.run
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## Code generators (Go plugins, protoc-gen-es, prost/tonic), pinned in tools/.
codegen-tools:
	tools/install-codegen.sh

## Stubs for every language, from proto/ (committed).
generate: $(VENV)/.test codegen-tools
	PYTHON=$(BIN)/python BUF=$(BIN)/buf tools/generate.sh generated

## Fails when the committed stubs differ from what proto/ generates.
GENERATED := python/llmgateway go/llmgateway typescript/src rust/src/llmgateway.v1.rs
check-generated: $(VENV)/.test codegen-tools
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	PYTHON=$(BIN)/python BUF=$(BIN)/buf tools/generate.sh $$tmp >/dev/null; \
	stale=0; for p in $(GENERATED); do \
	  diff -r -q generated/$$p $$tmp/$$p || stale=1; \
	done; \
	if [ $$stale = 1 ]; then \
	  echo "generated stubs are stale: run 'make generate' and commit the result"; exit 1; \
	fi; echo "generated stubs are up to date"

## Contract checks: buf lint (STANDARD) and buf breaking (FILE) against the
## released contract image in proto-lock/.
lint: $(VENV)/.test
	$(BIN)/buf lint
	$(BIN)/ruff check service tests clients/python bench

breaking: $(VENV)/.test
	$(BIN)/buf breaking --against proto-lock/llmgateway-v1.binpb

release-contract: $(VENV)/.test
	$(BIN)/buf build -o proto-lock/llmgateway-v1.binpb

## docs/providers.md, the provider x feature matrix, from the adapters.
docs: $(VENV)/.test
	$(BIN)/python tools/provider_matrix.py

## Each client's dependencies, from the registries (versions pinned by the
## lockfiles), and its build: the suites themselves then run inside pytest
## (tests/clients/) against the live gateway, without compiling there.
NPM_CI := npm ci --no-audit --no-fund --loglevel=error
export CARGO_TARGET_DIR := $(CURDIR)/.tools/cargo-target
clients-deps:
	cd generated/typescript && $(NPM_CI)
	cd clients/typescript && $(NPM_CI)
	cd clients/go && go mod download && go vet ./... && go test -count=1 -run '^$$' ./...
	cd clients/rust && cargo test --locked --no-run --quiet

test-python: $(VENV)/.test clients-deps
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: lint breaking check-generated test-python

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache
