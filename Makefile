# The two commands of the quick start:
#   make reproduce   set up .venv (first time) and run every study on its default profile
#   make test        set up .venv (first time) and run lint, types and the tests
# Both install through constraints.txt, the exact set of versions occam is tested with.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
RUN_STAMP := $(VENV)/.occam-installed
TEST_STAMP := $(VENV)/.occam-test-installed
# On the project's development machines the data sets sit in ../shared/data; elsewhere occam
# looks in its cache and downloads them (with checksums) when they are missing.
ifneq ($(wildcard ../shared/data/mnist),)
export OCCAM_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: reproduce test lint venv clean wheel-check

venv: $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUN_STAMP)

# Test and development tools (pytest, Hypothesis, GPy, Ray, ruff, mypy) only for `make test`.
$(TEST_STAMP): $(RUN_STAMP)
	$(PIP) -e '.[test,dev]'
	touch $(TEST_STAMP)

reproduce: $(RUN_STAMP)
	$(BIN)/occam reproduce $(ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q $(ARGS)

# Build the wheel, install it alone into a fresh virtual environment, and run it from there.
wheel-check: $(RUN_STAMP)
	rm -rf build/wheel-check && mkdir -p build/wheel-check
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps -w build/wheel-check .
	$(PYTHON) -m venv build/wheel-check/venv
	build/wheel-check/venv/bin/python -m pip install --quiet --disable-pip-version-check \
		-c constraints.txt build/wheel-check/occam_lab-*.whl
	build/wheel-check/venv/bin/occam --version
	build/wheel-check/venv/bin/occam list > /dev/null
	build/wheel-check/venv/bin/occam run deep-cheap --profile smoke --quiet --out build/wheel-check/results
	! build/wheel-check/venv/bin/python -c "import pytest" 2>/dev/null

clean:
	rm -rf $(VENV) results build .pytest_cache .mypy_cache .ruff_cache
