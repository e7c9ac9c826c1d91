# `make demo` and `make test` are the README's two commands: each creates the virtual environment
# on first use (torch pinned to the CPU build first, see constraints.txt), then runs its job;
# `make test` runs the linter and the formatter check (ruff.toml) before the tests, on two processes
# (a test file's tests stay in one process, so module fixtures are built once).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test bench
install: $(STAMP)

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -c constraints.txt torch==2.13.0
	$(BIN)/pip install -c constraints.txt -e ".[test,bench,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rl-lth demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder tests
