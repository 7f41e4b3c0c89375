# The two commands in the README: `make run` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BUF := node_modules/.bin/buf

.PHONY: run test test-long lint typecheck contracts proto proto-check unit browser-deps monitoring-deps bench bench-smoke clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	touch $(STAMP)

$(BUF): package.json
	npm install --no-audit --no-fund --silent
	touch $(BUF)

run: $(STAMP)
	$(BIN)/weir serve --data-dir ./weir-data

proto: $(STAMP)
	$(BIN)/python scripts/gen_proto.py

proto-check: $(STAMP) $(BUF)
	$(BUF) lint
	BUF=$(BUF) scripts/buf_breaking.sh
	$(BIN)/python scripts/gen_proto.py --check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy -p weir.core -p weir.registry -p weir.broker -p weir.sdk

contracts: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q

# Headless Chromium for tests/browser, from Debian's packages; installed only when missing.
browser-deps:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

# promtool (Debian's prometheus package) checks and unit-tests examples/monitoring's alert rules;
# installed only when missing (about 7 s), without starting any service.
monitoring-deps:
	@test -x /usr/bin/promtool || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }

test: $(STAMP) $(BUF) browser-deps monitoring-deps
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	$(MAKE) proto-check lint typecheck contracts unit

# The fault and load tests (marked slow) in their long versions: 20 SIGKILLs in the crash
# loop, 60 s of load. `make unit` runs the same tests at their default, short size.
test-long: $(STAMP)
	WEIR_TEST_LONG=1 $(BIN)/pytest -q -s -m slow --timeout=1800

# make bench [BENCH_ARGS="--only produce,latency"]: every benchmark, tables, bench/results/*.json
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) node_modules build *.egg-info
