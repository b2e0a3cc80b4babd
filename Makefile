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

.PHONY: run test generate check-generated lint test-python clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run: $(BIN)/python pyproject.toml constraints.txt generated/python/pyproject.toml
	$(PIP) -e generated/python -e '.[fast]'
	@touch $@

$(VENV)/.test: $(VENV)/.run
	$(PIP) -e '.[fast,test]'
	@touch $@

run: $(VENV)/.run
	$(BIN)/llm-gateway serve --address $(ADDRESS)

## Stubs for every language, from proto/ (committed; see tools/generate.sh).
generate: $(VENV)/.test
	PYTHON=$(BIN)/python tools/generate.sh generated

## Fails when the committed stubs differ from what proto/ generates.
check-generated: $(VENV)/.test
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	PYTHON=$(BIN)/python tools/generate.sh $$tmp >/dev/null; \
	if ! diff -r -q generated/python/llmgateway $$tmp/python/llmgateway; then \
	  echo "generated stubs are stale: run 'make generate' and commit the result"; exit 1; \
	fi; echo "generated stubs are up to date"

lint: $(VENV)/.test
	$(BIN)/buf lint
	$(BIN)/ruff check service tests

test-python: $(VENV)/.test
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: lint check-generated test-python

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
