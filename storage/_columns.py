"""``JobRecord`` ↔ ``jobs`` row: the column of every field, as plain Python values.

Backend-neutral: booleans stay ``bool`` and times stay aware ``datetime``. PostgreSQL binds them
as they are (``boolean``, ``timestamptz``); SQLite's store keeps its own copy of this mapping
(0/1, epoch seconds) until it is switched over to this one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord

SPEC_COLUMNS = {f.name: f.name for f in dataclasses.fields(JobSpec)}
CHAT_COLUMNS = {
    "platform": "platform",
    "user": "user_id",
    "channel": "channel_id",
    "guild": "guild_id",
    "thread": "thread_id",
    "status_message": "status_message_id",
    "locale": "locale",
}
#: the record's own fields that are one column each, under their own name
PLAIN_COLUMNS: tuple[str, ...] = tuple(
    f.name
    for f in dataclasses.fields(JobRecord)
    if f.name not in {"id", "spec", "chat", "status", "media_purged", "error_params"}
)
_PLAIN = PLAIN_COLUMNS
#: columns holding an aware UTC datetime (or NULL)
TIME_COLUMNS = frozenset(name for name in _PLAIN if name.endswith("_at"))
#: every column of ``jobs`` except ``id``
COLUMNS: tuple[str, ...] = (
    "status",
    *SPEC_COLUMNS.values(),
    *CHAT_COLUMNS.values(),
    *_PLAIN,
    "error_params",
    "media_purged",
)


def to_values(job: JobRecord) -> dict[str, Any]:
    """Column → value for every column except ``id``, in ``COLUMNS`` order."""
    row: dict[str, Any] = {"status": job.status.value}
    row.update({col: getattr(job.spec, name) for name, col in SPEC_COLUMNS.items()})
    row.update({col: getattr(job.chat, name) for name, col in CHAT_COLUMNS.items()})
    row.update({name: getattr(job, name) for name in _PLAIN})
    # a plain dict (or NULL): the backend binds it as JSON
    row["error_params"] = dict(job.error_params) or None
    row["media_purged"] = job.media_purged
    return row


def utc(value: datetime | None) -> datetime | None:
    """An aware datetime expressed in UTC (whatever zone the database session reported)."""
    return None if value is None else value.astimezone(UTC)


def from_values(job_id: int, row: Mapping[str, Any]) -> JobRecord:
    """The record of one row; ``row`` maps every name of ``COLUMNS`` to its value."""
    plain: dict[str, Any] = {
        name: (utc(row[name]) if name in TIME_COLUMNS else row[name]) for name in _PLAIN
    }
    return JobRecord(
        id=job_id,
        status=JobStatus(row["status"]),
        spec=JobSpec(**{name: row[col] for name, col in SPEC_COLUMNS.items()}),
        chat=ChatRef(**{name: row[col] for name, col in CHAT_COLUMNS.items()}),
        media_purged=bool(row["media_purged"]),
        error_params=MappingProxyType(dict(row["error_params"] or {})),
        **plain,
    )
