"""The two store backends behind one face, so the contract tests run unchanged on both.

Each backend opens its store on this test's own database (a file, or a fresh PostgreSQL
database) and answers the few questions a test asks beside the store: the schema version, which
tables exist, whether a query can use an index. Those answers come from a separate plain
connection, never from the store under test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
from psycopg import errors, sql

import storage._pgmigrate
import storage.migrate
from core.ports import JobStore
from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore

Migrations = Callable[[], list[tuple[int, str, str]]]


class Backend(Protocol):
    name: str
    #: what a migration with broken SQL raises
    syntax_error: type[Exception]

    def open(self) -> AbstractAsyncContextManager[JobStore]:
        """The store on this test's database (the same one on every call)."""
        ...

    def migrations(self) -> list[tuple[int, str, str]]: ...

    def patch_migrations(self, monkeypatch: pytest.MonkeyPatch, shipped: Migrations) -> None:
        """Make the store believe ``shipped()`` is the list of migrations it ships."""
        ...

    def schema_version(self) -> int: ...

    def set_schema_version(self, version: int) -> None: ...

    def has_table(self, name: str) -> bool: ...

    def uses_index(self, query: str, index: str) -> bool:
        """``query`` (plain SQL both dialects accept) can be answered through ``index``
        without reading the whole table."""
        ...

    def execute(self, sql: str) -> None:
        """Run ``sql`` on a plain connection (rows written as an older release wrote them)."""
        ...


class SqliteBackend:
    name = "sqlite"
    syntax_error: type[Exception] = sqlite3.OperationalError

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self) -> AbstractAsyncContextManager[JobStore]:
        return SqliteJobStore.open(self.path)

    def migrations(self) -> list[tuple[int, str, str]]:
        return storage.migrate.migrations()

    def patch_migrations(self, monkeypatch: pytest.MonkeyPatch, shipped: Migrations) -> None:
        monkeypatch.setattr(storage.migrate, "migrations", shipped)

    def _query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path) as raw:
            return list(raw.execute(sql).fetchall())

    def schema_version(self) -> int:
        return int(str(self._query("PRAGMA user_version")[0][0]))

    def set_schema_version(self, version: int) -> None:
        self._query(f"PRAGMA user_version = {int(version):d}")

    def has_table(self, name: str) -> bool:
        return bool(self._query(f"SELECT 1 FROM sqlite_master WHERE name = '{name}'"))  # noqa: S608 - test-chosen table names

    def uses_index(self, query: str, index: str) -> bool:
        plan = " ".join(str(r[3]) for r in self._query(f"EXPLAIN QUERY PLAN {query}"))
        return index in plan and "SCAN" not in plan

    def execute(self, sql: str) -> None:
        self._query(sql)


class PostgresBackend:
    name = "postgres"
    syntax_error: type[Exception] = errors.SyntaxError

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self) -> AbstractAsyncContextManager[JobStore]:
        return PostgresJobStore.open(self.url)

    def migrations(self) -> list[tuple[int, str, str]]:
        return storage._pgmigrate.migrations()

    def patch_migrations(self, monkeypatch: pytest.MonkeyPatch, shipped: Migrations) -> None:
        monkeypatch.setattr(storage._pgmigrate, "migrations", shipped)

    def _query(self, sql: str, *setup: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url, autocommit=True) as raw:
            for statement in setup:
                raw.execute(statement)
            cur = raw.execute(sql)
            return cur.fetchall() if cur.description else []

    def schema_version(self) -> int:
        if not self.has_table("schema_migrations"):
            return 0
        return int(
            str(self._query("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0])
        )

    def set_schema_version(self, version: int) -> None:
        self._query(
            f"INSERT INTO schema_migrations (version, name) VALUES ({int(version):d}, 'future')"  # noqa: S608 - an int
        )

    def has_table(self, name: str) -> bool:
        return bool(self._query(f"SELECT 1 FROM pg_tables WHERE tablename = '{name}'"))  # noqa: S608 - test-chosen table names

    def uses_index(self, query: str, index: str) -> bool:
        # The planner rightly reads a tiny table whole; with that path priced out it shows
        # whether the index can serve the query at all (a sequential scan remains if not).
        # On an empty table it picks among usable indexes arbitrarily, so the others are
        # dropped for the question, inside a transaction that is rolled back.
        with psycopg.connect(self.url) as raw:
            others = raw.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'jobs' "
                "AND indexname <> %s AND indexname NOT LIKE '%%pkey' "
                "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                (index,),
            ).fetchall()
            for (name,) in others:
                raw.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(str(name))))
            raw.execute("SET LOCAL enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in raw.execute(f"EXPLAIN {query}").fetchall())
            raw.rollback()
        return index in plan and "Seq Scan" not in plan

    def execute(self, sql: str) -> None:
        self._query(sql)
