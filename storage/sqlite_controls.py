"""The SQLite store's ledger sums and server settings (``SqliteJobStore`` inherits them).

The charges and quota conditions are ``storage._charges``, shared with PostgreSQL; this module
binds them the SQLite way (``?`` placeholders, epoch seconds). A setting's JSON value is stored
as one canonical text, so compare-and-set compares texts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

import aiosqlite

from core.domain.guild_settings import StoredSetting
from core.domain.ledger import Scope, Spend
from core.domain.quota import Quota, QuotaUsage
from storage import _charges


class SqliteControls:
    _db: aiosqlite.Connection

    async def quota_usage(self, quota: Quota) -> QuotaUsage:
        query = _charges.usage_select(quota, ledger_sql())
        async with self._db.execute(query.sql(), query.params) as cur:
            row = await cur.fetchone()
        assert row is not None  # noqa: S101 - a SELECT of subqueries always yields one row
        return QuotaUsage(int(row[0]), float(row[1]), float(row[2]), _aware(row[3]))

    async def spend(self, scope: Scope, since: datetime) -> Spend:
        query = ledger_sql().add(f"SELECT {_charges.SPEND_COLUMNS} FROM jobs WHERE")  # noqa: S608 - fixed fragments of storage._charges; every value is bound
        _charges.scope_where(scope, query).add("AND created_at >= ?", since.timestamp())
        async with self._db.execute(query.sql(), query.params) as cur:
            row = await cur.fetchone()
        assert row is not None  # noqa: S101 - an aggregate always yields one row
        return Spend(int(row[0]), int(row[1]), float(row[2]), float(row[3]))

    async def spend_by(
        self, scope: Scope, since: datetime, *, by: Literal["user", "model"], limit: int
    ) -> list[tuple[str, Spend]]:
        column = "user_id" if by == "user" else "model"
        query = ledger_sql().add(f"SELECT {column}, {_charges.SPEND_COLUMNS} FROM jobs WHERE")  # noqa: S608 - fixed fragments of storage._charges; every value is bound
        _charges.scope_where(scope, query).add("AND created_at >= ?", since.timestamp())
        query.add(
            f"GROUP BY {column} ORDER BY COALESCE(SUM({_charges.MONEY}), 0) DESC, "
            f"COUNT(*) DESC, {column} LIMIT ?",
            limit,
        )
        async with self._db.execute(query.sql(), query.params) as cur:
            rows = await cur.fetchall()
        return [(str(r[0]), Spend(int(r[1]), int(r[2]), float(r[3]), float(r[4]))) for r in rows]

    async def load_settings(self, platform: str, guild: str) -> list[StoredSetting]:
        async with self._db.execute(
            "SELECT scope, name, value, updated_at, updated_by FROM server_settings "
            "WHERE platform = ? AND guild_id = ? ORDER BY scope, name",
            (platform, guild),
        ) as cur:
            rows = await cur.fetchall()
        return [
            StoredSetting(
                str(r[0]),
                str(r[1]),
                json.loads(r[2]),
                _aware(r[3]),
                r[4],
            )
            for r in rows
        ]

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
            sql = (
                "INSERT INTO server_settings (platform, guild_id, scope, name, value, "
                "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            )
            params: list[Any] = [*key, _json(value), now.timestamp(), by]
        elif value is None:
            sql = (
                "DELETE FROM server_settings WHERE platform = ? AND guild_id = ? AND scope = ? "
                "AND name = ? AND value = ?"
            )
            params = [*key, _json(expected)]
        else:
            sql = (
                "UPDATE server_settings SET value = ?, updated_at = ?, updated_by = ? "
                "WHERE platform = ? AND guild_id = ? AND scope = ? AND name = ? AND value = ?"
            )
            params = [_json(value), now.timestamp(), by, *key, _json(expected)]
        async with self._db.execute(sql, params) as cur:
            return cur.rowcount == 1


def ledger_sql() -> _charges.Sql:
    return _charges.Sql("?", lambda when: when.timestamp())


def _json(value: object) -> str:
    """The one text a value is stored as (compared as text by ``put_setting``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _aware(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
