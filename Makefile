# Two commands do all set-up: `make run` serves on the embedded SQLite default and
# `make test` runs the whole suite. Everything installs into .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYPROJECT_SUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# One stamp per set of extras: `make run` installs only what serving needs, `make test`
# adds the test tools (playwright, schemathesis, …) on top.
STAMP := $(VENV)/.installed-serve-$(PYPROJECT_SUM)
TEST_STAMP := $(VENV)/.installed-test-$(PYPROJECT_SUM)

.PHONY: run test lint bench bench-tools bench-profile clean test-tools translations constraints \
	container-test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-serve-*
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-test-*
	touch $@

run: $(STAMP)
	mkdir -p var
	$(BIN)/kommentera serve

# Debian packages the suite and the bench need; CI runs as root, with no terminal.
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

# The browser tests drive Debian's Chromium (never a downloaded one); nginx -t checks the
# proxy configuration docs/deploy.md gives (installed, never started).
# axe-core (npm, locked) is injected into Chromium by the accessibility tests.
AXE := tests/support/axe/node_modules/axe-core/axe.min.js

test-tools: $(AXE)
	test -x /usr/bin/chromium -a -x /usr/sbin/nginx || \
		(apt-get update && $(APT_INSTALL) chromium nginx-light)

$(AXE): tests/support/axe/package-lock.json
	npm ci --prefix tests/support/axe --no-audit --no-fund
	touch $@

# After changing a user-facing message: re-extract, update the catalogs, translate, compile.
translations: $(STAMP)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o var/messages.pot --no-location .
	$(BIN)/pybabel update -i var/messages.pot -d service/translations --width 100
	$(BIN)/pybabel compile -d service/translations

test: $(TEST_STAMP) test-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Benchmarks need wrk (Debian package); Isso goes into its own venv (bench/.venv-isso).
# BENCH_QUICK=1 make bench is a smoke run of a minute or two.
bench-tools:
	command -v wrk >/dev/null || (apt-get update && $(APT_INSTALL) wrk)

bench: $(TEST_STAMP) bench-tools
	cd bench && ../$(BIN)/python run.py
	cd bench && ../$(BIN)/python scale.py

# Where the CPU goes per scenario: py-spy samples the benchmark's gunicorn workers.
bench-profile: $(TEST_STAMP) bench-tools
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	cd bench && ../$(BIN)/python cpu_profile.py

# The image's pinned versions: what a clean install of the dependencies resolves to today.
constraints:
	rm -rf $(VENV)-constraints
	$(PYTHON) -m venv $(VENV)-constraints
	$(VENV)-constraints/bin/python -m pip install --quiet .
	{ sed -n '/^#/p' constraints.txt; $(VENV)-constraints/bin/pip freeze --exclude kommentera; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(VENV)-constraints build

# Opt-in (root, podman, ~2-3 min): build the Dockerfile unchanged and smoke-run the image
# as docs/deploy.md describes it; prints a PASS/WARN/FAIL line per check.
container-test:
	../shared/container/build-and-smoke.sh .

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .hypothesis
