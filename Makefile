# Maillage: one node on one machine. `make run` and `make test` are the two commands.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench lint typecheck federation-demo clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools<81' wheel
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: install
	$(BIN)/maillage node run

# The suite starts its own RabbitMQ node (tests/suitebroker.py); tests.prepare installs
# Chromium and axe-core when they are missing and it can, or names the command to run.
test: install
	$(BIN)/python -m tests.prepare
	$(BIN)/pytest

# Domain and unit tests only: no broker of its own, no store, no browser.
test-fast: install
	MAILLAGE_TEST_AMQP_HOST=127.0.0.1:5672 $(BIN)/pytest -m "not integration and not e2e and not federation and not slow"

bench: install
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check shared services gateway tests bench
	$(BIN)/ruff format --check shared services gateway tests bench

typecheck: install
	$(BIN)/mypy shared services/*/domain.py gateway

federation-demo: install
	$(BIN)/maillage federation demo

clean:
	rm -rf $(VENV) var test-output
