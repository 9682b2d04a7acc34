# CoCM Registry — every task a developer or CI needs. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PATIENTS ?= 400
CHROMIUM ?= /usr/bin/chromium

.DEFAULT_GOAL := help
.PHONY: help install chromium pdf-libraries demo serve test test-suite test-postgres test-replica \
        lint format domain-coverage migrations lock clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) pdf-libraries ## create .venv and install the pinned dependencies (PDF libraries too)

chromium: ## install Debian's chromium for the browser tests (needs root or sudo)
	@test -x $(CHROMIUM) || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

# WeasyPrint (the monthly program report, patient handouts) lays out text with Pango; the tests render the
# PDF to PNG with poppler's pdftoppm to check its charts.
pdf-libraries: ## install the Debian libraries WeasyPrint and pdftoppm need (needs root or sudo)
	@{ ldconfig -p | grep -q libpangoft2-1.0 && command -v pdftoppm >/dev/null \
	   && fc-list | grep -qi dejavu; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
	    poppler-utils; }

demo: install ## run the product with a synthetic demo population at http://127.0.0.1:8000
	$(BIN)/cocm migrate --verbosity 0
	$(BIN)/cocm seed --patients $(DEMO_PATIENTS) --if-empty
	@echo "Serving http://127.0.0.1:8000 — sign in with a login printed above."
	@echo "orgadmin signs in with a one-time code: on the first sign-in, add the key shown to an authenticator app."
# As the product runs: DEBUG off (the real error pages), static files served by whitenoise.
	COCM_DEBUG=0 $(BIN)/cocm serve --bind 127.0.0.1:8000

test: install chromium lint domain-coverage test-suite ## install everything and run every check and test

domain-coverage: install ## the domain's own tests cover every line of cocm/domain
	$(BIN)/pytest -q -p no:cacheprovider tests/domain --cov=cocm/domain --cov-report=term-missing:skip-covered --cov-fail-under=100

test-suite: install ## run the pytest suite only (DATABASE_URL picks the database)
	$(BIN)/pytest

test-postgres: install ## run the suite on the local PostgreSQL (127.0.0.1:5432, database test)
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test $(BIN)/pytest

test-replica: install ## the read-replica tests against a real PostgreSQL streaming replica
	.ci/with-replica $(BIN)/pytest -q -p no:cacheprovider tests/replica

lint: install ## ruff, formatting, mypy on the domain, import contracts, missing migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/cocm makemigrations --check --dry-run --verbosity 0

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: install ## re-pin constraints.txt from the current virtualenv
	$(BIN)/pip freeze --exclude-editable | grep -v '^cocm' > constraints.txt

clean: ## remove the virtualenv and local data (the demo database included)
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

# Benchmarks: one population per database, seeded once and reused at the same size.
BENCH_PATIENTS ?= 100000
BENCH_REPEAT ?= 100
BENCH_SQLITE ?= $(CURDIR)/var/bench.sqlite3
BENCH_PG_SERVER ?= postgresql://postgres@127.0.0.1:5432
BENCH_PG_DATABASE ?= cocm_bench
BENCH_ARGS = --patients $(BENCH_PATIENTS) --repeat $(BENCH_REPEAT) --output BENCHMARKS.md --append-section
# DEBUG off: Django's query log would format every bulk insert of the seed.
BENCH_ENV = COCM_DEBUG=0

.PHONY: bench
bench: install ## seed BENCH_PATIENTS on SQLite and PostgreSQL, run every benchmark, write BENCHMARKS.md
	@command -v wrk >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q wrk; }
	@mkdir -p $(dir $(BENCH_SQLITE))
	@psql "$(BENCH_PG_SERVER)/postgres" -tAc \
	  "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_PG_DATABASE)'" | grep -q 1 || \
	  psql "$(BENCH_PG_SERVER)/postgres" -qc 'CREATE DATABASE "$(BENCH_PG_DATABASE)"'
	$(BENCH_ENV) DATABASE_URL=sqlite:///$(BENCH_SQLITE) $(BIN)/cocm bench $(BENCH_ARGS)
	$(BENCH_ENV) DATABASE_URL=$(BENCH_PG_SERVER)/$(BENCH_PG_DATABASE) $(BIN)/cocm bench $(BENCH_ARGS)
