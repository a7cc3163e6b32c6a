"""Engine tests run on both stores: ``store`` is a SQLite file, then a fresh PostgreSQL database
(the same engine, leases and claims on either). A test that checks something only one backend
has narrows it with ``@pytest.mark.parametrize("store", ["sqlite"], indirect=True)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.ports import JobStore
from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    if request.param == "sqlite":
        async with SqliteJobStore.open(tmp_path / "db" / "animate.db") as sqlite:
            yield sqlite
        return
    # looked up only here, so `-k sqlite` never starts a server
    async with PostgresJobStore.open(request.getfixturevalue("pg_url")) as postgres:
        yield postgres
