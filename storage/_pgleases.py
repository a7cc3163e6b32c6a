"""Leases on PostgreSQL: several worker processes share the queue, each job advanced by one.

A claim is one statement: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …``.
The inner select locks the rows it picks and skips rows another transaction is claiming at this
very moment, so two workers claiming together split the due jobs instead of queueing on each
other or taking the same ones; the update stamps the lease. A row is claimable when nobody holds
it: no lease, an expired one, or the claimer's own. Expiry is compared with the engine's ``now``
(a parameter), never the server's clock, so a fake clock drives leases in tests as it drives
everything else.

A lease does not change the row's ``version``: a lease is about who works on the job, not about
what the job is. A worker whose lease expired under it is fenced by the job's own writes instead:
the new holder's first save bumps the version, the stale worker's save is refused, and
``core.rows.update`` re-applies its change only while the job is still in the status it saw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from psycopg import sql

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.ports import Lease, SlotCap
from storage import _pglocks
from storage._pgrows import (
    COLS,
    DURABLE,
    Pool,
    assignments,
    changes,
    fetch_records,
    status_values,
    task_id_checked,
)

#: nobody else holds the row (the claimer's own lease may be taken again, and extended)
_FREE = "(lease_until IS NULL OR lease_until <= %(now)s OR lease_owner = %(owner)s)"
#: nobody holds it at all: a dead (or very stalled) worker's half-done work
_ABANDONED = "(lease_until IS NULL OR lease_until <= %(now)s)"
_DUE = "next_at IS NOT NULL AND next_at <= %(now)s AND status = ANY(%(statuses)s)"
_DELIVERABLE = "deliver_at IS NOT NULL AND deliver_at <= %(now)s"
_UPLOADS = (
    "status = %(queued)s AND next_at IS NOT NULL AND next_at <= %(now)s AND ("
    "(audio_path IS NOT NULL AND (audio_url IS NULL OR audio_url_expires_at IS NULL "
    "OR audio_url_expires_at < %(fresh)s)) OR (clip_path IS NOT NULL AND (clip_url IS NULL "
    "OR clip_url_expires_at IS NULL OR clip_url_expires_at < %(fresh)s)))"
)


def _claim(where: str, free: str, order: str) -> sql.Composed:
    return sql.SQL(
        "UPDATE jobs SET lease_owner = %(owner)s, lease_until = %(until)s WHERE id IN ("
        "SELECT id FROM jobs WHERE {} AND {} ORDER BY {}, id LIMIT %(limit)s "
        "FOR UPDATE SKIP LOCKED) RETURNING id, {}"
    ).format(sql.SQL(where), sql.SQL(free), sql.SQL(order), COLS)


class PgLeases:
    """The lease half of ``storage.postgres.PostgresJobStore`` (see ``core.ports.JobStore``)."""

    _pool: Pool

    async def _claimed(self, query: sql.Composed, params: dict[str, Any]) -> list[JobRecord]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return await fetch_records(cur)

    @staticmethod
    def _params(now: datetime, lease: Lease, limit: int, **more: Any) -> dict[str, Any]:
        return {"now": now, "owner": lease.owner, "until": lease.until, "limit": limit, **more}

    async def claim_due(
        self, now: datetime, statuses: Iterable[JobStatus], *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        params = self._params(now, lease, limit, statuses=status_values(statuses))
        jobs = await self._claimed(_claim(_DUE, _FREE, "next_at"), params)
        # RETURNING keeps no order: oldest first, as due_jobs answers
        return sorted(jobs, key=lambda j: (j.next_at, j.id))

    async def claim_deliverable(
        self, now: datetime, *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        jobs = await self._claimed(
            _claim(_DELIVERABLE, _FREE, "deliver_at"), self._params(now, lease, limit)
        )
        return sorted(jobs, key=lambda j: (j.deliver_at, j.id))

    async def claim_uploads(
        self, now: datetime, *, fresh_until: datetime, lease: Lease, limit: int
    ) -> list[JobRecord]:
        params = self._params(now, lease, limit, fresh=fresh_until, queued=JobStatus.QUEUED.value)
        jobs = await self._claimed(_claim(_UPLOADS, _FREE, "next_at"), params)
        return sorted(jobs, key=lambda j: (j.next_at, j.id))

    async def claim_stale(
        self, now: datetime, statuses: Iterable[JobStatus], *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        params = self._params(now, lease, limit, statuses=status_values(statuses))
        jobs = await self._claimed(_claim("status = ANY(%(statuses)s)", _ABANDONED, "id"), params)
        return sorted(jobs, key=lambda j: j.id)

    async def renew_leases(self, owner: str, until: datetime) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET lease_until = %s WHERE lease_owner = %s", (until, owner)
            )
            return cur.rowcount

    async def release_leases(self, owner: str, *, keep: Collection[int] = ()) -> int:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL "
                "WHERE lease_owner = %s AND NOT (id = ANY(%s))",
                (owner, list(keep)),
            )
            return cur.rowcount

    async def clear_leases(self) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM engine_roles")
            cur = await conn.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL "
                "WHERE lease_owner IS NOT NULL"
            )
            return cur.rowcount

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
        changed = changes(old, new)
        query = sql.SQL(
            "UPDATE jobs SET {}{}version = version + 1, lease_owner = %s, lease_until = %s "
            "WHERE id = %s AND version = %s "
            "AND (lease_until IS NULL OR lease_until <= %s OR lease_owner = %s) "
            "AND (SELECT count(*) FROM jobs WHERE model = %s AND status = ANY(%s)) < %s"
        ).format(assignments(changed), sql.SQL(", " if changed else ""))
        params = [
            *changed.values(),
            lease.owner,
            lease.until,
            new.id,
            old.version,
            now,
            lease.owner,
            cap.model,
            status_values(cap.statuses),
            cap.limit,
        ]
        async with task_id_checked(new.task_id), self._pool.connection() as conn:
            async with conn.transaction():
                if durable:
                    await conn.execute(DURABLE)
                # Every process takes the model's lock before counting: under READ COMMITTED the
                # count then sees every slot taken before, and two cannot take the last one.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_pglocks.SLOTS, cap.model)
                )
                cur = await conn.execute(query, params)
            written = cur.rowcount == 1
        return dataclasses.replace(new, version=old.version + 1) if written else None

    async def take_role(self, role: str, lease: Lease, now: datetime) -> bool:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO engine_roles (role, owner, until) VALUES (%s, %s, %s) "
                "ON CONFLICT (role) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE engine_roles.owner = excluded.owner OR engine_roles.until <= %s "
                "RETURNING owner",
                (role, lease.owner, lease.until, now),
            )
            return await cur.fetchone() is not None
