# The two commands a newcomer needs:  `make up`  (run the platform)  and  `make test`  (run the tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

JS_DEPS := tests/exports/js/node_modules/.installed

.PHONY: install system-deps js-deps test lint bench up clean

# Debian packages the embedded OCR backend and the browser tests need (skipped when already present).
system-deps:
	@bash scripts/system-deps.sh

# tesserocr is built from source against this machine's Tesseract: its wheel bundles another release,
# which reads differently from the command line and the models the engine was tuned with.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-binary tesserocr -e '.[dev]'
	@touch $(STAMP)

# JavaScript consumers the export tests feed (ical.js, FullCalendar 6 + rrule plugin), pinned by the lockfile.
$(JS_DEPS): tests/exports/js/package-lock.json
	npm ci --prefix tests/exports/js --no-audit --no-fund --loglevel=error
	@touch $(JS_DEPS)

js-deps: $(JS_DEPS)

install: system-deps $(STAMP) $(JS_DEPS)

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
	rm -rf $(VENV) data .pytest_cache tests/exports/js/node_modules
