# The two commands: `make demo` and `make test`. Each builds .venv from uv.lock first.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8

.PHONY: demo test lock clean

demo: $(VENV)/.synced
	$(VENV)/bin/thesis run --sample

# Lint, format, the import contracts between layers and types first: they take seconds.
test: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

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
