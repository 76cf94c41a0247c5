# Cakupan: `make demo` runs the whole warehouse, `make test` proves it.
# Needs only python3 (3.11 or 3.12), make and git; everything else installs from uv.lock.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .cakupan/tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
# the watcher producer has no retries: no per-node backup of its results (README)
export AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export SCARF_ANALYTICS := false

.PHONY: help install demo test unit integration bench stop manifest lint format clean

help:
	@echo "make demo    run the whole warehouse (embedded PostgreSQL unless AIRFLOW_CONN_WAREHOUSE is set)"
	@echo "make test    run the test suite (unit, DAG integrity, deployment, integration)"
	@echo "make bench   print benchmark ratios (name=value)"
	@echo "make stop    stop the embedded PostgreSQL"

$(UV):
	@echo "==> installing uv into $(TOOLS)"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==0.13.9"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	@echo "==> installing locked dependencies into $(VENV)"
	@# --compile-bytecode: every dbt, cakupan and airflow process imports from .pyc files
	@# (where PYTHONDONTWRITEBYTECODE is set nothing caches them, and dbt alone then spends
	@# about 1.8 s of each start compiling its imports)
	@$(UV) sync --frozen --extra dev --extra demo --compile-bytecode --python $(PYTHON) --quiet
	@touch $@

install: $(VENV)/.installed

dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml dbt_project/selectors.yml
	@echo "==> dbt parse (the manifest Cosmos renders the DAG from)"
	@cd dbt_project && DBT_PROFILES_DIR=. ../$(BIN)/dbt parse --quiet
	@touch $@

manifest: dbt_project/target/manifest.json

demo: install manifest
	@$(BIN)/cakupan demo

test: install manifest
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/python -m pytest -q

unit: install manifest
	@$(BIN)/python -m pytest -q -m "not integration" tests/unit tests/dags tests/deploy

integration: install manifest
	@$(BIN)/python -m pytest -q tests/integration

bench: install manifest
	@$(BIN)/python benchmarks/bench.py

stop: install
	@$(BIN)/cakupan warehouse stop

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: install
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .airflow dbt_project/target dbt_project/logs .pytest_cache
