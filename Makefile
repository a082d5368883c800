# Every target bootstraps .venv itself (uv from PyPI), so a fresh clone needs only Python 3.11, git and make.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
PYTEST := $(BIN)/python -m pytest
# Parallel pytest workers (pytest-xdist) for the tiers whose tests are independent: unit, integration.
WORKERS ?= 2
# Airflow versions `make test-compat` tests (the latest patch of each supported minor); the first is the floor.
AIRFLOW_VERSIONS ?= 3.0.6 3.1.8 3.2.2 3.3.2
AIRFLOW_FLOOR := 3.0.6

CHROMIUM := /usr/bin/chromium
# The port `make ui` serves the web UI on (127.0.0.1 only): `make ui PORT=8081`.
PORT ?= 8080

.PHONY: venv check test docs test-compat test-compat-floor dist lint format typecheck demo ui bench clean browser postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv

# The working venv runs the newest supported Airflow: with the docs extra (Sphinx, furo, MyST) uv's
# resolver otherwise settles on Airflow 3.2.2, whose `airflow dags test` is broken (see the docs'
# compatibility page); the older versions have their own venvs (tools/test-compat.sh).
DEV_AIRFLOW := apache-airflow>=3.3.2

$(STAMP): pyproject.toml | $(BIN)/python
	$(UV) pip install --quiet --python $(BIN)/python -e '.[dev,bench,docs]' '$(DEV_AIRFLOW)'
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

# The ledger tests start a throwaway PostgreSQL server from Debian's postgresql package (never a mock,
# never a downloaded build): install it if missing. The tests fail (never skip) without it.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "Installing Debian's postgresql for the ledger tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null ) \
	    || echo "warning: could not install postgresql; the ledger's PostgreSQL tests will fail (apt-get install postgresql)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

# The fast loop: lint, types, unit and integration tests on $(WORKERS) workers, fewer hypothesis examples.
check: $(STAMP) postgres
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	HYPOTHESIS_PROFILE=dev $(PYTEST) -n $(WORKERS) -m "not slow" tests/unit tests/integration $(PYTEST_ARGS)

# Everything: unit and integration on $(WORKERS) workers, then e2e (Airflow subprocesses, server,
# browser) and reliability (fault injection, the slow real-clock canary) on $(WORKERS) workers, one
# module per worker at a time (--dist loadfile; tests/conftest.py keeps the example DAGs' modules together).
# PYTEST_ARGS go to both pytest runs; a run they leave without tests says so instead of failing.
test: $(STAMP) browser postgres
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	HYPOTHESIS_PROFILE=ci $(PYTEST) -n $(WORKERS) tests/unit tests/integration $(PYTEST_ARGS) || [ $$? -eq 5 ]
	HYPOTHESIS_PROFILE=ci $(PYTEST) -n $(WORKERS) --dist loadfile tests/e2e tests/reliability $(PYTEST_ARGS) \
	  || [ $$? -eq 5 ]

# The documentation site in docs/_build/html: warnings are errors (-W), every cross-reference must resolve
# (-n), then the link check of every local link and anchor (http(s) links are skipped: no network needed).
docs: $(STAMP)
	AIRFLOW_HOME=$(CURDIR)/docs/_build/airflow $(BIN)/sphinx-build -q -W --keep-going -n \
	  -d docs/_build/doctrees -b html docs docs/_build/html
	AIRFLOW_HOME=$(CURDIR)/docs/_build/airflow $(BIN)/sphinx-build -q -W --keep-going -n \
	  -d docs/_build/doctrees -b linkcheck docs docs/_build/linkcheck

# Per Airflow version: a fresh .venv-compat/<version>, unit tests, one e2e `airflow dags test` (see the script).
test-compat: $(STAMP)
	UV=$(UV) PYTHON=$(PYTHON) tools/test-compat.sh $(AIRFLOW_VERSIONS)

# What CI runs: the floor version only (plus its oldest-Python unit run).
test-compat-floor:
	$(MAKE) test-compat AIRFLOW_VERSIONS=$(AIRFLOW_FLOOR)

# sdist and wheel in dist/, checked as PyPI would (twine check --strict).
dist: $(STAMP)
	rm -rf dist
	$(UV) build --quiet --out-dir dist
	$(BIN)/twine check --strict dist/*

demo: $(STAMP)
	$(BIN)/python -m airflow_bigcommerce.demo

ui: $(STAMP)
	$(BIN)/python -m airflow_bigcommerce.demo --ui --port $(PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sync.py
	$(BIN)/python benchmarks/bench_conditions.py
	$(BIN)/python benchmarks/bench_parts.py
	$(BIN)/python benchmarks/bench_ledger.py

clean:
	rm -rf $(VENV) .venv-compat .demo .artifacts dist docs/_build
