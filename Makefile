# Every target bootstraps .venv itself (uv from PyPI), so a fresh clone needs only Python 3.11, git and make.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

CHROMIUM := /usr/bin/chromium

.PHONY: venv test lint format typecheck demo ui bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv

$(STAMP): pyproject.toml | $(BIN)/python
	$(UV) pip install --quiet --python $(BIN)/python -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

# The browser test drives Debian's Chromium (never a downloaded browser build): install it if missing.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "Installing Debian's chromium for tests/e2e/test_connection_ui.py"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null ) \
	    || echo "warning: could not install chromium; the browser test will fail (apt-get install chromium)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python -m airflow_bigcommerce.demo

ui: $(STAMP)
	$(BIN)/python -m airflow_bigcommerce.demo --ui

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sync.py
	$(BIN)/python benchmarks/bench_conditions.py

clean:
	rm -rf $(VENV) .demo .artifacts
