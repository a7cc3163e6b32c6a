"""Reconciling creates whose answer was lost (``SUBMIT_UNKNOWN``) through the task-list endpoint.

Every create is a billed task, so a lost answer is never retried. Instead the engine lists the
model's tasks in the job's submit window (recorded tightly: just before the request left and just
after it ended) and claims a task only when the match is unambiguous:

* tasks already claimed by another job are excluded;
* a job is matched to a task only when that task is its *only* candidate **and** no other unknown
  job of the same model could claim the same task (several concurrent unknown jobs with
  overlapping windows stay unresolved rather than risk swapping videos between users);
* no candidate at all in a list queried successfully once the window has settled (a new task
  may take a few seconds to be listed): the create was never made, so it is sent again — once,
  without a word to the user (a second such loss fails the job saying so);
* candidates that stay ambiguous after a few tries: the job fails with a message saying exactly
  that — nothing is resubmitted when a task might exist.

Several workers: a create another worker has in flight (its row says SUBMITTING, its task may
already be listed but not yet recorded) competes like an unknown job, with a window open until
its create must have ended; a job whose only candidates are such tasks waits for those creates
to settle, without counting a try. The competitors and the claimed tasks are read *after* the
list: every listed task was created after its job's SUBMITTING marker was written, so the
worker that created it shows up in that read (as a competitor, or as the task's owner).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from core.domain.errors import AnimateError, Kind
from core.domain.jobs import JobStatus
from core.domain.records import Change, JobRecord, failing, transition
from core.domain.tasks import TaskStatus, TaskSummary
from core.engine.context import EngineContext

log = logging.getLogger(__name__)

UNCONFIRMED_MESSAGE = (
    "We could not confirm whether DashScope created this job; nothing was resubmitted, "
    "press Regenerate to try again."
)
#: the create was proven never made twice (the second time after the automatic resubmit)
NOT_CREATED_MESSAGE = (
    "DashScope did not receive this job, not even when we sent it a second time; nothing "
    "was charged. Press Regenerate to try again in a few minutes."
)

#: how close to DashScope's 24 h retention a window may be and still be proven empty
_LIST_MARGIN = timedelta(hours=1)


def window(
    job: JobRecord, skew: timedelta, open_for: timedelta = timedelta(0)
) -> tuple[datetime, datetime]:
    """When ``job``'s task can have been created: its submit window widened by ``skew``. A
    create still in flight (no end recorded) may end up to ``open_for`` after it started."""
    started = job.submit_started_at or job.created_at
    lo = started - skew
    hi = (job.submit_ended_at or started + open_for) + skew
    return lo, hi


def candidates_of(
    job: JobRecord, tasks: list[TaskSummary], skew: timedelta, open_for: timedelta = timedelta(0)
) -> set[str]:
    lo, hi = window(job, skew, open_for)
    return {t.task_id for t in tasks if t.created_at is not None and lo <= t.created_at <= hi}


def match(
    jobs: list[JobRecord],
    tasks: list[TaskSummary],
    skew: timedelta,
    open_for: timedelta = timedelta(0),
) -> dict[int, TaskSummary]:
    """job id → its task, for the jobs whose match is unambiguous (a job whose create is still
    in flight competes for its candidates but is never matched here: its worker records it)."""
    candidates: dict[int, set[str]] = {}
    by_id = {t.task_id: t for t in tasks}
    sending = {j.id for j in jobs if j.status is JobStatus.SUBMITTING}
    for job in jobs:
        candidates[job.id] = candidates_of(job, tasks, skew, open_for)
    found: dict[int, TaskSummary] = {}
    progress = True
    while progress:
        progress = False
        wanted_by: dict[str, int] = defaultdict(int)
        for cands in candidates.values():
            for task_id in cands:
                wanted_by[task_id] += 1
        for job_id, cands in list(candidates.items()):
            if len(cands) == 1 and job_id not in sending:
                (task_id,) = cands
                if wanted_by[task_id] == 1:
                    found[job_id] = by_id[task_id]
                    del candidates[job_id]
                    progress = True
    return found


def _later(now: datetime, when: datetime) -> Change:
    return lambda j: transition(j, j.status, now, next_at=when)


def _claim(task: TaskSummary, status: JobStatus, now: datetime) -> Change:
    return lambda j: transition(j, status, now, task_id=task.task_id, attempts=0, next_at=now)


class Reconciler:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    async def run(self, now: datetime) -> int:
        ctx = self.ctx
        due = await ctx.leases.claim_due(now, [JobStatus.SUBMIT_UNKNOWN], limit=ctx.config.batch)
        if not due:
            return 0
        done = 0
        for model in sorted({j.spec.model for j in due}):
            if not await ctx.take_query(now):
                break
            mine = [j for j in due if j.spec.model == model]
            try:
                done += await self._model(model, mine, now)
            except Exception as exc:  # noqa: BLE001 - listing failed: every job of it retries later
                log.warning("reconciling %s: task list failed (%r)", model, exc)
                for job in mine:
                    await self._retry_or_fail(job, now, exc, count=False)
        return done

    async def _model(self, model: str, due: list[JobRecord], now: datetime) -> int:
        ctx = self.ctx
        skew = timedelta(seconds=ctx.config.reconcile_skew)
        open_for = timedelta(seconds=ctx.config.submit_timeout)
        start = min(window(j, skew)[0] for j in due)
        end = max(window(j, skew)[1] for j in due)
        listed = await ctx.provider.list_tasks(start=start, end=end, model=model)
        # read after the list (see the module docstring): every job that may own a listed task
        rivals = [
            j
            for j in await ctx.store.jobs_with_status(
                [JobStatus.SUBMIT_UNKNOWN, JobStatus.SUBMITTING]
            )
            if j.spec.model == model
        ]
        claimed = await ctx.store.claimed_task_ids([t.task_id for t in listed])
        free = [t for t in listed if t.task_id not in claimed]
        found = match(rivals, free, skew, open_for)
        in_flight: set[str] = set()
        for rival in rivals:
            if rival.status is JobStatus.SUBMITTING:
                in_flight |= candidates_of(rival, free, skew, open_for)
        due_ids = {j.id for j in due}
        done = 0
        for job in rivals:
            if job.id not in due_ids or job.status is not JobStatus.SUBMIT_UNKNOWN:
                continue
            task = found.get(job.id)
            if task is None:
                lo, hi = window(job, skew)
                settled = hi + timedelta(seconds=ctx.config.list_settle)
                # the list keeps tasks 24 h: an empty list for an older window proves nothing
                forgotten = now - lo > timedelta(seconds=ctx.config.task_ttl) - _LIST_MARGIN
                mine = candidates_of(job, free, skew)
                if mine and mine <= in_flight and not forgotten:
                    # only tasks other workers are still recording: look again when they have
                    await ctx.save(
                        job, _later(now, now + timedelta(seconds=ctx.config.reconcile_delay))
                    )
                elif mine or forgotten:
                    await self._retry_or_fail(job, now, None, count=True)  # ambiguous
                elif now < settled:
                    # the list may not show a task this young yet: look again once it would
                    await ctx.save(job, _later(now, settled))
                else:
                    await self._never_made(job, now)
                continue
            status = JobStatus.PENDING if task.status is TaskStatus.PENDING else JobStatus.RUNNING
            log.info(
                "job %d: lost create reconciled to task %s (%s)", job.id, task.task_id, task.status
            )
            if await ctx.save(job, _claim(task, status, now)) is not None:
                done += 1
        return done

    async def _never_made(self, job: JobRecord, now: datetime) -> None:
        """The list proves there is no task for ``job``: the create never reached DashScope."""
        if job.resubmits >= 1:
            log.warning("job %d: create lost again and never made; failing", job.id)
            error = AnimateError(NOT_CREATED_MESSAGE, key="create.never_made", kind=Kind.BUSY)
            await self.ctx.save(job, failing(now, error))
            return
        log.warning("job %d: lost create was never made (no task listed); sending it again", job.id)
        await self.ctx.save(
            job,
            lambda j: transition(
                j,
                JobStatus.QUEUED,
                now,
                resubmits=j.resubmits + 1,
                attempts=0,
                submit_ended_at=None,
                next_at=now,
                # nothing to tell the user: the status message moves on when the task starts
                deliver_at=j.deliver_at,
            ),
        )

    async def _retry_or_fail(
        self, job: JobRecord, now: datetime, exc: BaseException | None, *, count: bool
    ) -> None:
        attempts = job.attempts + 1 if count else job.attempts
        too_old = job.submit_started_at is not None and (
            (now - job.submit_started_at).total_seconds() > self.ctx.config.task_ttl
        )
        if attempts >= self.ctx.config.reconcile_attempts or too_old:
            log.warning(
                "job %d: create could not be confirmed; failing without resubmitting", job.id
            )
            error = AnimateError(
                UNCONFIRMED_MESSAGE, key="create.unconfirmed", kind=Kind.OUTCOME_UNKNOWN
            )
            await self.ctx.save(job, failing(now, error))
            return
        delay = timedelta(seconds=self.ctx.config.reconcile_delay * (2**job.attempts))
        if exc is not None:
            delay = max(delay, self.ctx.backoff(job.attempts + 1))
        await self.ctx.save(
            job, lambda j: transition(j, j.status, now, attempts=attempts, next_at=now + delay)
        )
