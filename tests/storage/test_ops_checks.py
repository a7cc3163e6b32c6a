"""The operations checks on both stores: ``/readyz`` asks the database through the store, and
``animate-bot doctor`` finds an unmigrated or unreachable PostgreSQL without showing its
password."""

from __future__ import annotations

import socket

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bot.doctor import database_findings
from bot.doctor_remote import postgres_findings
from bot.probes import readiness_problem
from core.engine.router import DeliveryRouter
from tests.core.fakes import RecordingPort
from tests.storage.backends import Backend, PostgresBackend, SqliteBackend


async def test_ready_asks_the_database_through_the_store(backend: Backend) -> None:
    router = DeliveryRouter()
    router.register("discord", RecordingPort())
    async with backend.open() as store:
        assert await readiness_problem(store, router) is None
    problem = await readiness_problem(store, router)  # closed: it no longer answers
    assert problem is not None and problem.startswith("the database does not answer")


async def test_doctor_on_a_migrated_database_finds_nothing(backend: Backend) -> None:
    async with backend.open():
        pass
    if isinstance(backend, PostgresBackend):
        assert database_findings({"DATABASE_URL": backend.url}) == []
    else:
        assert isinstance(backend, SqliteBackend)
        assert database_findings({"DATABASE_PATH": str(backend.path)}) == []


def test_doctor_finds_an_unmigrated_or_unreachable_postgres(pg_url: str) -> None:
    [finding] = postgres_findings(pg_url)  # a fresh database: no schema yet
    assert finding.setting == "DATABASE_URL"
    assert "schema is at version 0 of" in finding.problem
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    # nothing listens on ``port`` any more: the connection is refused
    params = conninfo_to_dict(pg_url)
    url = f"postgresql://{params.get('user', 'postgres')}:s3cret-password@127.0.0.1:{port}/x"
    [finding] = postgres_findings(url)
    assert finding.setting == "DATABASE_URL" and "does not answer" in finding.problem
    assert "s3cret-password" not in finding.problem
    with psycopg.connect(pg_url, autocommit=True) as conn:
        name = sql.Identifier(str(params["dbname"]))
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(name)
        )
    found = postgres_findings(pg_url)
    assert any("read-only (a standby?)" in f.problem for f in found)
