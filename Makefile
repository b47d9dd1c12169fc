# aksvend: `make demo` and `make test` work from a fresh clone with Python 3.11, Node 20 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# checkov's dependency pins clash with the app's, so it lives in a venv of its own, installed only for the targets
# that use it (lint, and unit for tests/unit/test_infra.py), not for `make demo`.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# The real Azure CLI for the cli test tier (tests/cli): azure-cli pins its own dependency tree, so it too lives in a
# venv of its own, installed only for the targets that run that tier (test), not for `make demo`.
AZCLI_VENV  := .venv-azcli
AZCLI_STAMP := $(AZCLI_VENV)/.installed
# --no-compile: Python compiles a module when it is first imported; compiling all ~5,000 files up front costs ~15 s.
PIP := -m pip install --quiet --disable-pip-version-check --no-compile

# One line when a set-up step starts and one with its time when it ends (the first run installs for a minute);
# what the step prints goes to a log, shown only when it fails.
define step
@printf '  · %s ...\n' "$(1)"; started=$$(date +%s); log=$$(mktemp); \
if { $(2); } >"$$log" 2>&1; then rm -f "$$log"; printf '  ✓ %s (%s s)\n' "$(1)" $$(($$(date +%s) - started)); \
else status=$$?; cat "$$log"; rm -f "$$log"; printf '  ✗ %s failed\n' "$(1)"; exit $$status; fi
endef
# The Python, npm and tool-venv installs run side by side (-j4), unless make already runs with -j (then it decides).
SETUP = +@$(MAKE) --no-print-directory --silent $(if $(findstring jobserver,$(MAKEFLAGS)),,-j4)

.PHONY: install test lint unit integration e2e demo serve bench schema clean

install:
	$(SETUP) $(STAMP) $(NPM_STAMP)

$(PY):
	$(call step,creating $(VENV) with $(notdir $(PYTHON)),$(PYTHON) -m venv $(VENV) && $(PY) $(PIP) --upgrade pip)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml | $(PY)
	$(call step,installing Python packages (requirements-dev.txt) and aksvend (editable),\
		$(PY) $(PIP) -r requirements-dev.txt -e .)
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(call step,installing checkov into $(CHECKOV_VENV) (for make lint),\
		{ test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV); } \
		&& $(CHECKOV_VENV)/bin/python $(PIP) -r requirements-checkov.txt)
	@touch $@

$(AZCLI_STAMP): requirements-azcli.txt
	$(call step,installing azure-cli into $(AZCLI_VENV) (for the cli test tier),\
		{ test -x $(AZCLI_VENV)/bin/python || $(PYTHON) -m venv $(AZCLI_VENV); } \
		&& $(AZCLI_VENV)/bin/python $(PIP) -r requirements-azcli.txt)
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	$(call step,installing Azurite (npm ci),npm ci --silent --no-audit --no-fund)
	@touch $@

lint:
	$(SETUP) $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy  # the files and settings: [tool.mypy] in pyproject.toml
	bash infra/check.sh $(CHECKOV_VENV)/bin/checkov

# -n 3 (pytest-xdist): every test starts its stand-ins on ephemeral ports, so the workers share nothing; the suite
# takes about half the time of one process on 2 cores. `loadfile`: a file runs in one worker, in order (the az
# scenario of tests/cli is one ordered file; xdist 3.8's `xdist_group` does not take with pytest 9.2).
PYTEST := $(PY) -m pytest -q -n 3 --dist loadfile

test:
	$(SETUP) $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP) $(AZCLI_STAMP)
	$(MAKE) --no-print-directory lint
	$(PYTEST)

unit:  # tests/unit/test_infra.py parses the Bicep with checkov's parser
	$(SETUP) $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP)
	$(PYTEST) tests/unit

integration: install
	$(PYTEST) tests/integration

e2e: install
	$(PYTEST) tests/e2e

demo: install
	$(PY) -m local.demo

serve: install
	$(PY) -m local.host

bench: install
	$(PY) -m bench

schema: install
	$(PY) -m shared.cli schema > docs/request.schema.json

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(AZCLI_VENV) node_modules .pytest_cache .ruff_cache
