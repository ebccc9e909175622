# The two commands a newcomer needs: `make run` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: run test lint format schema bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip==25.3"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,bench]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway serve --host 127.0.0.1 --port $(PORT)

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: $(STAMP)
	$(BIN)/gateway schema export > schema/schema.graphql

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# The benchmark harness (bench/README.md); a short run: make bench BENCH_ARGS=--quick
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
