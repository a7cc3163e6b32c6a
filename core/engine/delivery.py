"""Handing jobs to their chat front-end, exactly once, through the ``DeliveryRouter``.

Each job goes to the port registered for its ``ChatRef.platform``; a job whose platform has no
ready port stays due (it is never failed for that).

Progress edits happen on a state change, at most one per ``progress_interval`` per job. Outcome
posts (the video, or the failure / cancel / expiry notice) record their intent before posting and
the posted message id after; after a crash between the two, ``find_posted`` says whether the post
went out, so nothing is posted twice and nothing is lost. Transient ``DeliveryError``s retry with
backoff; a permanent one ends the job as ``DELIVERY_FAILED`` with the reason logged. A video too
big for the port's upload limit is fitted first (``core.engine.fitting``, in the background):
the port only reports its limit and never calls back into the core.

While a job waits in the queue, its status message shows its place and expected start: each
pass edits the messages whose place changed (``JobRecord.progress_status`` records the place
shown, ``queued#3``), at most one edit per message per ``progress_interval`` and
``QUEUE_EDITS`` per pass.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from core.domain.jobs import (
    OUTCOME_STATUSES,
    JobStatus,
    JobView,
    progress_key,
    progress_status_of,
)
from core.domain.records import Change, JobRecord, transition
from core.engine.background import Background
from core.engine.config import EngineConfig
from core.engine.fitting import Fitter
from core.engine.router import DeliveryRouter
from core.engine.scheduler import backoff, seconds
from core.log_context import about
from core.ports import DeliveryError, DeliveryPort, JobStore
from core.rows import update

log = logging.getLogger(__name__)

ViewFn = Callable[[JobRecord, datetime], Awaitable[JobView]]
#: the deliverable jobs this worker may post, ``(now, limit)`` (a lease claim, see
#: ``core.engine.leases``); without one, every deliverable job (a store read)
ClaimFn = Callable[[datetime, int], Awaitable[list[JobRecord]]]
#: whether this worker holds the leader role now (``core.engine.leases.Leases.leads``)
LeadFn = Callable[[datetime], Awaitable[bool]]
#: every queued job with its place in the queue (``core.app.views.Views.queue``)
QueueFn = Callable[[datetime], Awaitable[list[tuple[JobRecord, int]]]]
#: status messages of waiting jobs edited per pass at most (the rest move on the next pass)
QUEUE_EDITS = 20


class Deliverer:
    def __init__(
        self,
        *,
        store: JobStore,
        config: EngineConfig,
        router: DeliveryRouter,
        view: ViewFn,
        fitter: Fitter,
        claim: ClaimFn | None = None,
        queue: QueueFn | None = None,
        leading: LeadFn | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.router = router
        #: the one record → view mapping (``core.app.views``), handed in by the builder
        self.view = view
        self.fitter = fitter
        self._claim = claim or (lambda now, limit: store.deliverable_jobs(now, limit=limit))
        self.queue = queue
        #: whether this worker edits the queue places (the leader alone, when several share
        #: a store: each would read the whole queue and race the others to the same edits)
        self._leading = leading

    async def deliver_once(self, now: datetime) -> int:
        """One delivery pass: every job whose delivery work is due; the actions taken."""
        actions = 0
        for job in await self._claim(now, self.config.batch):
            port = self.router.port(job.chat.platform)
            if port is None:
                if not self.router.registered(job.chat.platform):
                    await self._unrouted(job, now)
                continue  # registered but not ready yet (connecting): it stays due
            actions += await self._guarded(port, job, now)
        # re-encodes started by this pass: the quick ones are posted now, the rest later
        started = self.fitter.take_started()
        await Background.wait(started.values(), self.config.fit_wait)
        for job_id, task in started.items():
            fitted = await self.store.get_job(job_id) if task.done() else None
            if fitted is not None and fitted.deliver_at is not None:
                port = self.router.port(fitted.chat.platform)
                if port is not None:
                    actions += await self._guarded(port, fitted, now)
        return actions + await self._queue_moves(now)

    async def _queue_moves(self, now: datetime) -> int:
        """Edit the status messages of waiting jobs whose place in the queue changed."""
        if self.queue is None or (self._leading is not None and not await self._leading(now)):
            return 0
        edits = 0
        gap = self.config.progress_interval
        for job, place in await self.queue(now):
            if edits >= QUEUE_EDITS:
                break
            shown = progress_key(JobStatus.QUEUED, place)
            if not job.chat.status_message or job.deliver_at is not None:
                continue  # not posted yet, or a delivery of its own is due
            if job.progress_status == shown:
                continue
            if job.progress_at is not None and seconds(now, job.progress_at) < gap:
                continue  # edited recently: the next pass after the gap shows the move
            port = self.router.port(job.chat.platform)
            if port is None:
                continue
            try:
                await port.post_progress(await self.view(job, now))
            except DeliveryError as exc:
                log.info("job %d: queue place not shown (%s)", job.id, exc.reason)
                if not exc.permanent:
                    continue  # the next pass tries again
                # permanent (the message is gone): recorded as shown, so it is not retried
            except Exception:
                log.exception("job %d: queue place edit failed unexpectedly", job.id)
                continue
            edits += 1
            await self._save(job, _showing(shown, now))
        return edits

    async def _unrouted(self, job: JobRecord, now: datetime) -> None:
        """No front-end in this process serves the job's platform: look again later."""
        wait = now + timedelta(seconds=self.config.unrouted_retry)
        log.warning(
            "job %d: no delivery port for %r; trying again at %s",
            job.id,
            job.chat.platform,
            wait.isoformat(),
        )
        await self._save(job, lambda j: transition(j, j.status, now, deliver_at=wait))

    async def _guarded(self, port: DeliveryPort, job: JobRecord, now: datetime) -> int:
        try:
            with about(job):
                return await self._one(port, job, now)
        except Exception:
            log.exception("job %d: delivery step failed unexpectedly", job.id)
            await self._later(job, now, None)
            return 0

    async def _one(self, port: DeliveryPort, job: JobRecord, now: datetime) -> int:
        if job.status in OUTCOME_STATUSES:
            return await self._outcome(port, job, now)
        if job.status.final:
            await self._save(job, lambda j: transition(j, j.status, now, deliver_at=None))
            return 0
        return await self._progress(port, job, now)

    async def _progress(self, port: DeliveryPort, job: JobRecord, now: datetime) -> int:
        if progress_status_of(job.progress_status) == job.status.value:
            await self._save(job, lambda j: transition(j, j.status, now, deliver_at=None))
            return 0
        last = job.progress_at
        gap = self.config.progress_interval
        if last is not None and seconds(now, last) < gap:
            wait = last + timedelta(seconds=gap)
            await self._save(job, lambda j: transition(j, j.status, now, deliver_at=wait))
            return 0
        view = await self.view(job, now)
        try:
            await port.post_progress(view)
        except DeliveryError as exc:
            if exc.permanent:
                # the outcome post will meet the same problem and settle the job
                log.warning("job %d: progress edit refused for good: %s", job.id, exc.reason)
            else:
                await self._later(job, now, exc)
                return 0
        await self._save(
            job,
            lambda j: transition(
                j,
                j.status,
                now,
                progress_status=progress_key(j.status, view.queue_position),
                progress_at=now,
                deliver_at=None,
                delivery_attempts=0,
            ),
        )
        return 1

    async def _outcome(self, port: DeliveryPort, job: JobRecord, now: datetime) -> int:
        if job.delivery_intent is not None and job.posted_message_id is None:
            # we may have crashed after posting: ask before posting again
            already = await port.find_posted(await self.view(job, now))
            if already is not None:
                log.info("job %d: outcome was already posted (%s)", job.id, already)
                await self._done(job, now, already)
                return 1
        intent = "result" if job.status is JobStatus.DOWNLOADED else "failure"
        attach = job.video_path
        if intent == "result":
            ready, attach = await self.fitter.prepare(port, job, await self.view(job, now), now)
            if not ready:
                return 0  # re-encoding in the background; it makes the job due again
        if job.delivery_intent != intent:
            marked = await self._save(
                job, lambda j: transition(j, j.status, now, delivery_intent=intent)
            )
            if marked is None:
                return 0
            job = marked
        view = await self.view(job, now)
        try:
            if intent == "result":
                # the file that fits the port's limit, or None: the port posts the link
                message_id = await port.post_result(dataclasses.replace(view, video_path=attach))
            else:
                message_id = await port.post_failure(view)
        except DeliveryError as exc:
            if exc.permanent or job.delivery_attempts + 1 >= self.config.delivery_max_attempts:
                log.warning("job %d: delivery failed for good: %s", job.id, exc.reason)
                await self._save(
                    job,
                    lambda j: transition(
                        j, JobStatus.DELIVERY_FAILED, now, deliver_at=None, delivered_at=now
                    ),
                )
                return 1
            await self._later(job, now, exc)
            return 0
        await self._done(job, now, message_id)
        return 1

    async def _done(self, job: JobRecord, now: datetime, message_id: str) -> None:
        await self._save(
            job,
            lambda j: transition(
                j,
                JobStatus.DELIVERED,
                now,
                posted_message_id=message_id,
                delivered_at=now,
                deliver_at=None,
            ),
        )

    async def _later(self, job: JobRecord, now: datetime, exc: DeliveryError | None) -> None:
        attempts = job.delivery_attempts + 1
        delay = backoff(attempts, base=self.config.backoff_base, cap=self.config.backoff_cap)
        if exc is not None and exc.retry_after:
            delay = max(delay, exc.retry_after)
        if exc is not None:
            log.info("job %d: delivery retry in %.1f s: %s", job.id, delay, exc.reason)
        if attempts >= self.config.delivery_max_attempts and job.status in OUTCOME_STATUSES:
            log.warning("job %d: delivery kept failing; giving up", job.id)
            await self._save(
                job,
                lambda j: transition(
                    j, JobStatus.DELIVERY_FAILED, now, deliver_at=None, delivered_at=now
                ),
            )
            return
        await self._save(
            job,
            lambda j: transition(
                j,
                j.status,
                now,
                delivery_attempts=attempts,
                deliver_at=now + timedelta(seconds=delay),
            ),
        )

    async def _save(self, job: JobRecord, change: Change) -> JobRecord | None:
        return await update(self.store, job, change)


def _showing(shown: str, now: datetime) -> Change:
    """Record that the status message shows ``shown`` (unless the job left the queue)."""

    def change(job: JobRecord) -> JobRecord | None:
        if job.status is not JobStatus.QUEUED:
            return None
        return transition(job, job.status, now, progress_status=shown, progress_at=now)

    return change
