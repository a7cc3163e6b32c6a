"""Admission: which queued jobs get a slot now, and the create call itself.

Per-model concurrency slots (``Model.concurrency``, overridable) and submit rate windows
(``Model.submit_rps``), in the fair order of ``core.domain.fairness.fair_order``. Both belong to
the DashScope account, not to a process: the submit windows and pauses are the context's
``AccountLimits`` (in the database when several workers share it), and a slot is taken by the
very write that marks the job SUBMITTING (``JobStore.save_within``: the count of the model's
busy jobs and the write are one atomic step, so two workers cannot both take the last slot).
That write also takes the job's lease, renewed while the create is out. A 429 puts the job back
in the queue with a next-attempt time and pauses the whole model for every worker; a lost answer
goes to reconciliation; nothing is ever sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.errors import AnimateError, Kind, OutcomeUnknownError, ProviderError
from core.domain.fairness import fair_order
from core.domain.jobs import SLOT_STATUSES, JobStatus
from core.domain.records import JobRecord, failing, transition
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus
from core.engine.context import EngineContext
from core.engine.sweeps import Sweeper
from core.engine.tracking import Tracker
from core.engine.uploads import uploads_ready
from core.estimates import Durations
from core.ports import SlotCap

log = logging.getLogger(__name__)

_S = JobStatus


class Admission:
    def __init__(
        self, ctx: EngineContext, durations: Durations, tracker: Tracker, sweeper: Sweeper
    ) -> None:
        self.ctx = ctx
        self.durations = durations
        self.tracker = tracker
        self.sweeper = sweeper

    async def admit(self, now: datetime) -> int:
        """Submit queued jobs, fairly, while their model has a free slot and submit budget."""
        ctx = self.ctx
        waiting = await ctx.store.in_flight_counts([_S.QUEUED])
        if not waiting:
            return 0
        counts = defaultdict(int, await ctx.store.in_flight_counts(SLOT_STATUSES))
        if all(counts[m] >= ctx.slots_of(m) for m in waiting):
            return 0  # every slot is busy: a finishing task (seen by a poll) wakes us
        paused = await ctx.pauses(now)
        #: models whose submit window is full this pass, and when it frees
        full: dict[str, datetime] = {}
        chosen: list[JobRecord] = []
        for job in await self.fair_queue(now):
            try:
                model = job.spec.catalog_model
            except AnimateError as error:
                await ctx.save(job, failing(now, error))
                continue
            if counts[model.id] >= ctx.slots(model):
                continue
            if not uploads_ready(job, now, ctx.config):
                continue  # its uploads run (or back off) in the background first
            if job.next_at is not None and job.next_at > now:
                ctx.wake(job.next_at)  # backing off after a 429 / 5xx
                continue
            held = paused.get(model.id) or full.get(model.id)
            if held is None and (free_at := await ctx.take_submit(model, now)) is not None:
                held = full[model.id] = free_at
            if held is not None:
                ctx.wake(held)
                continue
            counts[model.id] += 1
            chosen.append(job)
        # One create at a time per worker: after a crash at most one row per process is
        # SUBMITTING, so its submit window holds few unclaimed tasks and reconciliation (which
        # counts the other workers' creates in flight as competitors) stays unambiguous.
        for job in chosen:
            await ctx.guarded(job, now, self.submit)
        return len(chosen)

    async def fair_queue(self, now: datetime) -> list[JobRecord]:
        """Queued jobs in the order they get slots (see ``core.domain.fairness``)."""
        store = self.ctx.store
        queued = await store.jobs_with_status([_S.QUEUED])
        since = now - timedelta(seconds=self.ctx.config.fairness_window)
        return fair_order(queued, await store.submitted_since(since))

    async def _request(self, job: JobRecord) -> TaskRequest:
        if job.image_path is None and job.clip_path is None:
            raise AnimateError(
                "The input image of this job is gone.",
                key="job.image_gone",
                kind=Kind.INVALID_INPUT,
            )
        image = await _read(job.image_path, job.image_mime or "image/png")
        last_frame = await _read(job.last_frame_path, job.last_frame_mime or "image/png")
        if (job.audio_path is not None and job.audio_url is None) or (
            job.clip_path is not None and job.clip_url is None
        ):
            raise AnimateError(
                "The audio file or the clip of this job was not uploaded.",
                key="job.audio_not_uploaded",
                kind=Kind.INTERNAL,
            )
        spec = job.spec
        return TaskRequest(
            model=spec.catalog_model,
            image=image,
            prompt=None if spec.template else spec.prompt,
            negative_prompt=spec.negative_prompt,
            resolution=spec.resolution,
            duration=spec.duration,
            seed=job.seed_used,
            prompt_extend=spec.prompt_extend,
            watermark=spec.watermark,
            sound=spec.sound,
            # uploaded beforehand (core.engine.uploads): the create only names the oss:// URLs
            audio_url=job.audio_url if job.audio_path is not None else None,
            template=spec.template,
            last_frame=last_frame,
            clip_url=job.clip_url if job.clip_path is not None else None,
            ratio=spec.ratio,
        )

    async def submit(self, job: JobRecord, now: datetime) -> None:
        """The create call of one admitted job (a guarded step)."""
        ctx = self.ctx
        try:
            request = await self._request(job)
        except (OSError, AnimateError) as exc:
            error = (
                exc
                if isinstance(exc, AnimateError)
                else AnimateError(
                    "The input files of this job are gone; please start a new one.",
                    key="job.inputs_gone",
                )
            )
            await ctx.save(job, failing(now, error))
            return
        sending = await self._sending(job, now)
        if sending is None:
            return
        try:
            info = await ctx.provider.create_task(request)
        except OutcomeUnknownError as exc:
            await self._unknown(sending, exc, max(now, ctx.clock.now()))
            return
        except ProviderError as exc:
            await self._refused(sending, now, exc)
            return
        except AnimateError as exc:
            # refused before sending anything (only the provider could know): nothing was
            # created; the user must change the request (never "outcome unknown")
            log.info("job %d: create refused before sending: %r", job.id, exc)
            await ctx.save(sending, failing(now, exc))
            return
        except Exception as exc:
            log.exception("job %d: create failed unexpectedly; outcome unknown", job.id)
            await self._unknown(sending, exc, max(now, ctx.clock.now()))
            return
        await self._accepted(sending, info, max(now, ctx.clock.now()))

    async def _sending(self, job: JobRecord, now: datetime) -> JobRecord | None:
        """Mark ``job`` SUBMITTING, taking a slot of its model and its lease; None when the
        slots are full (it stays queued) or the job moved on meanwhile.

        The row says SUBMITTING before the create leaves: a crash now is visible and reconciled.
        Durable (synced to disk): after a power cut a lost marker would make the restart send
        the create again, and a second billed task."""
        ctx = self.ctx
        model = job.spec.catalog_model
        cap = SlotCap(model.id, ctx.slots(model), SLOT_STATUSES)
        for _ in range(5):
            new = transition(
                job, _S.SUBMITTING, now, submit_started_at=now, submit_ended_at=None, next_at=None
            )
            lease = ctx.leases.lease(now)
            saved = await ctx.store.save_within(job, new, cap, lease=lease, now=now, durable=True)
            if saved is not None:
                return saved
            fresh = await ctx.store.get_job(job.id)
            if fresh is None or fresh.status is not _S.QUEUED:
                return None  # canceled, or another worker took it
            if fresh.version == job.version:
                # the row is as we saw it: the model's slots are full (another worker took the
                # last one), or another worker holds the job; it stays queued
                log.info("job %d: no free slot for %s after all; stays queued", job.id, model.id)
                return None
            job = fresh  # someone wrote something else meanwhile (the chat location)
        return None

    async def _accepted(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        ctx = self.ctx
        status = _S.RUNNING if info.status is TaskStatus.RUNNING else _S.PENDING
        expected = await self.durations.expected_seconds(job)

        def started(j: JobRecord) -> JobRecord:
            return transition(
                j,
                status,
                now,
                task_id=info.task_id,
                submit_ended_at=now,
                attempts=0,
                expected_seconds=expected,
                # a task that already ended is looked at right away; else the sweeper plans
                # its first look at the end of this pass (``watch``)
                next_at=now if info.status.terminal else None,
            )

        await ctx.save(job, started)
        self.sweeper.watch(job.spec.model, now)
        log.info("job %d submitted as task %s", job.id, info.task_id)

    async def _unknown(self, job: JobRecord, exc: BaseException, now: datetime) -> None:
        log.warning(
            "job %d: create outcome unknown (%r); reconciling via the task list", job.id, exc
        )
        await self.ctx.save(
            job,
            lambda j: transition(
                j,
                _S.SUBMIT_UNKNOWN,
                now,
                submit_ended_at=now,
                attempts=0,
                next_at=now + timedelta(seconds=self.ctx.config.reconcile_delay),
            ),
        )

    async def _refused(self, job: JobRecord, now: datetime, exc: ProviderError) -> None:
        ctx = self.ctx
        if exc.retryable and job.attempts + 1 < ctx.config.submit_max_attempts:
            delay = ctx.backoff(job.attempts + 1)
            if exc.retry_after:
                delay = max(delay, timedelta(seconds=exc.retry_after))
            if exc.kind is Kind.RATE_LIMITED:
                await ctx.pause(job.spec.model, now + delay)
            log.info(
                "job %d: create refused (%r); back in the queue for %.1f s",
                job.id,
                exc,
                delay.total_seconds(),
            )
            await ctx.save(
                job,
                lambda j: transition(
                    j, _S.QUEUED, now, attempts=j.attempts + 1, next_at=now + delay
                ),
            )
            return
        log.info("job %d: create refused for good: %r", job.id, exc)
        await ctx.save(job, failing(now, exc))


async def _read(path: str | None, mime: str) -> MediaFile | None:
    """An input image of a job (None when it has none); ``OSError`` when it is gone."""
    if path is None:
        return None
    return MediaFile(await asyncio.to_thread(Path(path).read_bytes), mime, Path(path).name)
