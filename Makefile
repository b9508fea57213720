# The two commands: `make demo` and `make test`. Each builds .venv from uv.lock first.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8

.PHONY: demo check test lint docs lock clean

demo: $(VENV)/.synced
	$(VENV)/bin/thesis run --sample

# Lint, format, the import contracts between layers, types and the docs site first: they take seconds.
test: lint
	$(MAKE) docs
	$(VENV)/bin/pytest

# While developing: the same checks and the tests not marked slow, in under a minute.
check: lint
	$(VENV)/bin/pytest -q -m "not slow"

# mypy keeps its cache in .mypy_cache: a second run checks only what changed.
lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# The site in a throwaway folder: --strict fails on a broken link or a page missing from the nav
# (not with --quiet, which hides the warnings --strict counts).
docs: $(VENV)/.synced
	site=$$(mktemp -d) && NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir "$$site"; \
		status=$$?; rm -rf "$$site"; exit $$status

# uv installs into the venv it will sync; --inexact keeps it (and pip) there.
$(VENV)/.synced: pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv sync --locked --inexact --compile-bytecode
	touch $@

lock: $(VENV)/.synced
	$(VENV)/bin/uv lock

clean:
	rm -rf $(VENV) var
