"""Watching running tasks cheaply: learned durations, per-job check times and list sweeps.

A *sweep* is one task-list query per model that reports the state of every task of that model in
a time window: with N tasks running, one query watches all N. Sweeps are spaced by the combined
completion hazard of the tasks they cover; a task seen finished in a sweep gets one detail query
(``GET /tasks/{id}``) for its video URL. Each task also keeps a sparse safety check of its own, and
if the list endpoint fails the engine falls back to dense per-task checks.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.catalog import find_model
from core.jobs import JobStatus
from core.lifecycle import EngineConfig, transition
from core.scheduler import (
    Expectation,
    check_interval,
    combined_hazard,
    expectation,
    learn,
    prior_median,
    seconds,
)
from core.store import DurationKey, DurationStats, JobRecord, JobStore
from core.tasks import TaskInfo, TaskStatus, VideoProvider

if TYPE_CHECKING:
    from core.engine import Engine

log = logging.getLogger(__name__)

#: how long the list endpoint is left alone after it failed
_SWEEP_COOLDOWN = timedelta(minutes=5)


class Tracker:
    def __init__(self, *, provider: VideoProvider, store: JobStore, config: EngineConfig) -> None:
        self.provider = provider
        self.store = store
        self.config = config
        self._stats: dict[DurationKey, DurationStats | None] = {}
        self._next_sweep: dict[str, datetime] = {}
        self._broken_until: datetime | None = None

    # ------------------------------------------------------------------ durations
    @staticmethod
    def key(job: JobRecord) -> DurationKey:
        return DurationKey(job.spec.model, job.spec.resolution, job.spec.duration)

    async def expectation_for(self, job: JobRecord) -> Expectation:
        key = self.key(job)
        if key not in self._stats:
            self._stats[key] = await self.store.get_duration_stats(key)
        model = find_model(job.spec.model)
        if model is None:
            return Expectation(120.0, 0.35)
        return expectation(model, job.spec.resolution, job.spec.duration, self._stats[key])

    def cached_mean(self, model_id: str, resolution: str, duration: int) -> float:
        model = find_model(model_id)
        if model is None:
            return 120.0
        stats = self._stats.get(DurationKey(model_id, resolution, duration))
        return (
            expectation(model, resolution, duration, stats).mean
            if stats
            else prior_median(model, resolution, duration)
        )

    async def learn(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        took: float | None = None
        if info.submit_time and info.end_time:
            took = seconds(info.end_time, info.submit_time)
        if took is None or not 0 < took < 6 * 3600:
            took = seconds(now, job.submit_ended_at) if job.submit_ended_at else None
        if took is None or took <= 0:
            return
        key = self.key(job)
        if key not in self._stats:
            self._stats[key] = await self.store.get_duration_stats(key)
        stats = learn(self._stats[key], took)
        self._stats[key] = stats
        await self.store.save_duration_stats(key, stats, now)

    # ------------------------------------------------------------------ check times
    @property
    def sweeping(self) -> bool:
        return self.config.sweep and self._broken_until is None

    def _safety_start(self, exp: Expectation) -> float:
        return exp.quantile(0.98) + 5.0

    def first_check(self, exp: Expectation, *, sweeping: bool) -> float:
        """Seconds after the create answer until the task's own first check."""
        if sweeping and self.sweeping:
            return self._safety_start(exp)
        return self._dense(exp, 0.0)

    def _dense(self, exp: Expectation, elapsed: float) -> float:
        cfg = self.config
        return check_interval(
            exp.hazard(elapsed),
            coefficient=cfg.poll_coefficient,
            floor=cfg.poll_floor,
            ceiling=cfg.poll_ceiling,
        )

    async def next_check(self, job: JobRecord, now: datetime, *, sweeping: bool) -> float:
        exp = await self.expectation_for(job)
        elapsed = seconds(now, job.submit_ended_at) if job.submit_ended_at else 0.0
        if sweeping and self.sweeping:
            start = self._safety_start(exp)
            return start - elapsed if elapsed < start else self.config.safety_poll_seconds
        return self._dense(exp, elapsed)

    def watch(self, model: str, now: datetime) -> None:
        """A task of ``model`` was just created: make sure a sweep covers it soon."""
        if self.sweeping and model not in self._next_sweep:
            self._next_sweep[model] = now + timedelta(seconds=self.config.poll_floor)

    def next_sweep(self) -> datetime | None:
        if not self.sweeping or not self._next_sweep:
            return None
        return min(self._next_sweep.values())

    # ------------------------------------------------------------------ sweeps
    async def sweep(self, engine: Engine, watched: list[JobRecord], now: datetime) -> int:
        """One list query per model that is due; returns the number of queries made."""
        if self._broken_until is not None and now >= self._broken_until:
            self._broken_until = None
        if not self.sweeping:
            return 0
        groups: dict[str, list[JobRecord]] = defaultdict(list)
        for job in watched:
            if job.task_id is not None and job.submit_ended_at is not None:
                groups[job.spec.model].append(job)
        for model in list(self._next_sweep):
            if model not in groups:
                del self._next_sweep[model]
        queries = 0
        for model, jobs in groups.items():
            due = self._next_sweep.get(model)
            if due is not None and due > now:
                continue
            if not engine.take_query(now):
                break
            queries += 1
            try:
                await self._sweep_model(engine, model, jobs, now)
            except Exception as exc:  # noqa: BLE001 - any list failure: fall back to per-task checks
                log.warning(
                    "task-list sweep for %s failed (%r); checking tasks one by one", model, exc
                )
                self._broken_until = now + _SWEEP_COOLDOWN
                self._next_sweep.clear()
                for job in watched:
                    await engine.save(job, lambda j: transition(j, j.status, now, next_at=now))
                return queries
            hazards = [
                (await self.expectation_for(j), seconds(now, j.submit_ended_at or now))
                for j in jobs
            ]
            cfg = self.config
            interval = check_interval(
                combined_hazard(hazards),
                coefficient=cfg.poll_coefficient,
                floor=cfg.poll_floor,
                ceiling=cfg.poll_ceiling,
            )
            self._next_sweep[model] = now + timedelta(seconds=interval)
        return queries

    async def _sweep_model(
        self, engine: Engine, model: str, jobs: list[JobRecord], now: datetime
    ) -> None:
        skew = timedelta(seconds=self.config.reconcile_skew)
        oldest = min(j.submit_started_at or j.created_at for j in jobs)
        start = max(oldest - skew, now - timedelta(seconds=self.config.task_ttl) + skew)
        listed = await self.provider.list_tasks(start=start, end=now + skew, model=model)
        by_id = {s.task_id: s for s in listed}
        for job in jobs:
            summary = by_id.get(job.task_id or "")
            if summary is None:
                ended = job.submit_ended_at
                # a task younger than ``list_settle`` may not be listed yet
                missing = (
                    ended is not None
                    and ended >= start
                    and seconds(now, ended) > self.config.list_settle
                )
                if missing and (job.next_at is None or job.next_at > now):
                    # the list should show it and does not: ask the task itself
                    await engine.save(job, lambda j: transition(j, j.status, now, next_at=now))
                continue
            if summary.status.terminal:
                await engine.save(job, lambda j: transition(j, j.status, now, next_at=now))
            elif summary.status is TaskStatus.RUNNING and job.status is JobStatus.PENDING:
                await engine.save(job, lambda j: transition(j, JobStatus.RUNNING, now))
