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

setup: $(VENV)/.installed $(AWSCLI_VENV)/.installed

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

# One boto3 client, sequential StopMatchmaking on loopback: the emulator's calls/s.
bench-emulator: setup
	$(BIN)/python -m bench.bench_emulator --calls 2000

# Teardown side by side (README.md, "Benchmarks"): BackfillGuard drain vs BackfillTicket
# deletes vs the AWS CLI per ticket, throttled floor, 20 guards at once. About 7 minutes;
# BENCH_FLAGS=--quick for a smoke run. Writes bench/results/latest.md.
bench: setup
	$(BIN)/python -m bench.bench_teardown $(BENCH_FLAGS)

# The local demo (scripts/demo.py): emulator, `pulumi up`, `pulumi destroy`, no AWS
# account. Without a Pulumi CLI it says so and runs the offline half (DEMO_FLAGS=--offline
# forces that). `up` leaves the seeded emulator running for `down`.
.PHONY: demo up down
demo: $(VENV)/.installed
	$(BIN)/python scripts/demo.py demo $(DEMO_FLAGS)

up: $(VENV)/.installed
	$(BIN)/python scripts/demo.py up $(DEMO_FLAGS)

down: $(VENV)/.installed
	$(BIN)/python scripts/demo.py down $(DEMO_FLAGS)

clean:
	rm -rf $(VENV) $(AWSCLI_VENV) .mypy_cache .ruff_cache .pytest_cache
