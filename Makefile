# The two commands a newcomer needs:  `make up`  (run the platform)  and  `make test`  (run the tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install system-deps test lint bench up clean

# Debian packages the embedded OCR backend and the browser tests need (skipped when already present).
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: system-deps $(STAMP)

# Installs what is missing, then lints and runs the whole test suite.
test: install
	$(VENV)/bin/ruff check timetable_platform tests bench
	$(VENV)/bin/pytest -q -n 2 --timeout 600

lint: install
	$(VENV)/bin/ruff check timetable_platform tests bench

bench: install
	$(PY) bench/accuracy.py

# Installs what is missing and runs the whole platform with embedded backends.
up: install
	$(VENV)/bin/timetable up

clean:
	rm -rf $(VENV) data .pytest_cache
