# marketdesk: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "marketdesk needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements-dev.lock pyproject.toml
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Build .venv from the pinned lock file
	@echo "marketdesk installed in $(VENV)"

.PHONY: lock
lock: $(BIN)/python ## Re-pin requirements*.lock from pyproject.toml
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile --quiet --no-header --python-version 3.11 pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --no-header --python-version 3.11 pyproject.toml --extra dev -o requirements-dev.lock

.PHONY: up
up: install ## Run the whole desk on the embedded defaults (SQLite, in-process bus, simulated market)
	$(BIN)/marketdesk up

.PHONY: chromium
chromium: ## Install Debian's chromium for the browser tests when it is missing
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	elif command -v sudo >/dev/null; then \
		sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; \
	else echo "cannot install chromium (not root, no sudo): the browser tests will skip and say so"; fi

.PHONY: lint
lint: install ## ruff and mypy
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy

.PHONY: test
test: install chromium ## Lint, then every test suite (unit, storage on SQLite and PostgreSQL, Redis, contract, e2e)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15

.PHONY: e2e
e2e: install chromium ## Only the browser suite, in real Chromium
	$(BIN)/python -m pytest -m browser -n 0 tests/e2e

.PHONY: bench
bench: install ## Benchmarks: one JSON line per figure
	@for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

.PHONY: format
format: install ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix src tests bench migrations
	$(BIN)/ruff format src tests bench migrations

.PHONY: clean
clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
