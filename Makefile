# The README's commands. Everything runs inside .venv, made on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test check lint format bench bench-probes screenshots lab fuzz dist clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## make demo: open the app on the built-in lab (a real network served from fixtures/render-acme.yaml)
demo: $(STAMP)
	$(BIN)/pnet --demo

## make test: lint, format check, types, layer contracts, then every test. As root, the tests run in
## a network namespace of their own with only loopback, so no test can reach any other address.
test: check
	@if [ "$$(id -u)" = 0 ] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then \
		echo "pytest in a private network namespace (loopback only)"; \
		unshare --net sh -c 'ip link set lo up && exec $(BIN)/python -m pytest -q'; \
	else \
		$(BIN)/python -m pytest -q; \
	fi

## make fuzz: the fuzz and secret tests at FUZZ_SCALE times their CI size, with fresh seeds
## (a failure prints the example and how to replay it). In the same private namespace as test.
FUZZ_SCALE ?= 40
FUZZ_TESTS := tests/test_fuzz_inputs.py tests/test_fuzz_peers.py tests/test_fuzz_signals.py \
	tests/test_secrets.py tests/test_secrets_outputs.py
fuzz: $(STAMP)
	@if [ "$$(id -u)" = 0 ] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then \
		echo "fuzzing in a private network namespace (loopback only), scale $(FUZZ_SCALE)"; \
		PNET_FUZZ_SCALE=$(FUZZ_SCALE) PNET_FUZZ_RANDOM=1 unshare --net sh -c \
			'ip link set lo up && exec $(BIN)/python -m pytest -q $(FUZZ_TESTS)'; \
	else \
		PNET_FUZZ_SCALE=$(FUZZ_SCALE) PNET_FUZZ_RANDOM=1 $(BIN)/python -m pytest -q $(FUZZ_TESTS); \
	fi

## make check: everything but the tests
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tools.typecheck
	$(BIN)/python -m tools.lint_imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make bench: the sweep against the lab next to a bare asyncio floor and a dig/nc/curl loop, the
## silent-services sweep, start-up, the app's sweep and the lab itself; writes bench/RESULTS.md. As
## root it runs in a network namespace of its own with only loopback, like the tests.
bench: $(STAMP)
	@if [ "$$(id -u)" = 0 ] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then \
		unshare --net sh -c 'ip link set lo up && exec $(BIN)/python -m bench'; \
	else \
		$(BIN)/python -m bench; \
	fi

## make bench-probes: how long each probe kind takes against the demo lab, one after another
bench-probes: $(STAMP)
	$(BIN)/python -m bench.probes

## make screenshots: regenerate screenshots/ from the demo
screenshots: $(STAMP)
	$(BIN)/python -m tools.screenshots screenshots

## make lab: serve the demo fixture as a real network until interrupted
lab: $(STAMP)
	$(BIN)/pnet lab fixtures/render-acme.yaml

## make dist: pnet as one file for an instance: dist/pnet.pyz (a zipapp, Python 3.11+) and
## dist/pnet (a Linux x86-64 executable that needs no Python); pinned, from PyPI only
dist:
	$(PYTHON) -m tools.dist.build

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
