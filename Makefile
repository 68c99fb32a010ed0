# The developer loop. CI runs `.ci/run`, which calls these same targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock pyproject.toml | cksum | cut -d' ' -f1)
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench serve lock clean

$(STAMP): requirements/dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "firstmile needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.installed-*
	$(PIP) install -r requirements/dev.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)  ## run the demo on the embedded default (SQLite)
	$(VENV)/bin/firstmile demo

test: $(STAMP)  ## the whole test suite
	$(PY) -m pytest -q

lint: $(STAMP)  ## ruff, mypy --strict and the import layers
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy --strict src tests bench
	$(VENV)/bin/lint-imports

# The model benchmarks read public datasets from DATA (a folder holding movielens-100k/ and
# online-shoppers/); without it they say so and skip.
DATA ?= $(FIRSTMILE_DATA_DIR)

bench: $(STAMP)  ## benchmarks; each prints ratios and ends with one JSON line
	$(PY) -m bench.ingest
	$(PY) -m bench.segments
	$(PY) -m bench.decide
	$(PY) -m bench.experiments
	$(PY) -m bench.personas
	$(PY) -m bench.recs_movielens $(if $(DATA),--data $(DATA)/movielens-100k)
	$(PY) -m bench.classify_shoppers $(if $(DATA),--data $(DATA)/online-shoppers)

serve: $(STAMP)
	$(VENV)/bin/firstmile serve

lock:  ## re-resolve requirements/dev.lock from requirements/dev.in
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q -r requirements/dev.in
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' | grep -v '^#' > requirements/dev.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
