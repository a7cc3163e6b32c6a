"""The PostgreSQL job store (psycopg 3, async, pooled): implements ``core.store.JobStore`` (the
ledger sums and server settings come from ``storage.postgres_controls``).

Same semantics as ``storage.sqlite.SqliteJobStore``, for several processes on one database:

- Pool connections run in autocommit mode: every single-statement method is its own transaction;
  the few that need more than one statement open an explicit one.
- ``save`` is a compare-and-set on the row ``version`` (one ``UPDATE … WHERE version = $old``).
- ``insert_job_within``: under READ COMMITTED a count and an insert could interleave with another
  process's, so the transaction first takes a per-user advisory lock. The count then runs on a
  snapshot taken after the previous holder committed, and two inserts cannot both take the last
  place. (An unlocked ``insert_job`` may still run in between: exactly as on SQLite, that is the
  same as running after the capped one.)
- Durability: with the server's defaults every commit is flushed to the WAL before it returns,
  so every write is what ``durable=True`` asks for. An operator may trade that away with
  ``synchronous_commit = off``; a ``durable`` save then switches it back on for its own
  transaction, so the create marker still survives a power cut.
- Times are ``timestamptz`` and come back as aware UTC datetimes, exactly as written.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow
from psycopg.types.json import JsonbDumper
from psycopg_pool import AsyncConnectionPool

from core.domain.durations import DurationKey, DurationStats
from core.domain.jobs import JobStatus
from core.domain.quota import Quota
from core.domain.records import JobRecord
from storage import _charges, _pglocks, _pgnotify
from storage._columns import to_values, utc
from storage._pgleases import PgLeases
from storage._pglimits import PostgresLimits
from storage._pgmigrate import migrate
from storage._pgrows import (
    COLS,
    DURABLE,
    SELECT,
    VALUES,
    Pool,
    assignments,
    changes,
    record,
    status_values,
    task_id_checked,
)
from storage.postgres_controls import PostgresControls, ledger_query, ledger_sql

log = logging.getLogger(__name__)


async def _configure(conn: AsyncConnection[TupleRow]) -> None:
    # error_params is the only dict the store binds: send it as jsonb (psycopg adapts no dict)
    conn.adapters.register_dumper(dict, JsonbDumper)


_INSERT = sql.SQL("INSERT INTO jobs ({}) VALUES ({}) RETURNING id").format(COLS, VALUES)
# INSERT … SELECT … WHERE: the row goes in only if the sums (taken under the locks) fit
_INSERT_WITHIN = sql.SQL("INSERT INTO jobs ({}) SELECT {} WHERE ").format(COLS, VALUES)
# two users (or servers) whose keys hash alike merely queue behind each other: harmless
_LOCK = "SELECT pg_advisory_xact_lock(%s, hashtext(%s::text || ':' || %s::text))"
# a job another owner holds is claimable only once its lease ends: that is when it is due for us
_NEXT_DUE = (
    "SELECT min(CASE WHEN lease_owner IS NOT NULL AND lease_owner <> %s AND lease_until > next_at "
    "THEN lease_until ELSE next_at END) FROM jobs WHERE next_at IS NOT NULL AND status = ANY(%s)"
)

# one statement, whatever the number of rows; each CASE repeats its WHERE half
_SCHEDULE_UNSCHEDULED = (
    "UPDATE jobs SET next_at = CASE WHEN status = ANY(%(active)s) AND next_at IS NULL "
    "THEN %(now)s ELSE next_at END, deliver_at = CASE WHEN status = ANY(%(waiting)s) "
    "AND deliver_at IS NULL THEN %(now)s ELSE deliver_at END, updated_at = %(now)s, "
    "version = version + 1 WHERE (status = ANY(%(active)s) AND next_at IS NULL) "
    "OR (status = ANY(%(waiting)s) AND deliver_at IS NULL)"
)


class PostgresJobStore(PgLeases, PostgresControls):
    """``JobStore`` over a connection pool; ``async with PostgresJobStore.open(url)``.

    ``limits`` are the account's rate windows in the same database (``core.ports.AccountLimits``)
    and ``listen`` wakes a worker when any process records a job."""

    def __init__(self, pool: Pool, url: str = "") -> None:
        self._pool = pool
        self._url = url
        self.limits = PostgresLimits(pool)

    async def listen(
        self, wake: Callable[[], None], *, listening: Callable[[], None] | None = None
    ) -> None:
        """Call ``wake()`` whenever a job is inserted, by any process; runs until canceled."""
        await _pgnotify.listen(self._url, wake, listening=listening)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, url: str, *, min_size: int = 1, max_size: int = 4, pool_timeout: float = 10.0
    ) -> AsyncIterator[PostgresJobStore]:
        """Migrate (on a connection of its own, so a bad URL fails with the server's own
        message), open the pool and wait for ``min_size`` connections; close it on exit.

        ``max_size`` bounds this process's connections (several processes share the server's
        ``max_connections``); ``pool_timeout`` is how long a method waits for a free connection."""
        if not 1 <= min_size <= max_size:
            raise ValueError(
                f"pool sizes need 1 <= min_size <= max_size, got {min_size}, {max_size}"
            )
        async with await AsyncConnection.connect(url, autocommit=True) as conn:
            version = await migrate(conn)
        log.debug("job store at schema version %d", version)
        pool: Pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=pool_timeout,
            kwargs={"autocommit": True},
            # a connection the server dropped (restart, idle timeout) is replaced, not handed out
            check=AsyncConnectionPool.check_connection,
            configure=_configure,
            name="jobs",
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=pool_timeout)
            yield cls(pool, url)
        finally:
            await pool.close()

    async def _fetch(self, query: sql.Composed, params: Sequence[Any] = ()) -> list[JobRecord]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            return [record(r) for r in await cur.fetchall()]

    async def _one(self, query: sql.Composed | str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row (None when there is none)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
        return None if row is None else row[0]

    async def insert_job(self, job: JobRecord) -> JobRecord:
        async with task_id_checked(job.task_id):
            new_id = await self._one(_INSERT, list(to_values(job).values()))
        return dataclasses.replace(job, id=int(new_id))

    async def insert_job_within(self, job: JobRecord, quota: Quota) -> JobRecord | None:
        where = _charges.quota_conditions(
            quota, seconds=job.spec.duration, money=job.cost_estimate, out=ledger_sql()
        )
        query = _INSERT_WITHIN + ledger_query(where) + sql.SQL(" RETURNING id")
        lim = quota.limits
        async with (
            task_id_checked(job.task_id),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            # Under READ COMMITTED two inserts could each count before the other commits: the
            # requester's lock (then the server's, always in this order: no deadlock) makes
            # them take turns, and each counts what the previous one committed.
            if lim.active_jobs or lim.daily_seconds or lim.cooldown_seconds:
                await conn.execute(_LOCK, (_pglocks.USER_CAP, quota.platform, quota.user))
            if lim.monthly_budget:
                guild = "" if quota.guild is None else quota.guild
                await conn.execute(_LOCK, (_pglocks.GUILD_BUDGET, quota.platform, guild))
            cur = await conn.execute(query, [*to_values(job).values(), *where.params])
            got = await cur.fetchone()
        return None if got is None else dataclasses.replace(job, id=int(got[0]))

    async def count_active(self, platform: str, user: str, statuses: Iterable[JobStatus]) -> int:
        found = await self._one(
            "SELECT count(*) FROM jobs WHERE platform = %s AND user_id = %s AND status = ANY(%s)",
            (platform, user, status_values(statuses)),
        )
        return int(found)

    async def get_job(self, job_id: int) -> JobRecord | None:
        rows = await self._fetch(SELECT + sql.SQL("WHERE id = %s"), (job_id,))
        return rows[0] if rows else None

    async def save(
        self, old: JobRecord, new: JobRecord, *, durable: bool = False
    ) -> JobRecord | None:
        changed = changes(old, new)
        if not changed:
            return dataclasses.replace(new, version=old.version)
        query = sql.SQL(
            "UPDATE jobs SET {}, version = version + 1 WHERE id = %s AND version = %s"
        ).format(assignments(changed))
        params = [*changed.values(), new.id, old.version]
        async with task_id_checked(new.task_id), self._pool.connection() as conn:
            if durable:
                async with conn.transaction():
                    await conn.execute(DURABLE)
                    cur = await conn.execute(query, params)
            else:
                cur = await conn.execute(query, params)
            written = cur.rowcount == 1
        return dataclasses.replace(new, version=old.version + 1) if written else None

    async def due_jobs(
        self, now: datetime, statuses: Iterable[JobStatus], *, limit: int
    ) -> list[JobRecord]:
        return await self._fetch(
            SELECT
            + sql.SQL(
                "WHERE next_at IS NOT NULL AND next_at <= %s AND status = ANY(%s) "
                "ORDER BY next_at LIMIT %s"
            ),
            (now, status_values(statuses), limit),
        )

    async def next_due(
        self, statuses: Iterable[JobStatus], *, owner: str | None = None
    ) -> datetime | None:
        if owner is None:
            found = await self._one(
                "SELECT min(next_at) FROM jobs WHERE next_at IS NOT NULL AND status = ANY(%s)",
                (status_values(statuses),),
            )
        else:
            found = await self._one(_NEXT_DUE, (owner, status_values(statuses)))
        return utc(found)

    async def submitted_since(self, since: datetime) -> list[JobRecord]:
        return await self._fetch(
            SELECT + sql.SQL("WHERE submit_started_at IS NOT NULL AND submit_started_at >= %s"),
            (since,),
        )

    async def deliverable_jobs(self, now: datetime, *, limit: int) -> list[JobRecord]:
        return await self._fetch(
            SELECT
            + sql.SQL(
                "WHERE deliver_at IS NOT NULL AND deliver_at <= %s ORDER BY deliver_at LIMIT %s"
            ),
            (now, limit),
        )

    async def jobs_with_status(self, statuses: Iterable[JobStatus]) -> list[JobRecord]:
        return await self._fetch(
            SELECT + sql.SQL("WHERE status = ANY(%s) ORDER BY id"), (status_values(statuses),)
        )

    async def job_for_task(self, task_id: str) -> JobRecord | None:
        rows = await self._fetch(
            SELECT + sql.SQL("WHERE task_id = %s ORDER BY id LIMIT 1"), (task_id,)
        )
        return rows[0] if rows else None

    async def schedule_unscheduled(
        self,
        now: datetime,
        *,
        due: Iterable[JobStatus],
        deliverable: Iterable[JobStatus],
    ) -> int:
        # one statement, whatever the number of rows (see the SQLite store)
        params = {"active": status_values(due), "waiting": status_values(deliverable), "now": now}
        async with self._pool.connection() as conn:
            cur = await conn.execute(_SCHEDULE_UNSCHEDULED, params)
            return int(cur.rowcount)

    async def uploads_due(
        self, now: datetime, *, fresh_until: datetime, limit: int
    ) -> list[JobRecord]:
        return await self._fetch(
            SELECT
            + sql.SQL(
                "WHERE status = %s AND next_at IS NOT NULL AND next_at <= %s AND ("
                "(audio_path IS NOT NULL AND (audio_url IS NULL OR audio_url_expires_at IS NULL "
                "OR audio_url_expires_at < %s)) OR (clip_path IS NOT NULL AND (clip_url IS NULL "
                "OR clip_url_expires_at IS NULL OR clip_url_expires_at < %s))) "
                "ORDER BY next_at LIMIT %s"
            ),
            (JobStatus.QUEUED.value, now, fresh_until, fresh_until, limit),
        )

    async def referenced_files(self) -> set[str]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT image_path, audio_path, last_frame_path, clip_path, video_path, fit_path "
                "FROM jobs"
            )
            return {str(p) for row in await cur.fetchall() for p in row if p}

    async def in_flight_counts(self, statuses: Iterable[JobStatus]) -> dict[str, int]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT model, count(*) FROM jobs WHERE status = ANY(%s) GROUP BY model",
                (status_values(statuses),),
            )
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def claimed_task_ids(self, task_ids: Sequence[str]) -> set[str]:
        if not task_ids:
            return set()
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT task_id FROM jobs WHERE task_id = ANY(%s)", (list(task_ids),)
            )
            return {str(r[0]) for r in await cur.fetchall()}

    async def recent_jobs(self, platform: str, user: str, limit: int) -> list[JobRecord]:
        return await self._fetch(
            SELECT + sql.SQL("WHERE platform = %s AND user_id = %s ORDER BY id DESC LIMIT %s"),
            (platform, user, limit),
        )

    async def purgeable_jobs(self, before: datetime, *, limit: int) -> list[JobRecord]:
        return await self._fetch(
            SELECT
            + sql.SQL(
                "WHERE NOT media_purged AND delivered_at IS NOT NULL AND delivered_at < %s "
                "ORDER BY delivered_at LIMIT %s"
            ),
            (before, limit),
        )

    async def get_duration_stats(self, key: DurationKey) -> DurationStats | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT samples, log_mean, log_var FROM duration_stats "
                "WHERE model = %s AND resolution = %s AND duration = %s",
                (key.model, key.resolution, key.duration),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return DurationStats(samples=int(row[0]), log_mean=float(row[1]), log_var=float(row[2]))

    async def save_duration_stats(
        self, key: DurationKey, stats: DurationStats, now: datetime
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO duration_stats (model, resolution, duration, samples, log_mean,"
                " log_var, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (model, resolution, duration) DO UPDATE SET"
                " samples = excluded.samples, log_mean = excluded.log_mean,"
                " log_var = excluded.log_var, updated_at = excluded.updated_at",
                (
                    key.model,
                    key.resolution,
                    key.duration,
                    stats.samples,
                    stats.log_mean,
                    stats.log_var,
                    now,
                ),
            )
