# The two commands a newcomer needs: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORTAL_PORT ?= 8000
# The PDF receipt needs Pango and HarfBuzz subsetting (WeasyPrint) and CJK fonts; browser
# tests need Chromium too.
RUN_APT_PACKAGES := fonts-noto-cjk fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
APT_PACKAGES := $(RUN_APT_PACKAGES) chromium
# `make bench` drives the pages with wrk and counts their instructions with valgrind.
BENCH_APT_PACKAGES := wrk valgrind
# `make faults` restarts a throwaway PostgreSQL cluster of its own: it needs the server binaries.
FAULTS_APT_PACKAGES := postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PO_FILES := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run run-apt-deps apt-install test lint typecheck catalog-check pytest translations extract-messages apt-deps bench load faults lighthouse clean

run: $(VENV)/.installed translations run-apt-deps
	PORTAL_PORT=$(PORTAL_PORT) $(BIN)/portal run

test: $(VENV)/.installed-dev translations apt-deps lint typecheck catalog-check pytest

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

translations: $(MO_FILES)

%.mo: %.po
	$(BIN)/pybabel compile --statistics -i $< -o $@

# Extract UI strings from templates and code, then merge them into every locale's catalog.
extract-messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --no-location --sort-output -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations -D messages --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m portal.i18n_tools hant

# Installs the Debian packages that are missing (run: fonts and Pango; test: also Chromium).
apt-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

run-apt-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(RUN_APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

catalog-check: $(VENV)/.installed
	$(BIN)/portal catalog check --quiet

pytest: $(VENV)/.installed-dev translations
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev translations
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BENCH_APT_PACKAGES)"
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/page_instructions.py --db $$(echo $${BENCH_DB:-sqlite} | sed 's/both/postgres/')
	for db in $$(echo $${BENCH_DB:-sqlite} | sed 's/both/sqlite postgres/'); do \
	  $(BIN)/python bench/page_throughput.py --db $$db || exit 1; done
	$(BIN)/python bench/relay_throughput.py --n 2000 --db $${BENCH_DB:-sqlite}
	$(BIN)/python bench/assist_signalling.py --pairs 50 --rounds 40

# The locust load scenario (tests/load/, docs/load.md): 30 min at 3× the estimated peak of one
# portal process; LOAD_DB=postgres (database load_test on 127.0.0.1), LOAD_SECONDS, LOAD_MULTIPLE.
load: $(VENV)/.installed-dev translations
	$(BIN)/python tests/load/run.py --duration $${LOAD_SECONDS:-1800} \
	  --multiple $${LOAD_MULTIPLE:-3} --db $${LOAD_DB:-sqlite}

# The fault tests under load, full version (docs/faults.md; the short one is part of `make
# test`). Figures go to var/faults-report.jsonl. Add PORTAL_TEST_DATABASE_URL for PostgreSQL.
faults: $(VENV)/.installed-dev translations
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(FAULTS_APT_PACKAGES)"
	rm -f var/faults-report.jsonl
	PORTAL_FAULTS_FULL=1 PORTAL_FAULTS_REPORT=var/faults-report.jsonl \
	  $(BIN)/pytest tests/faults -q -s $(PYTEST_ARGS)

# Lighthouse (npm, installed into var/lighthouse on first use) on Debian's Chromium.
lighthouse: $(VENV)/.installed-dev translations apt-deps
	$(BIN)/python bench/lighthouse.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
