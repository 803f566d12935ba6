# newsstream — `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/dev.lock
# How the lock files are made (`make lock`); Linux, Python 3.11, as CI and the image run.
COMPILE = $(BIN)/uv pip compile pyproject.toml requirements/build.in --generate-hashes \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28 --quiet \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
# The stream library a user would otherwise pick, run beside newsstream by `make bench`'s counting
# part. Its own environment: quixstreams pins confluent-kafka < 2.13 and pydantic < 2.14, older
# than what newsstream and its contract tests use.
QUIX_VENV  := .venv-quix
QUIX_STAMP := $(QUIX_VENV)/.installed
QUIX_VERSION := 3.28.1
# Node packages the tests run (the AsyncAPI parser, the JavaScript consumer example), each
# folder installed from its package-lock.json.
NODE_DIRS  := tests/support/asyncapi examples/consumers/js
NODE_STAMP := $(NODE_DIRS:%=%/node_modules/.installed)
NER_DATA ?= ../shared/data/ner
CLEAN_DATA ?= ../shared/data/clean

.PHONY: venv lock docs run test unit integration lint format train-ner train-ner-accurate eval-clean eval-general eval-ner bench soak clean

# Reproducible installs: every package, pip and the build backend included, at the version and
# with the hashes of requirements/dev.lock; then the project itself, with nothing more fetched.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $@

venv: $(STAMP)

%/node_modules/.installed: %/package-lock.json
	npm ci --prefix $* --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

## docs/configuration.md from the settings' descriptions (stream/config/), and
## schemas/asyncapi.yaml from the schemas and the topic settings; tests check both.
docs: $(STAMP)
	$(BIN)/python -m stream.tools.configuration_doc > docs/configuration.md
	$(BIN)/python -m stream.tools.asyncapi > schemas/asyncapi.yaml

## Refresh the hashed lock files after a change to pyproject.toml's dependencies: the versions
## already locked are kept where they still fit (UPGRADE=1: the newest that fit). Commit both.
lock: $(STAMP)
	$(COMPILE) --extra dev -o requirements/dev.lock
	$(COMPILE) -o requirements/runtime.lock

$(QUIX_STAMP):
	@test -x $(QUIX_VENV)/bin/python || $(PYTHON) -m venv $(QUIX_VENV)
	$(QUIX_VENV)/bin/python -m pip install -q quixstreams==$(QUIX_VERSION)
	@touch $@

## The main job: embedded broker, worker, example articles, live output (Ctrl-C stops all).
run: $(STAMP)
	$(BIN)/newsstream demo

## Lint, type-check, then the whole test suite (unit + integration on the embedded broker).
test: $(STAMP) $(NODE_STAMP) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

unit: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q -m "not integration"

integration: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -q -m integration

lint: $(STAMP)
	$(BIN)/ruff check stream agents evaluation training tests schemas examples
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix stream agents tests
	$(BIN)/ruff format stream agents tests

## Retrain the entity model from ../shared/data/ner (writes stream/data/, ~1 CPU-minute).
train-ner: $(STAMP)
	$(BIN)/python -m training.train --data $(NER_DATA)

## Retrain the accurate tier (e5-small): bundle here, fine-tune with torch (a GPU when there is
## one: ~2 min on an H200; CPU works, for hours). Writes stream/data/e5-ner-*.npz.
E5_BUNDLE ?= .device/e5-bundle.npz
train-ner-accurate: $(STAMP)
	@mkdir -p $(dir $(E5_BUNDLE))
	$(BIN)/python -m training.e5_prepare --data $(NER_DATA) --out $(E5_BUNDLE)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m training.e5_fit $(E5_BUNDLE) stream/data --epochs 6 --batch 32 --lr 1e-4 \
		--keep-best --repeat idner2k-train=2 \
		--skip idner2k-train+lower nergrit-train+lower nerui-all+lower nerugm-all+lower

## Score `newsstream clean` against trafilatura on the dev extraction sets (writes eval/clean.md).
eval-clean: $(STAMP)
	$(BIN)/python -m evaluation.clean --data $(CLEAN_DATA) --out eval/clean.md

## General web pages: trafilatura's own evaluation set (990 pages, not in ../shared). Needs a
## checkout of github.com/adbar/trafilatura: make eval-general TRAFILATURA=/path/to/trafilatura
eval-general: $(STAMP)
	$(BIN)/python -m evaluation.general --trafilatura $(TRAFILATURA) --out eval/general.md

## Score `newsstream entities` on the NER dev splits (writes eval/ner.md).
eval-ner: $(STAMP)
	$(BIN)/python -m evaluation.ner --data $(NER_DATA) --out eval/ner.md

## Every benchmark in one invocation, one report (eval/bench.md, also printed), each part also in
## its own file: CPU per article by stage and its costly parts, both entity tiers; English words/s
## of each entity tier next to en_core_web_sm alone; the growth
## exponent of each text stage from 16 KB to 128 KB of adversarial text; articles/s of
## one and two workers on the embedded broker next to one and two `newsstream process` runs, with
## where the CPU goes; send-to-enriched latency at 50 % and 80 % of one worker's rate next to the
## enrichment call alone; resident memory over 3,000 articles (`make soak` runs 100,000); the
## counting path without NLP, with one and two workers, next to Quix Streams on the same events;
## records written per article on each topic; entity queries with 10k entities over two
## workers; bytes on the wire per codec; restart-to-ready with 1 M table keys; and the dashboard in
## headless Chromium with 10k entities and 5k articles. See evaluation/bench.py.
bench: $(STAMP) $(QUIX_STAMP)
	$(BIN)/python -m evaluation.bench --data $(CLEAN_DATA)

## Resident memory of one worker and its child while ARTICLES articles stream through
## (eval/memory.md; 100,000 take about 100 minutes on one core).
ARTICLES ?= 100000
soak: $(STAMP)
	$(BIN)/python -m evaluation.memory --data $(CLEAN_DATA) --articles $(ARTICLES)

clean:
	rm -rf $(VENV) $(QUIX_VENV) newsstream-data .pytest_cache .mypy_cache .ruff_cache
