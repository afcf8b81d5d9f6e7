# Every command in the README is a target here. `make test` and `make demo` do all the set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.certpush-installed
PYTEST := $(BIN)/pytest

.PHONY: help venv system-packages demo test unit integration e2e lint format typecheck cfn-lint bench build lock schemas openapi clean audit faults

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# pip itself is pinned; every other package is pinned with its files' sha256 (hash-checking mode)
PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.6.2

$(STAMP): requirements/dev.lock pyproject.toml dev/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e . -e dev
	touch $@

venv: $(STAMP) ## Create .venv with the pinned dependencies

# Debian packages the tests run (each package installs a command of the same name): chromium for
# the dashboard's browser test, pebble (an ACME server), lego and dehydrated for the ACME hook tests
SYSTEM_PACKAGES := chromium pebble lego dehydrated
system-packages: ## Install the Debian packages the tests need (apt-get, when missing; as root)
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make: the tests need these Debian packages:$$missing"; \
		echo "make: install them with: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	fi; \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing

demo: $(STAMP) ## certpush on one machine (certpush serve --simulate): push, stop, start again, everything still there
	PATH="$(CURDIR)/$(BIN):$$PATH" bash samples/demo.sh

test: $(STAMP) system-packages lint typecheck ## Lint and type-check, then unit, integration and end-to-end tests (not the benchmarks)
	# Two runs: moto's in-process mock (unit/integration) resets the backends that the embedded
	# stack's moto server shares in the same process, so the end-to-end tier gets processes of its own.
	$(PYTEST) -m "not bench" -n 2 --dist loadfile --ignore=tests/e2e
	$(PYTEST) -m "not bench" -n 2 --dist loadfile tests/e2e

faults: $(STAMP) ## The fault suite alone (510 pushes on the embedded stack; also part of make test)
	$(PYTEST) tests/e2e/test_faults.py -p no:xdist

unit: $(STAMP) ## Unit tests only (no network)
	$(PYTEST) -m unit

integration: $(STAMP) ## Integration tests (moto, Huawei Cloud simulator)
	$(PYTEST) -m integration

e2e: $(STAMP) system-packages ## End-to-end tests through the CLI on the embedded stack
	$(PYTEST) -m e2e

lint: $(STAMP) cfn-lint ## ruff (lint and format check), cfn-lint and import contracts (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP) ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy (pydantic plugin) on the certpush package
	$(BIN)/mypy

cfn-lint: $(STAMP) ## Lint template.yaml
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP) ## Benchmarks: fan-out, throughput, scaling, cold starts, memory, PushConcurrency, sizes, cost, one machine (not in make test; ~8 min)
	$(BIN)/python -m certpush_dev.bench

AUDIT_VENV ?= .audit-venv
audit: ## pip-audit of requirements/dev.lock and the layer's requirements (needs PyPI's JSON API or OSV online)
	test -x $(AUDIT_VENV)/bin/pip-audit || ($(PYTHON) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install --quiet pip-audit)
	$(AUDIT_VENV)/bin/pip-audit --no-deps --disable-pip --strict -r requirements/dev.lock -r layers/certpush/requirements.txt

SAM ?= sam
build: ## sam build (needs aws-sam-cli; any Python 3 with pip builds the python3.12 layer)
	$(SAM) build

schemas: $(STAMP) ## Regenerate the JSON Schemas in events/schemas
	$(BIN)/certpush schemas --out events/schemas

openapi: $(STAMP) ## Regenerate docs/openapi.json (the records API)
	$(BIN)/certpush openapi --out docs/openapi.json

LOCK_VENV ?= .lock-venv
LOCK_HEADER_DEV := \# Everything the CLI, the embedded stack and the tests need, pinned with the sha256 of every file of\n\# each version (pip checks them: hash-checking mode). Regenerate with make lock (pip-compile).
LOCK_HEADER_LAYER := \# Runtime dependencies of the certpush layer (Lambda), pinned with the sha256 of every file of each\n\# version: the layer build installs them with --require-hashes. Regenerate with make lock (pip-compile).\n\# The CLI's and the tests' dependencies are in requirements/dev.lock and never go into the layer.
COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --no-header --no-annotate --no-emit-index-url --no-emit-find-links
lock: ## Re-pin requirements/dev.lock (what .venv holds) and the layer's requirements.txt, with hashes (pip-compile)
	test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet pip-tools==$(PIP_TOOLS_VERSION))
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^certpush' > $(LOCK_VENV)/dev.in
	grep -E '^[A-Za-z]' layers/certpush/requirements.txt | sed 's/ .*//' > $(LOCK_VENV)/layer.in
	$(COMPILE) -o $(LOCK_VENV)/dev.lock $(LOCK_VENV)/dev.in
	$(COMPILE) -o $(LOCK_VENV)/layer.lock $(LOCK_VENV)/layer.in
	{ printf '$(LOCK_HEADER_DEV)\n'; cat $(LOCK_VENV)/dev.lock; } > requirements/dev.lock
	{ printf '$(LOCK_HEADER_LAYER)\n'; cat $(LOCK_VENV)/layer.lock; } > layers/certpush/requirements.txt

clean: ## Remove build output and local state
	rm -rf .aws-sam .certpush .pytest_cache .mypy_cache .ruff_cache .lock-venv
