# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint setup bench rehearse clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	$(PY) -m console setup

run: setup
	$(PY) -m console serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -n 3 --dist loadfile

bench: setup
	$(PY) -m console bench bridge

rehearse: $(STAMP)
	$(PY) deploy/rehearse.py

clean:
	rm -rf data artifacts .pytest_cache
