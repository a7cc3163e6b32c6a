# One command runs lint, types and tests exactly as CI does: `make check`.
PY ?= .venv/bin/python

.PHONY: check lint typecheck test bench

check: lint typecheck test

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck:
	$(PY) -m mypy

test:
	$(PY) -m pytest -q

bench:
	$(PY) -m bench.bench_engine
	$(PY) -m bench.bench_media
