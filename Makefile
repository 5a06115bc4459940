# The two commands of the README: `make demo` (the main job) and `make test`.
# Each creates .venv if needed, installs bngraph into it (editable, with its test
# extras), and installs the system tools it needs where they are missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.bngraph-installed

.PHONY: demo test bench renders install tools clean

demo: install
	@scripts/ensure-tools.sh dot
	$(BIN)/bngraph demo

test: install
	@scripts/ensure-tools.sh dot chromium chromedriver
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_batchnorm.py
	$(BIN)/python benchmarks/bench_render.py

# the committed pictures of the library graphs (a test checks they are up to date)
renders: install
	@scripts/ensure-tools.sh dot
	$(BIN)/python -m bngraph.viz.library_pictures renders

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	    { echo "bngraph needs Python 3.11 or newer; run make PYTHON=python3.11 (or newer)" >&2; exit 1; }
	@echo "Creating $(VENV) and installing bngraph (editable) with its test extras"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
