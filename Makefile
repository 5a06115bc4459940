# The two commands of the README: `make demo` (the main job) and `make test`.
# Each creates .venv if needed (again when PYTHON names another interpreter than the
# one that made it), installs bngraph into it (editable, with its test extras), and
# installs the system tools it needs where they are missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench renders install tools clean

demo: install
	@scripts/ensure-tools.sh dot
	$(BIN)/bngraph demo

# the test suite, then lint and types (a test run fails on either)
test: install
	@scripts/ensure-tools.sh dot chromium chromedriver
	$(BIN)/python -m pytest
	@$(MAKE) --no-print-directory lint

# lint and types: ruff (rules in pyproject.toml) and mypy --strict on bngraph/
lint: install
	$(BIN)/ruff check bngraph tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/bench_batchnorm.py --readme README.md
	$(BIN)/python benchmarks/bench_render.py

# the committed pictures of the library graphs and the viewer's screenshot (a test
# checks they are up to date)
renders: install
	@scripts/ensure-tools.sh dot chromium
	$(BIN)/python -m bngraph.viz.library_pictures renders

# checks PYTHON, rebuilds .venv when it was made by another interpreter, reinstalls
# when pyproject.toml changed (scripts/make-venv.sh says how)
install:
	@scripts/make-venv.sh "$(PYTHON)" "$(VENV)"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
