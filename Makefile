# celab: `make run` sets up and runs the main job; `make test` sets up and runs the tests;
# `make docs` builds the documentation site into site/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# test processes (pytest-xdist): numba's cold compiles and the tests' subprocesses in parallel
WORKERS ?= 2

.PHONY: run test test-slow lint docs bench clean-cache clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[plot]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[dev]"
	touch $@

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[docs]"
	touch $@

run: $(VENV)/.installed-run
	$(BIN)/celab compare

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile -m "not slow" --durations=15
	$(BIN)/ruff check .

# the long checks (marker "slow": a minute or more each, mostly numba compiling loops no other
# test needs), then the tests marked nojit again on numba's pure-Python path
# (NUMBA_DISABLE_JIT=1); .ci/run runs them after make test
test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile -m slow --durations=5
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q -n $(WORKERS) -m "nojit and not slow"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

# strict: a broken link or anchor, a page left out of the nav or a malformed docstring fails
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# numba's on-disk cache is keyed by each kernel's own file: after editing a helper that kernels
# in other files call (tracking/rng.py), drop the cache.
clean-cache:
	find . -path ./$(VENV) -prune -o \( -name '*.nbi' -o -name '*.nbc' \) -exec rm -f {} +

clean: clean-cache
	rm -rf $(VENV) build site *.egg-info .pytest_cache .ruff_cache .hypothesis
