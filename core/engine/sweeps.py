"""Watching running tasks: one look per model, spaced by ``core.polling``.

A model's running tasks are watched together. With one task, the look *is* a detail query
(``GET /tasks/{id}``) of that task: its job's ``next_at`` is the look, and the tracker sets the
next one after every answer. With two or more, the look is one task-list query (a *sweep*) that
reports all of them; a task it shows finished is made due for one detail query (its video URL),
and each listed task keeps only a sparse safety check of its own. The look time of a listed
model lives here, in memory: after a restart every model is planned afresh.

``plan`` runs at the end of every pass that changed a model's tasks (a create, a look, a task
that ended, a cancel seen in the store, push health turning): it learns first (the detail
queries of the pass have run) and then places the next look where ``∫√hazard`` from now reaches
the pacing's spacing, never later than a look already planned. If the list endpoint fails, sweeps
stop for a while and every task is looked at alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from core.domain.jobs import JobStatus
from core.domain.records import Change, JobRecord, transition
from core.domain.tasks import TaskStatus
from core.engine.context import EngineContext
from core.engine.scheduler import seconds
from core.estimates import Durations
from core.polling import look_delay, safety_delay, use_list

log = logging.getLogger(__name__)

WATCHED = (JobStatus.PENDING, JobStatus.RUNNING)
#: how long the list endpoint is left alone after it failed
_SWEEP_COOLDOWN = timedelta(minutes=5)


def _watchable(job: JobRecord) -> bool:
    return job.task_id is not None and job.submit_ended_at is not None


def _check_at(now: datetime, when: datetime) -> Change:
    return lambda j: transition(j, j.status, now, next_at=when)


class Sweeper:
    def __init__(
        self, ctx: EngineContext, durations: Durations, pushed: Callable[[], bool] = bool
    ) -> None:
        """``pushed``: whether completion push is healthy now (polling then only backs it up)."""
        self.ctx = ctx
        self.durations = durations
        self._pushed = pushed
        self._next_look: dict[str, datetime] = {}
        #: models whose tasks a list watches (between a look and its re-plan they have no look)
        self._listed: set[str] = set()
        #: model → ids of its running tasks when last planned (None: not planned yet)
        self._members: dict[str, frozenset[int]] = {}
        self._dirty: set[str] = set()
        self._broken_until: datetime | None = None
        self._was_pushed = False
        #: this worker holds the leader role (``core.engine.leases``): only the leader lists
        self.leading = True

    # ------------------------------------------------------------------ state
    @property
    def sweeping(self) -> bool:
        """List looks are on (configured, this worker leads, and the list endpoint is not in
        its cooldown)."""
        return self.ctx.config.sweep and self.leading and self._broken_until is None

    def listed(self, model: str) -> bool:
        """``model``'s tasks are watched by a list look (each keeps only a safety check)."""
        return model in self._listed

    def watch(self, model: str, now: datetime) -> None:
        """A task of ``model`` was just created: plan its looks at the end of the pass."""
        self._dirty.add(model)

    def changed(self, model: str) -> None:
        """A task of ``model`` ended: re-plan the ones left."""
        self._dirty.add(model)

    def next_sweep(self) -> datetime | None:
        return min(self._next_look.values()) if self._next_look else None

    # ------------------------------------------------------------------ the looks
    async def sweep(self, watched: list[JobRecord], now: datetime) -> int:
        """One list query per listed model that is due; returns the number of queries made.

        Also notices what changed behind the engine's back (a cancel, a restart) so that
        ``plan`` takes it into account.
        """
        ctx = self.ctx
        if self._broken_until is not None and now >= self._broken_until:
            self._broken_until = None
            self._dirty.update(self._members)
        groups = self._groups(watched)
        for model in set(self._members) | set(groups):
            if self._members.get(model) != frozenset(j.id for j in groups.get(model, [])):
                self._dirty.add(model)
        if self._pushed() != self._was_pushed:
            self._dirty.update(groups)  # push turned healthy or broke: every model re-planned
        if not self.sweeping:
            return 0
        queries = 0
        for model, jobs in groups.items():
            due = self._next_look.get(model)
            if due is None or due > now or model not in self._listed:
                continue
            if not await ctx.take_query(now):
                break
            queries += 1
            del self._next_look[model]
            self._dirty.add(model)
            try:
                await self._sweep_model(model, jobs, now)
            except Exception as exc:  # noqa: BLE001 - any list failure: fall back to per-task checks
                log.warning(
                    "task-list sweep for %s failed (%r); checking tasks one by one", model, exc
                )
                self._broken_until = now + _SWEEP_COOLDOWN
                self._next_look.clear()
                self._listed.clear()
                self._dirty.update(groups)
                for job in watched:
                    await ctx.save(job, lambda j: transition(j, j.status, now, next_at=now))
                return queries
        return queries

    @staticmethod
    def _groups(watched: list[JobRecord]) -> dict[str, list[JobRecord]]:
        groups: dict[str, list[JobRecord]] = defaultdict(list)
        for job in watched:
            if _watchable(job):
                groups[job.spec.model].append(job)
        return groups

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

    # ------------------------------------------------------------------ planning
    async def plan(self, now: datetime) -> None:
        """Place the next look of every model whose tasks changed this pass (see the module
        docstring); a look already planned earlier is kept."""
        pushed = self._pushed()
        if pushed != self._was_pushed:
            log.info("completion push %s", "healthy: polling backs off" if pushed else "quiet")
            self._was_pushed = pushed
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        groups = self._groups(await self.ctx.store.jobs_with_status(WATCHED))
        for model in dirty:
            jobs = groups.get(model, [])
            self._members[model] = frozenset(j.id for j in jobs)
            if not jobs:
                self._next_look.pop(model, None)
                self._listed.discard(model)
                del self._members[model]
            elif self.sweeping and use_list(len(jobs)):
                await self._plan_list(model, jobs, now, pushed)
            else:
                await self._plan_alone(model, jobs, now, pushed)

    async def _plan_list(
        self, model: str, jobs: list[JobRecord], now: datetime, pushed: bool
    ) -> None:
        cfg = self.ctx.config
        was_listed = model in self._listed
        self._listed.add(model)
        forecasts = [await self.durations.forecast_for(j) for j in jobs]
        elapsed = [seconds(now, j.submit_ended_at or now) for j in jobs]
        tasks = list(zip(forecasts, elapsed, strict=True))
        look = now + timedelta(seconds=look_delay(tasks, cfg.pacing(pushed=pushed)))
        candidates = [look]
        if model in self._next_look:
            candidates.append(self._next_look[model])
        if not was_listed:
            # a task looked at alone until now keeps its planned look, as the list's
            candidates.extend(j.next_at for j in jobs if j.next_at is not None and j.next_at > now)
        self._next_look[model] = min(candidates)
        for job, fc, age in zip(jobs, forecasts, elapsed, strict=True):
            if job.next_at is not None and job.next_at <= now:
                continue  # due already (a list showed it ended, an event came): leave it
            if was_listed and job.next_at is not None:
                continue  # its safety check stands
            check = now + timedelta(seconds=safety_delay(fc, age, cfg.safety_poll_seconds))
            await self.ctx.save(job, _check_at(now, check))

    async def _plan_alone(
        self, model: str, jobs: list[JobRecord], now: datetime, pushed: bool
    ) -> None:
        """Each task is its own look (one task, or the list endpoint is resting)."""
        self._next_look.pop(model, None)
        self._listed.discard(model)
        pacing = self.ctx.config.pacing(pushed=pushed)
        for job in jobs:
            fc = await self.durations.forecast_for(job)
            age = seconds(now, job.submit_ended_at or now)
            look = now + timedelta(seconds=look_delay([(fc, age)], pacing))
            if job.next_at is not None and job.next_at <= look:
                continue
            await self.ctx.save(job, _check_at(now, look))
