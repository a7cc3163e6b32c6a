# One command runs lint, types and tests exactly as CI does: `make check`.
PY ?= .venv/bin/python

.PHONY: check lint typecheck test bench lock

check: lint typecheck test

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(dir $(PY))lint-imports --no-cache

typecheck:
	$(PY) -m mypy

test:
	$(PY) -m pytest -q

# every bench/bench_*.py (or BENCH=bench/bench_scale.py), one after the other (each prints its
# figures and their baselines); the PostgreSQL ones get a throwaway cluster (BENCH_DATABASE_URL)
BENCH ?= bench/bench_*.py
bench:
	@set -e; pg=$$(mktemp -d); trap '$(PY) -m tests.pgserver stop '$$pg EXIT; \
		export BENCH_DATABASE_URL=$$($(PY) -m tests.pgserver start $$pg); \
		for b in $(BENCH); do m=$${b%.py}; echo "== $${m#bench/}"; \
		$(PY) -m $$(echo $$m | tr / .); done

# Pinned, hashed dependency sets compiled from pyproject.toml: requirements.lock (runtime, what
# the Dockerfile installs) and requirements-dev.lock (runtime + the dev extra, what CI installs).
# Universal: one file for every platform and Python >= 3.11. The dev lock is constrained by the
# runtime one, so every package they share has the same pin. Existing pins are kept unless a
# change in pyproject.toml needs otherwise; `make lock LOCK_FLAGS=--upgrade` takes the newest.
LOCK = $(PY) -m uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command "make lock" $(LOCK_FLAGS)

lock:
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev --constraint requirements.lock -o requirements-dev.lock
