# Two commands matter: `make run` (the system on SQLite) and `make test` (every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: install translations chromium espeak nginx run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

translations: $(STAMP)
	if [ -d hall_app/translations ]; then $(BIN)/pybabel compile -f -d hall_app/translations >/dev/null; fi

espeak:
	@command -v espeak-ng >/dev/null || (apt-get update && apt-get install -y espeak-ng)

chromium:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		(apt-get update && apt-get install -y chromium fonts-noto-cjk)

install: $(STAMP) node_modules/.installed translations

nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update && apt-get install -y nginx)

run: install
	$(BIN)/hall init --demo --always-open
	mkdir -p instance; $(BIN)/hall demo --wait 60 >instance/demo.log 2>&1 & DEMO=$$!; \
		$(BIN)/python -m tests.fakes.card_reader >instance/card-reader.log 2>&1 & READER=$$!; \
		$(BIN)/python -m tests.fakes.eid_platform >instance/eid-platform.log 2>&1 & EID=$$!; \
		trap 'kill $$DEMO $$READER $$EID 2>/dev/null' EXIT INT TERM; \
		HALL_EID_URL=$${HALL_EID_URL:-http://127.0.0.1:18651/resolve} \
		HALL_EID_APP_ID=$${HALL_EID_APP_ID:-hall-demo} \
		HALL_EID_KEY=$${HALL_EID_KEY:-demo-eid-key-0123456789abcdef0123456789} \
		$(BIN)/hall serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint chromium espeak nginx
	$(BIN)/pytest

bench: install nginx
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/http.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/burst.py --clients node
	$(BIN)/python bench/simulation.py
	$(BIN)/python bench/analytics.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
