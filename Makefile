# Two commands on a fresh clone: `make repro` (set up, fetch the sample, run the pipeline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Stage commands in dvc.yaml run `python`: make it this environment's, activated or not.
export PATH := $(abspath $(BIN)):$(PATH)
# Tests and the pipeline use two worker processes by default (this template targets 2-core machines).
PYTEST_WORKERS ?= 2

.PHONY: setup repro test pull bench clean-interim

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# One resolve for everything, test tools included: a later separate install breaks dvc-s3's botocore pin.
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

pull: setup
	$(BIN)/dvc pull $$(git ls-files '*.dvc')

repro: pull
	$(BIN)/dvc repro

# The DVC-tracked sample (raw batches, probes, seed sets) is pulled first: some tests read it.
test: pull
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

# Every measurement at 100k and 1M rows; at 10M the pipeline and its floor only (the memory target).
# About 45 minutes on 2 cores, and ~40 GB of disk while the 10M workspace exists.
bench: setup
	$(BIN)/python -m benchmarks.run --rows-list 100000,1000000,10000000 --full-up-to 1000000 --profile 3
