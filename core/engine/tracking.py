"""Per-task checks: when to look at a running task next, the look itself, and its answer.

Check times follow the learned completion hazard (``core.engine.scheduler.check_interval``).
While sweeps watch a model (``core.engine.sweeps``), each task keeps only a sparse safety check
of its own past its expected end; without sweeps it is checked densely near it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.domain.durations import Expectation
from core.domain.errors import AnimateError, Kind, ProviderError
from core.domain.jobs import JobStatus
from core.domain.records import JobRecord, expired, failing, transition
from core.domain.tasks import TaskInfo, TaskStatus
from core.engine.context import EngineContext
from core.engine.scheduler import check_interval, seconds
from core.engine.sweeps import Sweeper
from core.estimates import Durations

log = logging.getLogger(__name__)

_S = JobStatus


class Tracker:
    def __init__(self, ctx: EngineContext, durations: Durations, sweeper: Sweeper) -> None:
        self.ctx = ctx
        self.durations = durations
        self.sweeper = sweeper

    # ------------------------------------------------------------------ check times
    def _sweeping(self, sweeping: bool) -> bool:
        return sweeping and self.sweeper.sweeping

    @staticmethod
    def _safety_start(exp: Expectation) -> float:
        return exp.quantile(0.98) + 5.0

    def first_check(self, exp: Expectation, *, sweeping: bool) -> float:
        """Seconds after the create answer until the task's own first check."""
        if self._sweeping(sweeping):
            return self._safety_start(exp)
        return self._dense(exp, 0.0)

    def _dense(self, exp: Expectation, elapsed: float) -> float:
        cfg = self.ctx.config
        return check_interval(
            exp.hazard(elapsed),
            coefficient=cfg.poll_coefficient,
            floor=cfg.poll_floor,
            ceiling=cfg.poll_ceiling,
        )

    async def next_check(self, job: JobRecord, now: datetime, *, sweeping: bool) -> float:
        exp = await self.durations.expectation_for(job)
        elapsed = seconds(now, job.submit_ended_at) if job.submit_ended_at else 0.0
        if self._sweeping(sweeping):
            start = self._safety_start(exp)
            return start - elapsed if elapsed < start else self.ctx.config.safety_poll_seconds
        return self._dense(exp, elapsed)

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
            delay = await self.next_check(job, now, sweeping=ctx.config.sweep)
            await ctx.save(
                job,
                lambda j: transition(
                    j, new_status, now, attempts=0, next_at=now + timedelta(seconds=delay)
                ),
            )
            return
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
