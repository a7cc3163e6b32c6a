"""What every PostgreSQL module of the store shares: the pool type, the column lists as SQL,
row → ``JobRecord``, and the write that turns a duplicate task id into ``TaskTakenError``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection, AsyncCursor, errors, sql
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.ports import TaskTakenError
from storage._columns import COLUMNS, from_values, to_values

Pool = AsyncConnectionPool[AsyncConnection[TupleRow]]

COLS = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
VALUES = sql.SQL(", ").join(sql.Placeholder() for _ in COLUMNS)
SELECT = sql.SQL("SELECT id, {} FROM jobs ").format(COLS)
#: the constraint behind ``task_id text UNIQUE`` (0001_jobs.sql), named by PostgreSQL's rule
TASK_ID_KEY = "jobs_task_id_key"
# 'off' is the only setting under which a commit returns before its WAL is flushed locally
DURABLE = (
    "SELECT set_config('synchronous_commit', 'on', true) "
    "WHERE current_setting('synchronous_commit') = 'off'"
)


def record(row: TupleRow) -> JobRecord:
    return from_values(int(row[0]), dict(zip(COLUMNS, row[1:], strict=True)))


def status_values(wanted: Iterable[JobStatus]) -> list[str]:
    return [s.value for s in wanted]


def changes(old: JobRecord, new: JobRecord) -> dict[str, Any]:
    """The columns whose values differ between two versions of one job (``version`` aside)."""
    if old.id != new.id:
        raise ValueError("save() compares two versions of the same job")
    before, after = to_values(old), to_values(new)
    return {k: v for k, v in after.items() if k != "version" and before[k] != v}


def assignments(changed: dict[str, Any]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changed)


@asynccontextmanager
async def task_id_checked(task_id: str | None) -> AsyncIterator[None]:
    """Turn the driver's unique violation on ``task_id`` into the core's ``TaskTakenError``."""
    try:
        yield
    except errors.UniqueViolation as exc:
        if exc.diag.constraint_name == TASK_ID_KEY:
            raise TaskTakenError(task_id) from exc
        raise


async def fetch_records(cur: AsyncCursor[TupleRow]) -> list[JobRecord]:
    return [record(r) for r in await cur.fetchall()]
