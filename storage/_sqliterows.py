"""``JobRecord`` ↔ SQLite row: 0/1 flags, epoch-second times, JSON error parameters.

The columns are ``storage._columns``'s, as PostgreSQL's are. Shared by the store
(``storage.sqlite``) and its lease half (``storage._sqliteleases``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import aiosqlite

from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord
from core.ports import TaskTakenError
from storage._columns import CHAT_COLUMNS, COLUMNS, PLAIN_COLUMNS, SPEC_COLUMNS, TIME_COLUMNS

_SPEC, _CHAT, _PLAIN, _TIMES = SPEC_COLUMNS, CHAT_COLUMNS, PLAIN_COLUMNS, TIME_COLUMNS
_BOOL_SPEC = {"prompt_extend", "watermark", "sound"}
SELECT = "SELECT id, " + ", ".join(COLUMNS) + " FROM jobs"  # noqa: S608 - fixed column names


def ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def to_row(job: JobRecord) -> dict[str, Any]:
    """Column → SQL value for every column except ``id``."""
    row: dict[str, Any] = {
        "status": job.status.value,
        "media_purged": int(job.media_purged),
        # sorted keys: the same parameters always give the same text (``save`` compares rows)
        "error_params": json.dumps(dict(job.error_params), sort_keys=True, default=str)
        if job.error_params
        else None,
    }
    for name, col in _SPEC.items():
        value = getattr(job.spec, name)
        row[col] = int(value) if name in _BOOL_SPEC else value
    for name, col in _CHAT.items():
        row[col] = getattr(job.chat, name)
    for name in _PLAIN:
        value = getattr(job, name)
        row[name] = ts(value) if name in _TIMES else value
    return row


def from_row(row: aiosqlite.Row) -> JobRecord:
    spec_kw: dict[str, Any] = {
        name: (bool(row[col]) if name in _BOOL_SPEC else row[col]) for name, col in _SPEC.items()
    }
    chat_kw: dict[str, Any] = {name: row[col] for name, col in _CHAT.items()}
    plain: dict[str, Any] = {
        name: (dt(row[name]) if name in _TIMES else row[name]) for name in _PLAIN
    }
    params = json.loads(row["error_params"]) if row["error_params"] else {}
    return JobRecord(
        id=int(row["id"]),
        status=JobStatus(row["status"]),
        spec=JobSpec(**spec_kw),
        chat=ChatRef(**chat_kw),
        media_purged=bool(row["media_purged"]),
        error_params=MappingProxyType(params),
        **plain,
    )


def marks(wanted: Iterable[JobStatus]) -> tuple[str, list[str]]:
    """``?, ?, …`` and the status values, for ``status IN (…)``."""
    values = [s.value for s in wanted]
    return ", ".join("?" for _ in values), values


@asynccontextmanager
async def task_id_checked(task_id: str | None) -> AsyncIterator[None]:
    """Turn SQLite's unique violation on ``task_id`` into the core's ``TaskTakenError``."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "jobs.task_id" in str(exc):
            raise TaskTakenError(task_id) from exc
        raise
