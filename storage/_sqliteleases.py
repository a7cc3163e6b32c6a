"""Leases on SQLite: the same protocol as PostgreSQL's, for the one process SQLite serves.

Every method is one statement (see ``storage.sqlite``): a claim is ``UPDATE … WHERE id IN
(SELECT …) RETURNING …``, atomic because SQLite writes one statement at a time, so it needs no
``SKIP LOCKED``. Running the same claims here as on PostgreSQL keeps one engine for both
backends, and after a crash the restarted process (alone, under the instance lock) drops the
dead one's leases at once (``clear_leases``) instead of waiting for them to expire.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.ports import Lease, SlotCap
from storage._columns import COLUMNS
from storage._sqliterows import from_row, marks, task_id_checked, to_row

_FREE = "(lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)"
_ABANDONED = "(lease_until IS NULL OR lease_until <= ?)"
_RETURNING = "RETURNING id, " + ", ".join(COLUMNS)


class SqliteLeases:
    """The lease half of ``storage.sqlite.SqliteJobStore`` (see ``core.ports.JobStore``)."""

    _db: aiosqlite.Connection
    _durable: asyncio.Lock

    async def _claim(
        self,
        where: str,
        params: Sequence[Any],
        free: str,
        free_params: Sequence[Any],
        *,
        order: str,
        lease: Lease,
        limit: int,
    ) -> list[JobRecord]:
        sql = (
            "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id IN ("  # noqa: S608 - fixed fragments of this module, values bound
            f"SELECT id FROM jobs WHERE {where} AND {free} ORDER BY {order}, id LIMIT ?) "
            + _RETURNING
        )
        bound = [lease.owner, lease.until.timestamp(), *params, *free_params, limit]
        async with self._db.execute(sql, bound) as cur:
            return [from_row(r) for r in await cur.fetchall()]

    async def claim_due(
        self, now: datetime, statuses: Iterable[JobStatus], *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        ins, wanted = marks(statuses)
        where = f"next_at IS NOT NULL AND next_at <= ? AND status IN ({ins})"
        jobs = await self._claim(
            where,
            [now.timestamp(), *wanted],
            _FREE,
            [now.timestamp(), lease.owner],
            order="next_at",
            lease=lease,
            limit=limit,
        )
        return sorted(jobs, key=lambda j: (j.next_at, j.id))

    async def claim_deliverable(
        self, now: datetime, *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        jobs = await self._claim(
            "deliver_at IS NOT NULL AND deliver_at <= ?",
            [now.timestamp()],
            _FREE,
            [now.timestamp(), lease.owner],
            order="deliver_at",
            lease=lease,
            limit=limit,
        )
        return sorted(jobs, key=lambda j: (j.deliver_at, j.id))

    async def claim_uploads(
        self, now: datetime, *, fresh_until: datetime, lease: Lease, limit: int
    ) -> list[JobRecord]:
        where = (
            "status = ? AND next_at IS NOT NULL AND next_at <= ? AND ("
            "(audio_path IS NOT NULL AND (audio_url IS NULL OR audio_url_expires_at IS NULL "
            "OR audio_url_expires_at < ?)) OR (clip_path IS NOT NULL AND (clip_url IS NULL "
            "OR clip_url_expires_at IS NULL OR clip_url_expires_at < ?)))"
        )
        fresh = fresh_until.timestamp()
        params = [JobStatus.QUEUED.value, now.timestamp(), fresh, fresh]
        jobs = await self._claim(
            where,
            params,
            _FREE,
            [now.timestamp(), lease.owner],
            order="next_at",
            lease=lease,
            limit=limit,
        )
        return sorted(jobs, key=lambda j: (j.next_at, j.id))

    async def claim_stale(
        self, now: datetime, statuses: Iterable[JobStatus], *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        ins, wanted = marks(statuses)
        jobs = await self._claim(
            f"status IN ({ins})",
            wanted,
            _ABANDONED,
            [now.timestamp()],
            order="id",
            lease=lease,
            limit=limit,
        )
        return sorted(jobs, key=lambda j: j.id)

    async def _count(self, sql: str, params: Sequence[Any]) -> int:
        async with self._db.execute(sql, params) as cur:
            return cur.rowcount

    async def renew_leases(self, owner: str, until: datetime) -> int:
        return await self._count(
            "UPDATE jobs SET lease_until = ? WHERE lease_owner = ?", (until.timestamp(), owner)
        )

    async def release_leases(self, owner: str, *, keep: Collection[int] = ()) -> int:
        kept = list(keep)
        spared = f" AND id NOT IN ({', '.join('?' for _ in kept)})" if kept else ""
        return await self._count(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"  # noqa: S608 - only placeholders are interpolated
            + spared,
            [owner, *kept],
        )

    async def clear_leases(self) -> int:
        await self._count("DELETE FROM engine_roles", ())
        return await self._count(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL",
            (),
        )

    async def save_within(
        self,
        old: JobRecord,
        new: JobRecord,
        cap: SlotCap,
        *,
        lease: Lease,
        now: datetime,
        durable: bool = False,
    ) -> JobRecord | None:
        if old.id != new.id:
            raise ValueError("save() compares two versions of the same job")
        before, after = to_row(old), to_row(new)
        changed = {k: v for k, v in after.items() if k != "version" and before[k] != v}
        sets = "".join(f"{k} = ?, " for k in changed)
        ins, wanted = marks(cap.statuses)
        # one statement: the count and the write cannot be split by another writer
        sql = (
            f"UPDATE jobs SET {sets}version = version + 1, lease_owner = ?, lease_until = ? "  # noqa: S608 - column names come from COLUMNS, values are bound
            f"WHERE id = ? AND version = ? AND {_FREE} AND (SELECT COUNT(*) FROM jobs "
            f"WHERE model = ? AND status IN ({ins})) < ?"
        )
        params = [
            *changed.values(),
            lease.owner,
            lease.until.timestamp(),
            new.id,
            old.version,
            now.timestamp(),
            lease.owner,
            cap.model,
            *wanted,
            cap.limit,
        ]
        async with task_id_checked(new.task_id):
            if durable:
                async with self._durable:
                    await self._db.execute("PRAGMA synchronous = FULL")
                    try:
                        written = await self._count(sql, params) == 1
                    finally:
                        await self._db.execute("PRAGMA synchronous = NORMAL")
            else:
                written = await self._count(sql, params) == 1
        return dataclasses.replace(new, version=old.version + 1) if written else None

    async def take_role(self, role: str, lease: Lease, now: datetime) -> bool:
        async with self._db.execute(
            "INSERT INTO engine_roles (role, owner, until) VALUES (?, ?, ?) "
            "ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, until = excluded.until "
            "WHERE engine_roles.owner = excluded.owner OR engine_roles.until <= ? "
            "RETURNING owner",
            (role, lease.owner, lease.until.timestamp(), now.timestamp()),
        ) as cur:
            return await cur.fetchone() is not None
