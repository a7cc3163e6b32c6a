"""Per-task checks: when a running task is looked at next, the look itself, and its answer.

A task alone on its model is looked at directly: its ``next_at`` is the next look, placed by
``core.polling`` after every answer. While a list watches a model's tasks
(``core.engine.sweeps``), each keeps only a sparse safety check of its own. Every ending is
told to the sweeper (re-plan the rest) and to the push monitor (was it announced?).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.domain.errors import AnimateError, Kind, ProviderError
from core.domain.jobs import JobStatus
from core.domain.records import JobRecord, expired, failing, transition
from core.domain.tasks import TaskInfo, TaskStatus
from core.engine.context import EngineContext
from core.engine.push import Pushes
from core.engine.scheduler import seconds
from core.engine.sweeps import Sweeper
from core.estimates import Durations
from core.polling import look_delay, safety_delay

log = logging.getLogger(__name__)

_S = JobStatus


class Tracker:
    def __init__(
        self, ctx: EngineContext, durations: Durations, sweeper: Sweeper, pushes: Pushes
    ) -> None:
        self.ctx = ctx
        self.durations = durations
        self.sweeper = sweeper
        self.pushes = pushes

    # ------------------------------------------------------------------ check times
    async def next_check(self, job: JobRecord, now: datetime) -> float:
        """Seconds until ``job``'s own next look: its safety check while a list watches it,
        else the next look at it alone."""
        fc = await self.durations.forecast_for(job)
        elapsed = seconds(now, job.submit_ended_at) if job.submit_ended_at else 0.0
        cfg = self.ctx.config
        if self.sweeper.listed(job.spec.model):
            return safety_delay(fc, elapsed, cfg.safety_poll_seconds)
        return look_delay([(fc, elapsed)], cfg.pacing(pushed=self.pushes.healthy))

    # ------------------------------------------------------------------ the check
    async def poll(self, job: JobRecord, now: datetime) -> None:
        """Ask DashScope about ``job``'s task and record the answer (a guarded step)."""
        ctx = self.ctx
        assert job.task_id is not None  # noqa: S101 - PENDING/RUNNING rows always carry a task id
        try:
            info = await ctx.provider.get_task(job.task_id)
        except Exception as exc:  # noqa: BLE001 - 5xx, timeouts, anything: back off, never die
            if job.submit_ended_at and seconds(now, job.submit_ended_at) > (
                ctx.config.task_ttl + 3600
            ):
                await ctx.save(
                    job,
                    lambda j: expired(
                        j,
                        now,
                        "DashScope no longer knows this job (it is older than 24 hours).",
                        key="task.forgotten",
                    ),
                )
                return
            await ctx.retry_later(job, now, exc)
            return
        await self.apply(job, info, now)

    async def apply(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        """Record what a task query said about ``job``."""
        ctx = self.ctx
        status = info.status
        if status in (TaskStatus.PENDING, TaskStatus.RUNNING):
            new_status = _S.RUNNING if status is TaskStatus.RUNNING else job.status
            delay = await self.next_check(job, now)
            await ctx.save(
                job,
                lambda j: transition(
                    j, new_status, now, attempts=0, next_at=now + timedelta(seconds=delay)
                ),
            )
            return
        self.sweeper.changed(job.spec.model)
        if status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
            # an ending DashScope announces (§14.1): push should have said so, or soon will
            self.pushes.ended(job.task_id or info.task_id, info.end_time or now, now)
        if status is TaskStatus.SUCCEEDED:
            await self._succeeded(job, info, now)
        elif status is TaskStatus.FAILED:
            error = info.error or ProviderError(
                "DashScope could not make this video. Try again, or change the image or prompt.",
                key="task.failed",
                kind=Kind.INTERNAL,
                retryable=False,
                code=info.code,
            )
            await ctx.save(job, failing(now, error))
        elif status is TaskStatus.CANCELED:
            err = AnimateError("The job was canceled.", key="job.canceled", kind=Kind.CANCELED)
            await ctx.save(job, failing(now, err, _S.CANCELED))
        else:
            await ctx.save(
                job,
                lambda j: expired(
                    j,
                    now,
                    "DashScope no longer knows this job (tasks are kept for 24 hours).",
                    key="task.forgotten",
                ),
            )

    async def _succeeded(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        ctx = self.ctx
        if not info.video_url:
            await ctx.retry_later(job, now, RuntimeError("SUCCEEDED without a video URL"))
            return
        await self.durations.learn(job, info, now)
        end = info.end_time if info.end_time and abs(seconds(info.end_time, now)) < 3600 else now
        # billed seconds × the price the job was quoted at (None: no price was known)
        cost = None
        if info.usage is not None and job.unit_price is not None:
            cost = round(job.unit_price * round(info.usage.seconds), 6)
        await ctx.save(
            job,
            lambda j: transition(
                j,
                _S.SUCCEEDED,
                now,
                attempts=0,
                finished_at=now,
                video_url=info.video_url,
                video_url_expires_at=end + timedelta(seconds=ctx.config.result_ttl),
                usage_seconds=info.usage.seconds if info.usage else None,
                cost=cost,
                orig_prompt=info.orig_prompt,
                actual_prompt=info.actual_prompt,
                next_at=now,
            ),
        )
