# crossdock: every target creates/uses the project's virtual environment (.venv).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := False
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo test test-fast ui dashboard docs validate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# pip 26 stops when replacing an editable install of crossdock in place ("Blocked import of
	# importlib_metadata._adapters after pip install started"): remove the old one first
	$(BIN)/python -m pip uninstall --quiet --yes crossdock 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# the planning maths' reference values (tests/test_planning_reference_values.py), without the docs
	# toolchain it declares: see the test extra in pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps stockpyl==1.0.2
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## generate the demo feeds, run the whole daily_planning job, print the summary
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/crossdock demo

# Tests run on every core (pytest-xdist); a module's tests stay on one worker so
# a module-scoped end-to-end run is made once.
PYTEST := PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n auto --dist loadfile

# Every worker collects every test module, rewriting its asserts, and the tests start
# processes that import the project again: keep the compiled and rewritten modules
# (__pycache__, ignored by git) even where the environment says not to write bytecode.
# make test-fast's collection went from 10.4 s to 6.5 s a worker with them.
test test-fast: export PYTHONDONTWRITEBYTECODE :=

## the whole test suite (and its 15 slowest tests, so CI shows where the time goes)
test: $(STAMP)
	$(PYTEST) --durations=15

## the inner loop: everything but the end-to-end, browser and slow tests, and a quarter of the property examples
test-fast: $(STAMP)
	CROSSDOCK_PROPS_EXAMPLES=0.25 $(PYTEST) -m "not e2e and not browser and not slow"

## the Dagster UI on the same warehouse (http://127.0.0.1:3000)
ui: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## the S&OP dashboard on the BI snapshot (http://127.0.0.1:8501)
dashboard: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/crossdock dashboard

## the data dictionary: dbt docs for every table as one HTML file (exports/docs/index.html)
docs: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/crossdock docs

validate: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster definitions validate -w workspace.yaml

## remove generated data (landing, warehouse, exports, dbt target); keeps .venv
clean:
	rm -rf landing warehouse exports dbt_project/target dbt_project/logs
	find .dagster_home -mindepth 1 ! -name dagster.yaml -exec rm -rf {} +
