# The two commands of the quick start:
#   make reproduce   set up .venv (first time) and run every study on its default profile
#   make test        set up .venv (first time) and run lint, types and the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.occam-installed
# On the project's development machines the data sets sit in ../shared/data; elsewhere occam
# looks in its cache and downloads them (with checksums) when they are missing.
ifneq ($(wildcard ../shared/data/mnist),)
export OCCAM_DATA_DIR ?= $(abspath ../shared/data)
endif

.PHONY: reproduce test lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/occam reproduce $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q $(ARGS)

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache
