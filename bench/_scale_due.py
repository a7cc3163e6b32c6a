"""The due-job claim at scale, for ``bench.bench_scale``: SQLite and PostgreSQL, same rows.

``rows`` jobs, 1 % in flight (RUNNING, due over ten minutes), the rest delivered history. The
figure is the store's own ``claim_due`` (one budget's worth: 15 jobs, as the engine claims
them) at the ten-minute mark's middle, mean of many rounds; its baseline is the very same call
after every index that could serve it (``jobs_due``, and ``jobs_status`` / ``jobs_user_status``
which also lead with or hold the status) is dropped, so the database reads the whole table.
The lease of each round expires at once, so every round claims the same kind of rows.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from bench._pg import fresh_database
from bench._support import START
from core.domain.jobs import JobStatus
from core.ports import JobStore, Lease
from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore

WATCHED = [JobStatus.PENDING, JobStatus.RUNNING]
ROUNDS = 100
#: every index on the status: without them the claim can only read the whole table
STATUS_INDEXES = ("jobs_due", "jobs_status", "jobs_user_status")


@dataclass
class DueClaim:
    backend: str
    claim: float  # seconds per claim, indexed
    scan: float  # seconds per claim, index dropped
    claimed: int


def _insert_sql(backend: str, rows: int, start: float) -> str:
    """One INSERT … SELECT of ``rows`` jobs from a number series ``i``; every 100th in flight."""
    if backend == "sqlite":
        last = rows - 1
        head = f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {last}) "  # noqa: S608 - a number
        source, true, false = "FROM s", "1", "0"
        at, later = f"{start}", f"{start} + (i % 600)"  # epoch seconds
    else:
        head = ""
        source, true, false = f"FROM generate_series(0, {rows - 1}) AS s(i)", "true", "false"
        at, later = f"to_timestamp({start})", f"to_timestamp({start} + (i % 600))"
    active = "i % 100 = 0"
    cols = {
        "status": f"CASE WHEN {active} THEN 'running' ELSE 'delivered' END",
        "region": "'cn-beijing'",
        "model": "'wan2.6-i2v-flash'",
        "prompt": "'p'",
        "resolution": "'720P'",
        "duration": "5",
        "prompt_extend": true,
        "watermark": false,
        "sound": false,
        "aspect": "'original'",
        "fill": "'crop'",
        "platform": "'discord'",
        "user_id": "'u' || (i % 997)",
        "channel_id": "'c'",
        "guild_id": "'g' || (i % 13)",
        "locale": "'en-US'",
        "task_id": "'t' || i",
        "created_at": at,
        "updated_at": at,
        "currency": "'CNY'",
        "next_at": f"CASE WHEN {active} THEN {later} END",
        "delivered_at": f"CASE WHEN {active} THEN NULL ELSE {at} END",
        "media_purged": true,
    }
    names, values = ", ".join(cols), ", ".join(cols.values())
    return f"{head}INSERT INTO jobs ({names}) SELECT {values} {source}"


async def _time_claims(store: JobStore, probe: datetime) -> tuple[float, int]:
    lease = Lease("bench", probe)  # expired as soon as taken: the next round finds them free
    claimed = 0
    t = time.perf_counter()
    for _ in range(ROUNDS):
        claimed = len(await store.claim_due(probe, WATCHED, lease=lease, limit=15))
    return (time.perf_counter() - t) / ROUNDS, claimed


async def sqlite_due(tmp: Path, rows: int) -> DueClaim:
    path = tmp / "due.db"
    async with SqliteJobStore.open(path):
        pass  # migrated
    with sqlite3.connect(path) as raw:
        raw.execute(_insert_sql("sqlite", rows, START.timestamp()))
        raw.execute("ANALYZE")
    probe = START + timedelta(seconds=300)
    async with SqliteJobStore.open(path) as store:
        claim, claimed = await _time_claims(store, probe)
    with sqlite3.connect(path) as raw:
        for index in STATUS_INDEXES:
            raw.execute(f"DROP INDEX {index}")
    async with SqliteJobStore.open(path) as store:
        scan, _ = await _time_claims(store, probe)
    return DueClaim("SQLite", claim, scan, claimed)


async def postgres_due(url: str, rows: int) -> DueClaim:
    async with PostgresJobStore.open(url):
        pass  # migrated
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute(_insert_sql("postgres", rows, START.timestamp()).encode())
        raw.execute("ANALYZE jobs")
    probe = START + timedelta(seconds=300)
    async with PostgresJobStore.open(url) as store:
        claim, claimed = await _time_claims(store, probe)
        with psycopg.connect(url, autocommit=True) as raw:
            for index in STATUS_INDEXES:
                raw.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            raw.execute("ANALYZE jobs")
        scan, _ = await _time_claims(store, probe)
    return DueClaim("PostgreSQL", claim, scan, claimed)


async def due_claims(admin: str, tmp: Path, *, rows: int) -> tuple[DueClaim, DueClaim]:
    sqlite = await sqlite_due(tmp, rows)
    async with fresh_database(admin, "bench_scale_due") as url:
        postgres = await postgres_due(url, rows)
    assert sqlite.claimed == postgres.claimed == 15  # noqa: S101 - both answered the same question
    return sqlite, postgres
