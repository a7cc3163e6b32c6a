"""Admission: which queued jobs get a slot now, and the create call itself.

Per-model concurrency slots (``Model.concurrency``, overridable) and submit rate windows
(``Model.submit_rps``), in the fair order of ``core.scheduler.fair_order``. A 429 puts the job
back in the queue with a next-attempt time and pauses the whole model; a lost answer goes to
reconciliation; nothing is ever sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.catalog import Model, find_model
from core.errors import AnimateError, Kind, OutcomeUnknownError, ProviderError
from core.jobs import JobStatus
from core.lifecycle import SLOT_STATUSES, Change, EngineConfig, failing, transition
from core.ports import Clock
from core.scheduler import RateWindow, fair_order
from core.store import JobRecord, JobStore
from core.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, VideoProvider
from core.tracker import Tracker
from core.uploads import audio_ready

log = logging.getLogger(__name__)

_S = JobStatus


class AdmissionMixin:
    """The submit half of ``core.engine.Engine`` (which provides these attributes)."""

    provider: VideoProvider
    store: JobStore
    clock: Clock
    config: EngineConfig
    tracker: Tracker
    _paused_until: dict[str, datetime]
    _admit_wakeup: datetime | None

    def slots(self, model: Model) -> int:
        raise NotImplementedError  # provided by Engine

    def _submit_bucket(self, model: Model) -> RateWindow:
        raise NotImplementedError  # provided by Engine

    def backoff(self, attempt: int) -> timedelta:
        raise NotImplementedError  # provided by Engine

    async def save(
        self, job: JobRecord, change: Change, *, durable: bool = False
    ) -> JobRecord | None:
        raise NotImplementedError  # provided by Engine

    async def _guarded(
        self, job: JobRecord, now: datetime, step: Callable[[JobRecord, datetime], Awaitable[None]]
    ) -> None:
        raise NotImplementedError  # provided by Engine

    # ------------------------------------------------------------------ admission
    async def _admit(self, now: datetime) -> int:
        """Submit queued jobs, fairly, while their model has a free slot and submit budget."""
        self._admit_wakeup = None
        waiting = await self.store.in_flight_counts([_S.QUEUED])
        if not waiting:
            return 0
        counts = defaultdict(int, await self.store.in_flight_counts(SLOT_STATUSES))
        if all(counts[m] >= self._slots_of(m) for m in waiting):
            return 0  # every slot is busy: a finishing task (seen by a poll) wakes us
        chosen: list[JobRecord] = []
        for job in await self.fair_queue(now):
            model = find_model(job.spec.model)
            if model is None:
                error = AnimateError(f"Unknown model {job.spec.model}.")
                await self.save(job, failing(now, error))
                continue
            if counts[model.id] >= self.slots(model):
                continue
            if not audio_ready(job, now, self.config):
                continue  # its audio upload runs (or backs off) in the background first
            if job.next_at is not None and job.next_at > now:
                self._wake(job.next_at)  # backing off after a 429 / 5xx
                continue
            paused = self._paused_until.get(model.id)
            if paused is not None and paused > now:
                self._wake(paused)
                continue
            bucket = self._submit_bucket(model)
            if not bucket.take(now.timestamp()):
                self._wake(datetime.fromtimestamp(bucket.next_free(now.timestamp()), UTC))
                continue
            counts[model.id] += 1
            chosen.append(job)
        # One create at a time: after a crash at most one row per process is SUBMITTING, so
        # its submit window holds at most one unclaimed task and reconciliation stays unambiguous.
        for job in chosen:
            await self._guarded(job, now, self._submit)
        return len(chosen)

    async def fair_queue(self, now: datetime, model: str | None = None) -> list[JobRecord]:
        """Queued jobs in the order they get slots (see ``core.scheduler.fair_order``)."""
        queued = await self.store.jobs_with_status([_S.QUEUED])
        since = now - timedelta(seconds=self.config.fairness_window)
        served = await self.store.submitted_since(since)
        if model is not None:
            queued = [j for j in queued if j.spec.model == model]
            served = [j for j in served if j.spec.model == model]
        return fair_order(queued, served)

    def _slots_of(self, model_id: str) -> int:
        model = find_model(model_id)
        return self.slots(model) if model else 0

    def _wake(self, when: datetime) -> None:
        if self._admit_wakeup is None or when < self._admit_wakeup:
            self._admit_wakeup = when

    async def _request(self, job: JobRecord) -> TaskRequest:
        if job.image_path is None:
            raise AnimateError("The input image of this job is gone.", kind=Kind.INVALID_INPUT)
        image = await asyncio.to_thread(Path(job.image_path).read_bytes)
        if job.audio_path is not None and job.audio_url is None:
            raise AnimateError("The audio file of this job was not uploaded.", kind=Kind.INTERNAL)
        spec = job.spec
        return TaskRequest(
            model=spec.model,
            image=MediaFile(image, job.image_mime or "image/png", Path(job.image_path).name),
            prompt=None if spec.template else spec.prompt,
            negative_prompt=spec.negative_prompt,
            resolution=spec.resolution,
            duration=spec.duration,
            seed=job.seed_used,
            prompt_extend=spec.prompt_extend,
            watermark=spec.watermark,
            sound=spec.sound,
            # uploaded beforehand (core.uploads): the create only names the oss:// URL
            audio_url=job.audio_url if job.audio_path is not None else None,
            template=spec.template,
        )

    async def _submit(self, job: JobRecord, now: datetime) -> None:
        try:
            request = await self._request(job)
        except (OSError, AnimateError) as exc:
            error = (
                exc
                if isinstance(exc, AnimateError)
                else AnimateError("The input files of this job are gone; please start a new one.")
            )
            await self.save(job, failing(now, error))
            return
        # The row says SUBMITTING before the create leaves: a crash now is visible and reconciled.
        # Durable (synced to disk): after a power cut a lost marker would make the restart send
        # the create again, and a second billed task.
        sending = await self.save(
            job,
            lambda j: transition(
                j, _S.SUBMITTING, now, submit_started_at=now, submit_ended_at=None, next_at=None
            ),
            durable=True,
        )
        if sending is None:
            return
        try:
            info = await self.provider.create_task(request)
        except OutcomeUnknownError as exc:
            await self._unknown(sending, exc, max(now, self.clock.now()))
            return
        except ProviderError as exc:
            await self._submit_refused(sending, now, exc)
            return
        except AnimateError as exc:
            # a ValidationError: the client refuses before sending anything, so nothing was
            # created; the user must change the request (never "outcome unknown")
            log.info("job %d: create refused before sending: %r", job.id, exc)
            await self.save(sending, failing(now, exc))
            return
        except Exception as exc:
            log.exception("job %d: create failed unexpectedly; outcome unknown", job.id)
            await self._unknown(sending, exc, max(now, self.clock.now()))
            return
        await self._accepted(sending, info, max(now, self.clock.now()))

    async def _accepted(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        status = _S.RUNNING if info.status is TaskStatus.RUNNING else _S.PENDING
        exp = await self.tracker.expectation_for(job)
        first = now + timedelta(seconds=self.tracker.first_check(exp, sweeping=self.config.sweep))

        def started(j: JobRecord) -> JobRecord:
            return transition(
                j,
                status,
                now,
                task_id=info.task_id,
                submit_ended_at=now,
                attempts=0,
                expected_seconds=exp.mean,
                # a task that already ended is looked at right away
                next_at=now if info.status.terminal else first,
            )

        await self.save(job, started)
        self.tracker.watch(job.spec.model, now)
        log.info("job %d submitted as task %s", job.id, info.task_id)

    async def _unknown(self, job: JobRecord, exc: BaseException, now: datetime) -> None:
        log.warning(
            "job %d: create outcome unknown (%r); reconciling via the task list", job.id, exc
        )
        await self.save(
            job,
            lambda j: transition(
                j,
                _S.SUBMIT_UNKNOWN,
                now,
                submit_ended_at=now,
                attempts=0,
                next_at=now + timedelta(seconds=self.config.reconcile_delay),
            ),
        )

    async def _submit_refused(self, job: JobRecord, now: datetime, exc: ProviderError) -> None:
        model = job.spec.model
        if exc.retryable and job.attempts + 1 < self.config.submit_max_attempts:
            delay = self.backoff(job.attempts + 1)
            if exc.retry_after:
                delay = max(delay, timedelta(seconds=exc.retry_after))
            if exc.kind is Kind.RATE_LIMITED:
                # the whole model is throttled: hold every queued job of it, not just this one
                self._paused_until[model] = now + delay
            log.info(
                "job %d: create refused (%r); back in the queue for %.1f s",
                job.id,
                exc,
                delay.total_seconds(),
            )
            await self.save(
                job,
                lambda j: transition(
                    j, _S.QUEUED, now, attempts=j.attempts + 1, next_at=now + delay
                ),
            )
            return
        log.info("job %d: create refused for good: %r", job.id, exc)
        await self.save(job, failing(now, exc))
