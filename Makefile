# Everyday tasks; `make help` lists them. Each is a plain command you can also type: see CONTRIBUTING.md.
# ARGS is passed to pytest, e.g. `make test-fast ARGS=herald/contacts` or `make test-fast ARGS="-k urn -x"`;
# BENCH_ARGS to the benchmarks, e.g. `make bench-quick BENCH_ARGS=--skip-postgres`.
PYTHON ?= python3
PYTEST = $(PYTHON) -m pytest
ARGS ?=
BENCH_ARGS ?=

.PHONY: help test test-fast lint bench-quick services

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

test:  ## the whole suite on the embedded default, then on PostgreSQL + Redis (as .ci/run; needs root for services)
	env -u HERALD_DATABASE_URL -u HERALD_BROKER_URL -u HERALD_REDIS_URL $(PYTEST) $(ARGS)
	eval "$$(bash .ci/services)" && $(PYTEST) $(ARGS)

test-fast:  ## the suite without the slow crash tests, on the configuration in your environment
	$(PYTEST) -m "not slow" $(ARGS)

lint:  ## what CI checks before the tests: ruff, formatting, the layer contract, types
	ruff check .
	ruff format --check .
	lint-imports
	mypy

bench-quick:  ## a smoke run of every benchmark (a minute or two); `python -m bench --help` for more
	$(PYTHON) -m bench --quick $(BENCH_ARGS)

services:  ## start PostgreSQL + Redis on 127.0.0.1 (as root) and print their URLs: eval "$(make -s services)"
	@bash .ci/services
