"""Watching running tasks cheaply: one task-list query per model covers all of its tasks.

A *sweep* is one list query per model that reports the state of every task of that model in a
time window: with N tasks running, one query watches all N. Sweeps are spaced by the combined
completion hazard of the tasks they cover; a task seen finished in a sweep is made due for one
detail query (``GET /tasks/{id}``, ``core.engine.tracking``) for its video URL. If the list
endpoint fails, sweeps stop for a while and every task falls back to dense checks of its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord, transition
from core.domain.tasks import TaskStatus
from core.engine.context import EngineContext
from core.engine.scheduler import check_interval, combined_hazard, seconds
from core.estimates import Durations

log = logging.getLogger(__name__)

#: how long the list endpoint is left alone after it failed
_SWEEP_COOLDOWN = timedelta(minutes=5)


class Sweeper:
    def __init__(self, ctx: EngineContext, durations: Durations) -> None:
        self.ctx = ctx
        self.durations = durations
        self._next_sweep: dict[str, datetime] = {}
        self._broken_until: datetime | None = None

    @property
    def sweeping(self) -> bool:
        """Sweeps are on (configured, and the list endpoint is not in its cooldown)."""
        return self.ctx.config.sweep and self._broken_until is None

    def watch(self, model: str, now: datetime) -> None:
        """A task of ``model`` was just created: make sure a sweep covers it soon."""
        if self.sweeping and model not in self._next_sweep:
            self._next_sweep[model] = now + timedelta(seconds=self.ctx.config.poll_floor)

    def next_sweep(self) -> datetime | None:
        if not self.sweeping or not self._next_sweep:
            return None
        return min(self._next_sweep.values())

    async def sweep(self, watched: list[JobRecord], now: datetime) -> int:
        """One list query per model that is due; returns the number of queries made."""
        ctx = self.ctx
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
            if not await ctx.take_query(now):
                break
            queries += 1
            try:
                await self._sweep_model(model, jobs, now)
            except Exception as exc:  # noqa: BLE001 - any list failure: fall back to per-task checks
                log.warning(
                    "task-list sweep for %s failed (%r); checking tasks one by one", model, exc
                )
                self._broken_until = now + _SWEEP_COOLDOWN
                self._next_sweep.clear()
                for job in watched:
                    await ctx.save(job, lambda j: transition(j, j.status, now, next_at=now))
                return queries
            hazards = [
                (await self.durations.expectation_for(j), seconds(now, j.submit_ended_at or now))
                for j in jobs
            ]
            cfg = ctx.config
            interval = check_interval(
                combined_hazard(hazards),
                coefficient=cfg.poll_coefficient,
                floor=cfg.poll_floor,
                ceiling=cfg.poll_ceiling,
            )
            self._next_sweep[model] = now + timedelta(seconds=interval)
        return queries

    async def _sweep_model(self, model: str, jobs: list[JobRecord], now: datetime) -> None:
        ctx = self.ctx
        skew = timedelta(seconds=ctx.config.reconcile_skew)
        oldest = min(j.submit_started_at or j.created_at for j in jobs)
        start = max(oldest - skew, now - timedelta(seconds=ctx.config.task_ttl) + skew)
        listed = await ctx.provider.list_tasks(start=start, end=now + skew, model=model)
        by_id = {s.task_id: s for s in listed}
        for job in jobs:
            summary = by_id.get(job.task_id or "")
            if summary is None:
                ended = job.submit_ended_at
                # a task younger than ``list_settle`` may not be listed yet
                missing = (
                    ended is not None
                    and ended >= start
                    and seconds(now, ended) > ctx.config.list_settle
                )
                if missing and (job.next_at is None or job.next_at > now):
                    # the list should show it and does not: ask the task itself
                    await ctx.save(job, lambda j: transition(j, j.status, now, next_at=now))
                continue
            if summary.status.terminal:
                await ctx.save(job, lambda j: transition(j, j.status, now, next_at=now))
            elif summary.status is TaskStatus.RUNNING and job.status is JobStatus.PENDING:
                await ctx.save(job, lambda j: transition(j, JobStatus.RUNNING, now))
