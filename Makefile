# Two commands on a fresh machine:  `make serve`  (the app on SQLite)  and  `make test`.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: serve test lint deps chromium postgres

serve: deps  ## Web chat and back office on http://127.0.0.1:8000 (SQLite, sample catalogue)
	$(UV) run --locked ventanilla serve

test: deps chromium postgres lint  ## Every test, on SQLite and PostgreSQL, browser tests included
	$(UV) run --locked pytest

lint: deps
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy
	$(UV) run --locked lint-imports

deps:  ## uv (from PyPI) and the locked dependencies in .venv
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --extra dev --quiet

chromium:  ## Debian's Chromium drives the browser tests (Playwright cannot download one here)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

postgres:  ## Tests need PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }
	@pg_isready -h 127.0.0.1 -p 5432
