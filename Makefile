# Tuangou. `make run` tries the product; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PYTEST_ARGS ?=
WORKERS ?= 2

.PHONY: run install install-dev migrate seed test lint format messages bench worker beat clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## The embedded mode: SQLite, Celery eager, demo data, server on http://127.0.0.1:8000
run: seed
	$(PY) manage.py runserver 127.0.0.1:8000

## The whole suite: lint, migrations in sync, unit + browser tests
test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	@# No persistent DB connections in tests: the live server's keep-alive threads would
	@# otherwise hold PostgreSQL sessions open and block dropping the test database.
	CONN_MAX_AGE=0 $(VENV)/bin/pytest -n $(WORKERS) $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Regenerate locale/zh_Hans from the source and compile it
messages: install-dev
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore='.venv/*' --ignore='tests/*' --ignore='staticfiles/*'
	$(PY) manage.py compilemessages -l zh_Hans --ignore='.venv/*'

bench: install-dev
	$(VENV)/bin/pytest tests/bench -m bench -s -p no:xdist

worker: install
	$(VENV)/bin/celery -A groupbuy worker -l info

beat: install
	$(VENV)/bin/celery -A groupbuy beat -l info

clean:
	rm -rf $(VENV) staticfiles artifacts db.sqlite3
