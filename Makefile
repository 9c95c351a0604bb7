# The two Quickstart commands. Each creates .venv (once) and installs the project into it
# through pyproject.toml, so a fresh clone needs nothing but python3 (>= 3.10) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-nojit lint bench clean

# Train heads-up no-limit Hold'em on the shipped quick config (45 s, one worker per core).
run: $(VENV)/.installed
	$(BIN)/holdemd train --config configs/hunl_quick.yaml

# Lint, check formatting, type-check and run the fast test suite (slow checks:
# `$(BIN)/pytest -m slow`; the kernels' plain-Python path: `make test-nojit`).
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# The suite with numba's JIT off: the kernels run as plain Python, as the naive references
# and a debugger see them. Tests marked needs_jit (real training runs, millions of
# iterations) skip with their reason.
test-nojit: $(VENV)/.installed-test
	NUMBA_DISABLE_JIT=1 $(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Benchmarks against OpenSpiel need the optional `bench` extra.
bench: $(VENV)/.installed-test
	$(BIN)/pip install -e '.[bench]'
	$(BIN)/python bench/bench_mccfr_vs_openspiel.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
