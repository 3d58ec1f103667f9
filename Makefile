# Two entry points for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Both bootstrap what is missing (system packages, a .venv with the project) and are quick the second time.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: bootstrap system-deps demo test lint bench clean

bootstrap: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: bootstrap
	@$(VENV)/bin/streamlab demo --out demo-results

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -q

bench: bootstrap
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) demo-results .pytest_cache .mypy_cache .ruff_cache
