# Callbook: `make run` sets everything up and serves the demo site; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-dev run worker setup migrate demo index test test-suite test-postgres test-fast lint format bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-nodeps.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-nodeps.txt requirements-dev.txt $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed ## Create .venv and install the pinned runtime dependencies

install-dev: $(VENV)/.installed-dev ## Install runtime, test and lint dependencies

setup: install ## Migrate, load the demo content and build the search index
	mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) update_index

run: setup ## Set everything up, serve the demo site on http://127.0.0.1:8000 with the task worker (and the follow-up sweep every minute) beside it
	@$(MANAGE) demo_logins --url http://$(HOST):$(PORT)/
	@# The worker runs document text extraction and Wagtail's index and reference updates. Ctrl-C reaches
	@# both: the worker finishes its current task and stops (a second Ctrl-C forces it); if the web server
	@# stops on its own, the worker is stopped too. It does not reload code: restart after changing a task.
	@# No worker runs yet: documents a killed worker left 正文提取中 are queued again.
	@# Beside them a loop queues the follow-up sweep every minute (what cron or a systemd timer does in
	@# production, README); Ctrl-C does not reach it (a background job), the EXIT trap stops it.
	@$(MANAGE) extract_document_text
	$(MANAGE) db_worker --no-reload & worker=$$!; \
	$(MANAGE) followup_sweep --enqueue --every 60 >/dev/null & sweeper=$$!; \
	trap 'wait $$worker' INT TERM; \
	trap 'kill $$sweeper $$worker 2>/dev/null; wait $$worker $$sweeper' EXIT; \
	$(MANAGE) runserver $(HOST):$(PORT)

worker: install ## Run the task worker alone (make run starts one; production runs it as a service)
	$(MANAGE) db_worker

test: install-dev ## Lint, check the import contracts and migrations, and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=kb_site.settings.test $(MANAGE) makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-suite

test-suite: install-dev ## Run the whole test suite alone, on SQLite or on the database DATABASE_URL names
	CALLBOOK_TEST_DB_DIR=$(CURDIR)/var/test-databases \
	  $(BIN)/pytest -n auto --dist loadscope -m "not transactional" --create-db --reuse-db $(PYTEST_ARGS)
	@# Tests on a transactional database (the browser tests, the worker, migrations) empty every table for
	@# whatever runs after them on the same process: they get a run of their own (tests/conftest.py marks them),
	@# on as many processes, each on the database the first run just created and kept (--reuse-db: every test
	@# there rolled back; Django still applies any migration it lacks), instead of migrating new ones.
	CALLBOOK_TEST_DB_DIR=$(CURDIR)/var/test-databases \
	  $(BIN)/pytest -n auto --dist loadfile -m transactional --reuse-db $(PYTEST_ARGS)

test-postgres: install-dev ## Run the whole test suite on a throwaway PostgreSQL cluster (needs Debian's postgresql)
	.ci/with-postgres $(MAKE) --no-print-directory test-suite

test-fast: install-dev ## Run the suite without the browser tests
	$(BIN)/pytest -n auto --dist loadscope -m "not transactional" $(PYTEST_ARGS)
	$(BIN)/pytest -m "transactional and not browser" $(PYTEST_ARGS)

lint: install-dev ## ruff lint and format check, and the import-linter contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-dev ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: messages
messages: ## Compile the translations in locale/ (.po) into the .mo files Django reads; needs gettext
	for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 1; done

bench: install-dev ## Run the benchmarks under bench/
	$(PY) bench/procedures.py
	$(PY) bench/search.py
	$(PY) bench/training_dashboard.py

clean: ## Remove the virtualenv, database, index and collected static files
	rm -rf $(VENV) var staticfiles
