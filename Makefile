# The two set-up commands of the README: `make demo` and `make test`.
# Only Python 3.11+ and make are needed; everything else goes into .venv.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# What ruff lints and format-checks; mypy's paths are [tool.mypy] files in pyproject.toml.
LINTED := src flows tasks tests bench scripts deployments

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: demo test bench serve venv clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgresql,traditional,test]'
	touch $(INSTALLED)

venv: $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/yuqing demo

# Static checks first (lint, formatting, strict types), then the tests.
test: $(INSTALLED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The web workbench (yuqing web, 127.0.0.1:8800) beside every deployment (yuqing serve); Ctrl-C stops both.
serve: $(INSTALLED)
	$(BIN)/yuqing web & web=$$!; trap 'kill $$web 2>/dev/null' EXIT INT TERM; $(BIN)/yuqing serve

bench: $(INSTALLED)
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/corpus.py
	$(BIN)/python bench/match.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/summary.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/fulltext.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
