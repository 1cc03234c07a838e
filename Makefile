# agency_billing — the two commands are `make run` and `make test`.
SHELL := /bin/bash

.PHONY: setup run test lint bench clean help
help:
	@echo "make run    start Odoo 19 with agency_billing on a demo database (http://127.0.0.1:8069)"
	@echo "make test   run the whole test suite (browser tests included) on a fresh database"
	@echo "make lint   ruff, pylint-odoo and the other pre-commit hooks"
	@echo "make bench  billing run vs Odoo loop, Odoo batched and OCA contract (BENCH_CLIENTS=1000)"
	@echo "make setup  only prepare the machine (system packages, Odoo source, .venv, PostgreSQL)"
	@echo "make clean  drop the cached template databases and the state folder"

setup:
	@bash tools/setup.sh

run:
	@bash tools/run.sh

test:
	@bash tools/test.sh

lint:
	@bash tools/lint.sh

bench:
	@bash tools/bench.sh

clean:
	@bash tools/clean.sh
