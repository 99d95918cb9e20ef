# One command sets a fresh machine up and runs everything: `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
AWSCLI_VENV := .venv-awscli

.PHONY: setup lint typecheck test soak bench bench-emulator clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(AWSCLI_VENV)/.installed: requirements-awscli.txt
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-awscli.txt
	touch $@

# The AWS SDK for JavaScript v3, a third real client of the emulator (clients/js, pinned in
# its package-lock.json); skipped, and its test with it, where node/npm are not installed.
JS_CLIENT := clients/js

$(JS_CLIENT)/node_modules/.installed: $(JS_CLIENT)/package.json $(JS_CLIENT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(JS_CLIENT) --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: skipping the JS SDK client (its test is skipped)"; fi

# The real Pulumi engine: `pulumi` and `pulumi-language-yaml` built from the pinned tools
# modules (tools/pulumi, tools/pulumi-yaml) into .pulumi-cli/bin wherever `go` is on PATH
# (about 5 minutes cold, seconds warm). Without `go`, the end-to-end tests use a `pulumi` on
# PATH, or skip with that reason when there is none.
PULUMI_CLI := .pulumi-cli/bin/pulumi
TOOLS_MODULES := tools/pulumi/go.mod tools/pulumi/go.sum tools/pulumi-yaml/go.mod tools/pulumi-yaml/go.sum

$(PULUMI_CLI): tools/build-pulumi-cli.sh $(TOOLS_MODULES)
	@if command -v go >/dev/null 2>&1; then sh tools/build-pulumi-cli.sh; \
	else echo "go not found: the Pulumi CLI is not built (end-to-end tests use a pulumi on PATH)"; fi

setup: $(VENV)/.installed $(AWSCLI_VENV)/.installed $(JS_CLIENT)/node_modules/.installed $(PULUMI_CLI)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# The long randomized teardown soak (tests/soak.py): exactly 2,000 seeded scenarios on a
# loopback emulator (about 25 minutes on 2 cores); prints its summary. `make test` runs the
# short one.
soak: setup
	$(BIN)/pytest tests/test_soak.py -m soak_long -s

# One boto3 client configuration, sequential StopMatchmaking on loopback: the emulator's
# calls/s as a ratio to a bare http.server responder (with its HTTP layer alone and a
# constant answer beside it, --decompose), and one call with 1,000 slow connections open.
bench-emulator: setup
	$(BIN)/python -m bench.bench_emulator --slow-connections 1000 --decompose

# Teardown side by side (docs/benchmarks.md): BackfillGuard drain vs BackfillTicket
# deletes vs the AWS CLI per ticket, throttled floor, 20 guards at once. About 7 minutes;
# BENCH_FLAGS=--quick for a smoke run. Writes bench/results/latest.md.
bench: setup
	$(BIN)/python -m bench.bench_teardown $(BENCH_FLAGS)

# Teardown through the real Pulumi CLI (docs/benchmarks.md): `pulumi destroy` of one guard
# over N=200 tickets vs 200 BackfillTickets (native YAML program, dynamic Python program) vs
# `gamelift-backfill drain`. About 7 minutes with 3 rounds on 2 cores;
# BENCH_ENGINE_FLAGS="--tickets 2 --rounds 1" for a smoke run.
.PHONY: bench-engine
bench-engine: setup
	$(BIN)/python -m bench.bench_engine $(BENCH_ENGINE_FLAGS)

# The local demo (scripts/demo.py): emulator, `pulumi up`, `pulumi destroy`, no AWS
# account. Without a Pulumi CLI it says so and runs the offline half (DEMO_FLAGS=--offline
# forces that). `up` leaves the seeded emulator running for `down`.
.PHONY: demo up down
demo: $(VENV)/.installed $(PULUMI_CLI)
	$(BIN)/python scripts/demo.py demo $(DEMO_FLAGS)

up: $(VENV)/.installed $(PULUMI_CLI)
	$(BIN)/python scripts/demo.py up $(DEMO_FLAGS)

down: $(VENV)/.installed $(PULUMI_CLI)
	$(BIN)/python scripts/demo.py down $(DEMO_FLAGS)

clean:
	rm -rf $(VENV) $(AWSCLI_VENV) $(JS_CLIENT)/node_modules .pulumi-cli .mypy_cache .ruff_cache .pytest_cache
