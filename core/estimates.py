"""Learned generation times: one cache over the store's duration statistics.

Shared by the engine (when to look at a task, and learning from every finished task) and the
facade's views (a job's ETA), so both read the same belief. The math is in ``core.polling``:
a :class:`~core.polling.Belief` per (model, resolution, duration), persisted as the store's
three-number ``DurationStats`` (count, mean and variance of log-seconds), and the hedged
:class:`~core.polling.Forecast` derived from it and the catalog's prior.

The statistics live in the store, shared by every process: learning re-reads them first, and a
cached belief is read again after ``refresh`` seconds, so a process that never learns (a
front-end alone) follows what the workers learn.
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from core.domain.catalog import find_model
from core.domain.durations import DurationKey, DurationStats, prior_median
from core.domain.records import JobRecord
from core.domain.tasks import TaskInfo
from core.polling import Belief, Forecast, forecast, observe
from core.ports import JobStore

#: the prior of a job whose model left the catalog: a plausible median rather than an error
_UNKNOWN_MODEL_SECONDS = 120.0
#: observed times outside (0, this) are clock trouble, not generation times
_PLAUSIBLE = 6 * 3600.0


def key_of(job: JobRecord) -> DurationKey:
    return DurationKey(job.spec.model, job.spec.resolution, job.spec.duration)


def prior_of(job: JobRecord) -> float:
    """The catalog's median generation time (s) for ``job``'s settings."""
    model = find_model(job.spec.model)
    if model is None:
        return _UNKNOWN_MODEL_SECONDS
    return prior_median(model, job.spec.resolution, job.spec.duration)


def _belief(stats: DurationStats | None) -> Belief | None:
    return None if stats is None else Belief(stats.samples, stats.log_mean, stats.log_var)


class Durations:
    def __init__(self, store: JobStore, *, refresh: float = 300.0) -> None:
        self.store = store
        self.refresh = refresh
        self._beliefs: dict[DurationKey, Belief | None] = {}
        #: when each key was read (monotonic seconds: a cache age, not a time of the engine)
        self._read_at: dict[DurationKey, float] = {}

    async def _belief_of(self, key: DurationKey) -> Belief | None:
        read_at = self._read_at.get(key)
        if read_at is None or time.monotonic() - read_at > self.refresh:
            self._beliefs[key] = _belief(await self.store.get_duration_stats(key))
            self._read_at[key] = time.monotonic()
        return self._beliefs[key]

    async def forecast_for(self, job: JobRecord) -> Forecast:
        """The predictive distribution of ``job``'s generation time (hedged; see polling)."""
        return forecast(prior_of(job), await self._belief_of(key_of(job)))

    async def expected_seconds(self, job: JobRecord) -> float:
        """A typical generation time for ETAs: the mean of the belief proper (the hedge only
        widens when to look, it says nothing about the likely finish)."""
        fc = await self.forecast_for(job)
        return fc.median * math.exp(fc.sigma**2 / 2)

    async def learn(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        """Fold the finished task's generation time into its key's belief (and persist it)."""
        took: float | None = None
        if info.submit_time and info.end_time:
            took = (info.end_time - info.submit_time).total_seconds()
        if took is None or not 0 < took < _PLAUSIBLE:
            took = (now - job.submit_ended_at).total_seconds() if job.submit_ended_at else None
        if took is None or not 0 < took < _PLAUSIBLE:
            return
        key = key_of(job)
        # re-read: other workers learn into the same row (fold into theirs, never over it)
        stored = _belief(await self.store.get_duration_stats(key))
        belief = observe(stored, took, prior_of(job))
        self._beliefs[key] = belief
        self._read_at[key] = time.monotonic()
        stats = DurationStats(belief.samples, belief.log_mean, belief.log_var)
        await self.store.save_duration_stats(key, stats, now)
