# aksvend: `make demo` and `make test` work from a fresh clone with Python 3.11, Node 20 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# checkov's dependency pins clash with the app's, so it lives in a venv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: install test lint unit integration e2e demo serve bench schema clean

install: $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

$(NPM_STAMP): $(wildcard package.json package-lock.json)
	@if [ -f package.json ]; then npm ci --silent --no-audit --no-fund && touch $@; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	bash infra/check.sh $(CHECKOV_VENV)/bin/checkov

test: lint
	$(PY) -m pytest -q

unit: install
	$(PY) -m pytest -q tests/unit

demo: install
	$(PY) -m shared.cli demo

serve: install
	$(PY) -m local.host

bench: install
	$(PY) -m bench

schema: install
	$(PY) -m shared.cli schema > docs/request.schema.json

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .ruff_cache
