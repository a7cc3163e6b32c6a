"""Numbered, forward-only ``.sql`` migrations for PostgreSQL, applied under an advisory lock.

The PostgreSQL twin of ``storage.migrate`` (files in ``storage/migrations_pg``, same numbering
rules). Applied versions are rows of ``schema_migrations``. Every pending file and its version row
go in one transaction (PostgreSQL's DDL is transactional: a failure leaves the database as it
was), which first takes the ``MIGRATE`` advisory lock: processes starting together queue on it,
and each one reads the version only once it holds the lock, so exactly one of them migrates and
the others find nothing left to do.
"""

from __future__ import annotations

import logging

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from storage import _pglocks
from storage.migrate import migrations as _shipped

log = logging.getLogger(__name__)

PACKAGE = "storage.migrations_pg"

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every shipped PostgreSQL migration, in order."""
    return _shipped(PACKAGE)


async def migrate(conn: AsyncConnection[TupleRow]) -> int:
    """Apply every migration newer than the database's; return the schema version.

    ``conn`` must be in autocommit mode (the transaction here is the only one)."""
    shipped = migrations()
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_pglocks.MIGRATE,))
        await conn.execute(_VERSION_TABLE)
        cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        row = await cur.fetchone()
        current = int(row[0]) if row else 0
        if current > len(shipped):
            raise RuntimeError(f"database schema {current} is newer than this code")
        pending = [m for m in shipped if m[0] > current]
        for version, name, sql in pending:
            log.info("applying migration %s", name)
            # no parameters: psycopg sends the file as one simple query, every statement in it
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
            )
    return pending[-1][0] if pending else current
