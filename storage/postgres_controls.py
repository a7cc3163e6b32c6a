"""The PostgreSQL store's ledger sums and server settings (``PostgresJobStore`` inherits them).

The charges and quota conditions are ``storage._charges``, shared with SQLite; this module binds
them the psycopg way (``%s`` placeholders, ``timestamptz``). A setting's value is ``jsonb``, so
compare-and-set compares JSON values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from core.domain.guild_settings import StoredSetting
from core.domain.ledger import Scope, Spend
from core.domain.quota import Quota, QuotaUsage
from storage import _charges
from storage._columns import utc


class PostgresControls:
    _pool: AsyncConnectionPool[AsyncConnection[TupleRow]]

    async def quota_usage(self, quota: Quota) -> QuotaUsage:
        query = _charges.usage_select(quota, ledger_sql())
        async with self._pool.connection() as conn:
            cur = await conn.execute(ledger_query(query), query.params)
            row = await cur.fetchone()
        assert row is not None  # noqa: S101 - a SELECT of subqueries always yields one row
        return QuotaUsage(int(row[0]), float(row[1]), float(row[2]), utc(row[3]))

    async def spend(self, scope: Scope, since: datetime) -> Spend:
        query = ledger_sql().add(f"SELECT {_charges.SPEND_COLUMNS} FROM jobs WHERE")  # noqa: S608 - fixed fragments of storage._charges; every value is bound
        _charges.scope_where(scope, query).add("AND created_at >= ?", since)
        async with self._pool.connection() as conn:
            cur = await conn.execute(ledger_query(query), query.params)
            row = await cur.fetchone()
        assert row is not None  # noqa: S101 - an aggregate always yields one row
        return Spend(int(row[0]), int(row[1]), float(row[2]), float(row[3]))

    async def spend_by(
        self, scope: Scope, since: datetime, *, by: Literal["user", "model"], limit: int
    ) -> list[tuple[str, Spend]]:
        column = "user_id" if by == "user" else "model"
        query = ledger_sql().add(f"SELECT {column}, {_charges.SPEND_COLUMNS} FROM jobs WHERE")  # noqa: S608 - fixed fragments of storage._charges; every value is bound
        _charges.scope_where(scope, query).add("AND created_at >= ?", since)
        query.add(
            f"GROUP BY {column} ORDER BY COALESCE(SUM({_charges.MONEY}), 0) DESC, "
            f"count(*) DESC, {column} LIMIT ?",
            limit,
        )
        async with self._pool.connection() as conn:
            cur = await conn.execute(ledger_query(query), query.params)
            rows = await cur.fetchall()
        return [(str(r[0]), Spend(int(r[1]), int(r[2]), float(r[3]), float(r[4]))) for r in rows]

    async def load_settings(self, platform: str, guild: str) -> list[StoredSetting]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT scope, name, value, updated_at, updated_by FROM server_settings "
                "WHERE platform = %s AND guild_id = %s ORDER BY scope, name",
                (platform, guild),
            )
            rows = await cur.fetchall()
        return [StoredSetting(str(r[0]), str(r[1]), r[2], utc(r[3]), r[4]) for r in rows]

    async def put_setting(
        self,
        platform: str,
        guild: str,
        scope: str,
        name: str,
        value: object | None,
        *,
        expected: object | None,
        by: str,
        now: datetime,
    ) -> bool:
        key = (platform, guild, scope, name)
        if expected is None and value is None:
            return True
        if expected is None:
            query = (
                "INSERT INTO server_settings (platform, guild_id, scope, name, value, "
                "updated_at, updated_by) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING"
            )
            params: list[Any] = [*key, Jsonb(value), now, by]
        elif value is None:
            query = (
                "DELETE FROM server_settings WHERE platform = %s AND guild_id = %s "
                "AND scope = %s AND name = %s AND value = %s"
            )
            params = [*key, Jsonb(expected)]
        else:
            query = (
                "UPDATE server_settings SET value = %s, updated_at = %s, updated_by = %s "
                "WHERE platform = %s AND guild_id = %s AND scope = %s AND name = %s "
                "AND value = %s"
            )
            params = [Jsonb(value), now, by, *key, Jsonb(expected)]
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return cur.rowcount == 1


def ledger_sql() -> _charges.Sql:
    return _charges.Sql("%s", lambda when: when)


def ledger_query(built: _charges.Sql) -> sql.SQL:
    """A query of ``storage._charges``: fixed fragments only, every value a bound parameter."""
    return sql.SQL(built.sql())
