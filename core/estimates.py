"""Learned generation times: one cache over the store's duration statistics.

Shared by the engine (check times, and learning from every finished task) and the facade's views
(a job's ETA), so both read the same belief. The math is in ``core.domain.durations``. The
statistics live in the store, shared by every process: learning re-reads them first, and a
cached belief is read again after ``refresh`` seconds, so a process that never learns (a
front-end alone) follows what the workers learn.
"""

from __future__ import annotations

import time
from datetime import datetime

from core.domain.catalog import find_model
from core.domain.durations import (
    DurationKey,
    DurationStats,
    Expectation,
    expectation,
    learn,
)
from core.domain.records import JobRecord
from core.domain.tasks import TaskInfo
from core.ports import JobStore

#: a job whose model left the catalog: a plausible belief rather than an error
_UNKNOWN_MODEL = Expectation(120.0, 0.35)


def key_of(job: JobRecord) -> DurationKey:
    return DurationKey(job.spec.model, job.spec.resolution, job.spec.duration)


class Durations:
    def __init__(self, store: JobStore, *, refresh: float = 300.0) -> None:
        self.store = store
        self.refresh = refresh
        self._stats: dict[DurationKey, DurationStats | None] = {}
        #: when each key was read (monotonic seconds: a cache age, not a time of the engine)
        self._read_at: dict[DurationKey, float] = {}

    async def expectation_for(self, job: JobRecord) -> Expectation:
        key = key_of(job)
        read_at = self._read_at.get(key)
        if read_at is None or time.monotonic() - read_at > self.refresh:
            self._stats[key] = await self.store.get_duration_stats(key)
            self._read_at[key] = time.monotonic()
        model = find_model(job.spec.model)
        if model is None:
            return _UNKNOWN_MODEL
        return expectation(model, job.spec.resolution, job.spec.duration, self._stats[key])

    async def learn(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        """Fold the finished task's generation time into its key's statistics."""
        took: float | None = None
        if info.submit_time and info.end_time:
            took = (info.end_time - info.submit_time).total_seconds()
        if took is None or not 0 < took < 6 * 3600:
            took = (now - job.submit_ended_at).total_seconds() if job.submit_ended_at else None
        if took is None or took <= 0:
            return
        key = key_of(job)
        # re-read: other workers learn into the same row (fold into theirs, never over it)
        stats = learn(await self.store.get_duration_stats(key), took)
        self._stats[key] = stats
        self._read_at[key] = time.monotonic()
        await self.store.save_duration_stats(key, stats, now)
