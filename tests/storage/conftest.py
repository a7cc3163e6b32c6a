"""The ``backend`` fixture runs a test on SQLite (a file) and on PostgreSQL (a fresh database
from ``pg_url``, see ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.backends import Backend, PostgresBackend, SqliteBackend


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return SqliteBackend(tmp_path / "a.db")
    # looked up only here, so `-k sqlite` never starts a server
    return PostgresBackend(request.getfixturevalue("pg_url"))
