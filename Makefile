# The two commands of the README: `make demo` and `make test`. Both create .venv on first use;
# the demo installs only what it needs, the tests add the dev tools.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# pip compiles bytecode as it installs, so that each start (a command, a test worker) reads it: with
# PYTHONDONTWRITEBYTECODE set, Python would compile the packages' sources at every start (docs/performance.md)
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
CORE := $(VENV)/.fastseq-core
DEV := $(VENV)/.fastseq-dev

.PHONY: demo test lint wheel notebooks clean

$(CORE): settings.ini setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch
	$(PIP) -e .
	touch $(CORE)

$(DEV): $(CORE)
	$(PIP) -e ".[dev]"
	touch $(DEV)

demo: $(CORE)
	$(VENV)/bin/fastseq demo --out demo_out

test: $(DEV)
	$(PY) -m pytest

notebooks: $(DEV)
	$(PY) nbs/run_notebooks.py

wheel: $(DEV)
	bash .ci/wheel_check.sh

lint: $(DEV)
	$(VENV)/bin/ruff check fastseq tests

clean:
	rm -rf $(VENV) demo_out .pytest_cache dist build
