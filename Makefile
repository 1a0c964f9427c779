# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv/ and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint typecheck migrations-check pytest clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,async]"
	touch $@

## Runs everything CI runs: lint, types, migrations, the test suite.
test: $(INSTALLED) lint typecheck migrations-check pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

migrations-check: $(INSTALLED)
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest: $(INSTALLED)
	$(BIN)/pytest

## Sets everything up and serves the demo on http://127.0.0.1:$${PORT:-8000}/.
demo: $(INSTALLED)
	$(BIN)/python -m project.demo

clean:
	rm -rf $(VENV) build dist *.egg-info db.sqlite3 test-db.sqlite3
