# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv/ and install what they need on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_INSTALLED := $(VENV)/.demo-installed
DJSTRIPE_VENV := .venv-bench-djstripe

.PHONY: bench demo screenshots test matrix lint typecheck migrations-check package pytest reliability clean

# The maintainers' tools (the dev extra); make demo needs only the app and the demo group.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" --group demo
	touch $@

$(DEMO_INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group demo
	touch $@

## Lint, types, migrations, the package and the whole suite, on this Python and the newest
## Django it can have (CI runs this, and make matrix for every supported version).
test: $(INSTALLED) lint typecheck migrations-check package pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

migrations-check: $(INSTALLED)
	$(BIN)/python manage.py makemigrations --check --dry-run

## The wheel and sdist users install: built as pip would build them, metadata checked
## (README renders as the PyPI page), contents checked by tests/test_packaging.py.
package: $(INSTALLED)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	PACKAGE_DIST=dist $(BIN)/pytest -q -p no:cacheprovider tests/test_packaging.py

pytest: $(INSTALLED)
	$(BIN)/pytest

## The tests behind docs/reliability.md, printing what they measured ("measured: ...").
## PostgreSQL: DATABASE_URL=postgres://user:pass@127.0.0.1/db make reliability
RELIABILITY := tests/reliability
reliability: $(INSTALLED)
	$(BIN)/pytest -p no:cacheprovider -q -s $(RELIABILITY)

## The suite on every supported combination of Python, Django and Django REST framework
## (noxfile.py; python3.11, python3.12 and python3.13 on PATH). NOX=-l lists them, and
## .venv/bin/nox -s "tests(python='3.13', django='6.1', deps='newest')" runs one.
matrix: $(INSTALLED)
	$(BIN)/nox $(NOX)

## Sets everything up and serves the demo on http://127.0.0.1:$${PORT:-8000}/.
demo: $(DEMO_INSTALLED)
	$(BIN)/python -m project.demo

## Benchmarks against the alternatives (not part of make test; ~15 minutes on 2 cores):
## writes docs/benchmarks.md. One row only, printed: make bench BENCH=--only=NAME
bench: $(INSTALLED) $(DJSTRIPE_VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.run $(BENCH)

# dj-stripe requires stripe<16, this app's side runs 16: the dj-stripe side gets a venv of its
# own. If it cannot be installed, bench.run says so in docs/benchmarks.md and skips it.
$(DJSTRIPE_VENV)/.installed: bench/requirements-djstripe.txt
	test -x $(DJSTRIPE_VENV)/bin/python || $(PYTHON) -m venv $(DJSTRIPE_VENV)
	$(DJSTRIPE_VENV)/bin/python -m pip install --quiet -r bench/requirements-djstripe.txt \
		|| echo "dj-stripe could not be installed: no dj-stripe row"
	touch $@

## Writes docs/screenshots/*.png: each demo page in Chromium (apt-get install chromium).
screenshots: $(INSTALLED)
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/browser/test_screenshots.py

clean:
	rm -rf $(VENV) .nox build dist *.egg-info db.sqlite3 test-db.sqlite3
