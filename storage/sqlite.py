"""The aiosqlite job store: implements ``core.store.JobStore`` (the ledger sums and server
settings come from ``storage.sqlite_controls``).

WAL journal, a busy timeout, autocommit mode: every method is one statement (an explicit
transaction on the shared connection would swallow other coroutines' statements into it), so a
check that must hold at write time is part of that statement. Times are stored as epoch seconds.

``synchronous = NORMAL`` (WAL): a commit survives a process crash but the last ones may be lost
in a power cut. Writes that must survive one (the create marker) ask for ``durable=True`` and run
under ``synchronous = FULL`` (the WAL is synced at that commit).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from core.domain.durations import DurationKey, DurationStats
from core.domain.jobs import JobStatus
from core.domain.quota import Quota
from core.domain.records import JobRecord
from storage import _charges
from storage._sqliteleases import SqliteLeases
from storage._sqliterows import SELECT, dt, from_row, task_id_checked, to_row
from storage.migrate import migrate
from storage.sqlite_controls import SqliteControls, ledger_sql

log = logging.getLogger(__name__)

# a job another owner holds is claimable only once its lease ends: that is when it is due for us
_HELD_UNTIL = (
    "CASE WHEN lease_owner IS NOT NULL AND lease_owner <> ? AND lease_until > next_at "
    "THEN lease_until ELSE next_at END"
)


class SqliteJobStore(SqliteLeases, SqliteControls):
    """``JobStore`` over one aiosqlite connection; ``async with SqliteJobStore.open(path)``."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        #: durable writes switch the connection to FULL and back; one at a time, so one of
        #: them never runs after another already switched back (other statements in between
        #: are merely synced too)
        self._durable = asyncio.Lock()

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: Path | str, *, busy_timeout_ms: int = 5000
    ) -> AsyncIterator[SqliteJobStore]:
        """Open (creating the parent directory), configure, migrate; close on exit."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(path, isolation_level=None) as db:
            db.row_factory = aiosqlite.Row
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms):d}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            version = await migrate(db)
            log.debug("job store %s at schema version %d", path, version)
            yield cls(db)

    @property
    def connection(self) -> aiosqlite.Connection:
        return self._db

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[JobRecord]:
        async with self._db.execute(sql, params) as cur:
            return [from_row(r) for r in await cur.fetchall()]

    async def insert_job(self, job: JobRecord) -> JobRecord:
        row = to_row(job)
        sql = (
            f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)}) "  # noqa: S608 - column names come from COLUMNS, values are bound
            "RETURNING id"
        )
        async with task_id_checked(job.task_id), self._db.execute(sql, list(row.values())) as cur:
            got = await cur.fetchone()
        assert got is not None  # noqa: S101 - RETURNING always yields the new row
        return dataclasses.replace(job, id=int(got[0]))

    async def insert_job_within(self, job: JobRecord, quota: Quota) -> JobRecord | None:
        # One INSERT … SELECT … WHERE: a write statement takes the database's write lock before
        # it reads, so the sums it checks cannot change before its row is in (any process).
        row = to_row(job)
        where = _charges.quota_conditions(
            quota, seconds=job.spec.duration, money=job.cost_estimate, out=ledger_sql()
        )
        # column names come from COLUMNS, the conditions from storage._charges; values are bound
        sql = (
            f"INSERT INTO jobs ({', '.join(row)}) SELECT {', '.join('?' for _ in row)} "
            f"WHERE {where.sql()} RETURNING id"
        )
        params = [*row.values(), *where.params]
        async with task_id_checked(job.task_id), self._db.execute(sql, params) as cur:
            got = await cur.fetchone()
        return None if got is None else dataclasses.replace(job, id=int(got[0]))

    async def count_active(self, platform: str, user: str, statuses: Iterable[JobStatus]) -> int:
        wanted = [s.value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        where = f"platform = ? AND user_id = ? AND status IN ({marks})"
        sql = f"SELECT COUNT(*) FROM jobs WHERE {where}"  # noqa: S608 - only placeholders are interpolated
        async with self._db.execute(sql, [platform, user, *wanted]) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def get_job(self, job_id: int) -> JobRecord | None:
        rows = await self._fetch(SELECT + " WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    async def save(
        self, old: JobRecord, new: JobRecord, *, durable: bool = False
    ) -> JobRecord | None:
        if old.id != new.id:
            raise ValueError("save() compares two versions of the same job")
        before, after = to_row(old), to_row(new)
        changed = {k: v for k, v in after.items() if k != "version" and before[k] != v}
        if not changed:
            return dataclasses.replace(new, version=old.version)
        sets = ", ".join(f"{k} = ?" for k in changed)
        sql = f"UPDATE jobs SET {sets}, version = version + 1 WHERE id = ? AND version = ?"  # noqa: S608 - column names come from COLUMNS, values are bound
        params = [*changed.values(), new.id, old.version]
        async with task_id_checked(new.task_id):
            if durable:
                async with self._durable:
                    await self._db.execute("PRAGMA synchronous = FULL")
                    try:
                        written = await self._update(sql, params)
                    finally:
                        await self._db.execute("PRAGMA synchronous = NORMAL")
            else:
                written = await self._update(sql, params)
        return dataclasses.replace(new, version=old.version + 1) if written else None

    async def _update(self, sql: str, params: Sequence[Any]) -> bool:
        async with self._db.execute(sql, params) as cur:
            return cur.rowcount == 1

    async def due_jobs(
        self, now: datetime, statuses: Iterable[JobStatus], *, limit: int
    ) -> list[JobRecord]:
        wanted = [s.value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        return await self._fetch(
            f"{SELECT} WHERE next_at IS NOT NULL AND next_at <= ? AND status IN ({marks}) "
            "ORDER BY next_at LIMIT ?",
            (now.timestamp(), *wanted, limit),
        )

    async def next_due(
        self, statuses: Iterable[JobStatus], *, owner: str | None = None
    ) -> datetime | None:
        wanted = [s.value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        when = "next_at" if owner is None else _HELD_UNTIL
        lead = [] if owner is None else [owner]
        sql = f"SELECT MIN({when}) FROM jobs WHERE next_at IS NOT NULL AND status IN ({marks})"  # noqa: S608 - only placeholders and a constant are interpolated
        async with self._db.execute(sql, [*lead, *wanted]) as cur:
            row = await cur.fetchone()
        return dt(row[0]) if row and row[0] is not None else None

    async def submitted_since(self, since: datetime) -> list[JobRecord]:
        return await self._fetch(
            f"{SELECT} WHERE submit_started_at IS NOT NULL AND submit_started_at >= ?",
            (since.timestamp(),),
        )

    async def deliverable_jobs(self, now: datetime, *, limit: int) -> list[JobRecord]:
        return await self._fetch(
            f"{SELECT} WHERE deliver_at IS NOT NULL AND deliver_at <= ? "
            "ORDER BY deliver_at LIMIT ?",
            (now.timestamp(), limit),
        )

    async def jobs_with_status(self, statuses: Iterable[JobStatus]) -> list[JobRecord]:
        wanted = [s.value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        return await self._fetch(f"{SELECT} WHERE status IN ({marks}) ORDER BY id", wanted)

    async def job_for_task(self, task_id: str) -> JobRecord | None:
        rows = await self._fetch(SELECT + " WHERE task_id = ? ORDER BY id LIMIT 1", (task_id,))
        return rows[0] if rows else None

    async def schedule_unscheduled(
        self,
        now: datetime,
        *,
        due: Iterable[JobStatus],
        deliverable: Iterable[JobStatus],
    ) -> int:
        # one statement (one transaction), whatever the number of rows: a restart with a deep
        # queue never reads the queue into memory to find the few rows without a schedule
        active, waiting = [s.value for s in due], [s.value for s in deliverable]
        a, w = ", ".join("?" for _ in active), ", ".join("?" for _ in waiting)
        late = f"status IN ({a}) AND next_at IS NULL"
        untold = f"status IN ({w}) AND deliver_at IS NULL"
        sql = (
            f"UPDATE jobs SET next_at = CASE WHEN {late} THEN ? ELSE next_at END, "  # noqa: S608 - only placeholders are interpolated
            f"deliver_at = CASE WHEN {untold} THEN ? ELSE deliver_at END, "
            f"updated_at = ?, version = version + 1 WHERE ({late}) OR ({untold})"
        )
        at = now.timestamp()
        params = [*active, at, *waiting, at, at, *active, *waiting]
        async with self._db.execute(sql, params) as cur:
            return int(cur.rowcount)

    async def uploads_due(
        self, now: datetime, *, fresh_until: datetime, limit: int
    ) -> list[JobRecord]:
        return await self._fetch(
            f"{SELECT} WHERE status = ? AND next_at IS NOT NULL AND next_at <= ? AND ("
            "(audio_path IS NOT NULL AND (audio_url IS NULL OR audio_url_expires_at IS NULL "
            "OR audio_url_expires_at < ?)) OR (clip_path IS NOT NULL AND (clip_url IS NULL "
            "OR clip_url_expires_at IS NULL OR clip_url_expires_at < ?))) "
            "ORDER BY next_at LIMIT ?",
            (
                JobStatus.QUEUED.value,
                now.timestamp(),
                fresh_until.timestamp(),
                fresh_until.timestamp(),
                limit,
            ),
        )

    async def referenced_files(self) -> set[str]:
        found: set[str] = set()
        async with self._db.execute(
            "SELECT image_path, audio_path, last_frame_path, clip_path, video_path, fit_path "
            "FROM jobs"
        ) as cur:
            for row in await cur.fetchall():
                found.update(str(p) for p in row if p)
        return found

    async def in_flight_counts(self, statuses: Iterable[JobStatus]) -> dict[str, int]:
        wanted = [s.value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        sql = f"SELECT model, COUNT(*) FROM jobs WHERE status IN ({marks}) GROUP BY model"  # noqa: S608 - only placeholders are interpolated
        async with self._db.execute(sql, wanted) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def claimed_task_ids(self, task_ids: Sequence[str]) -> set[str]:
        if not task_ids:
            return set()
        marks = ", ".join("?" for _ in task_ids)
        sql = f"SELECT task_id FROM jobs WHERE task_id IN ({marks})"  # noqa: S608 - only placeholders are interpolated
        async with self._db.execute(sql, list(task_ids)) as cur:
            return {str(r[0]) for r in await cur.fetchall()}

    async def recent_jobs(self, platform: str, user: str, limit: int) -> list[JobRecord]:
        return await self._fetch(
            f"{SELECT} WHERE platform = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
            (platform, user, limit),
        )

    async def purgeable_jobs(self, before: datetime, *, limit: int) -> list[JobRecord]:
        return await self._fetch(
            f"{SELECT} WHERE media_purged = 0 AND delivered_at IS NOT NULL "
            "AND delivered_at < ? ORDER BY delivered_at LIMIT ?",
            (before.timestamp(), limit),
        )

    async def get_duration_stats(self, key: DurationKey) -> DurationStats | None:
        async with self._db.execute(
            "SELECT samples, log_mean, log_var FROM duration_stats "
            "WHERE model = ? AND resolution = ? AND duration = ?",
            (key.model, key.resolution, key.duration),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return DurationStats(samples=int(row[0]), log_mean=float(row[1]), log_var=float(row[2]))

    async def save_duration_stats(
        self, key: DurationKey, stats: DurationStats, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO duration_stats (model, resolution, duration, samples, log_mean, log_var,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, resolution, duration)"
            " DO UPDATE SET samples = excluded.samples, log_mean = excluded.log_mean,"
            " log_var = excluded.log_var, updated_at = excluded.updated_at",
            (
                key.model,
                key.resolution,
                key.duration,
                stats.samples,
                stats.log_mean,
                stats.log_var,
                now.timestamp(),
            ),
        )
