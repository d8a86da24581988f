# Two commands for a newcomer: `make run` and `make test`. Both set up everything first, from
# the project's own files: .venv (requirements-dev.txt), node_modules (package-lock.json) and
# Debian's Chromium for the browser tests.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 7071

.PHONY: setup run test lint bench mutate mutate-quick chromium clean

setup: $(PY_STAMP) $(NODE_STAMP) chromium

$(PY_STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: setup
	$(PY) -m remediation serve --simulate --reset --port $(PORT) --replay devtools/localhost/demo/alerts.jsonl

test: setup
	$(PY) -m pytest

lint: $(PY_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: setup
	$(PY) -m bench

# Mutation testing of the safety checks (docs/mutation.md): every mutant of every target, a
# few minutes per module; TARGETS=approvals (or a path) runs some. mutate-quick: one in ten.
mutate: $(PY_STAMP)
	$(PY) -m devtools.mutation run $(TARGETS)

mutate-quick: $(PY_STAMP)
	$(PY) -m devtools.mutation run --quick

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache .hypothesis mutants
