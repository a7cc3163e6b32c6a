"""One engine pass: sweeps and polls, audio uploads, admission and submit, downloads,
reconciliation, retention.

Uploads and downloads run in the background (``core.background``): a pass starts them and waits
at most ``download_wait`` seconds, so one job's slow transfer never holds up the others.

Every job is handled in its own ``try/except``: one bad job is logged with its id and
rescheduled with backoff, never the end of the loop. Every state change is one checked
transition written with a conditional update (``JobStore.save``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from core.admission import AdmissionMixin
from core.background import Background
from core.catalog import Model, Region, find_model
from core.errors import AnimateError, Kind, ProviderError
from core.fitting import fitted_copy
from core.jobs import JobStatus
from core.lifecycle import (
    Change,
    EngineConfig,
    PassReport,
    expired,
    failed,
    failing,
    transition,
    update,
)
from core.ports import Clock
from core.reconcile import Reconciler
from core.scheduler import RateWindow, backoff, seconds
from core.store import JobRecord, JobStore
from core.tasks import TaskInfo, TaskStatus, VideoProvider
from core.tracker import Tracker
from core.uploads import Uploader

log = logging.getLogger(__name__)

_S = JobStatus
_WATCHED = (_S.PENDING, _S.RUNNING)


class Engine(AdmissionMixin):
    """The background half of ``AnimateService`` (see ``core.service``)."""

    def __init__(
        self,
        *,
        provider: VideoProvider,
        store: JobStore,
        media_dir: Path,
        region: Region,
        clock: Clock,
        config: EngineConfig,
        tracker: Tracker,
        rng: random.Random | None = None,
        background: Background | None = None,
    ) -> None:
        self.provider = provider
        self.store = store
        self.media_dir = media_dir
        self.region = region
        self.clock = clock
        self.config = config
        self.tracker = tracker
        self.rng = rng or random.Random()  # noqa: S311 - jitter only
        self.queries = RateWindow(config.query_limit, config.rate_window)
        self._submit_buckets: dict[str, RateWindow] = {}
        self._paused_until: dict[str, datetime] = {}
        self._in_flight: set[int] = set()
        #: downloads and uploads still running after their pass returned
        self.background = background or Background()
        self._last_retention: datetime | None = None
        self._download_gate = asyncio.Semaphore(max(1, config.parallel_downloads))
        self.reconciler = Reconciler(provider=provider, store=store, config=config, engine=self)
        self.uploader = Uploader(
            provider=provider,
            store=store,
            config=config,
            clock=clock,
            save=self.save,
            backoff=self.backoff,
        )
        self._wakeups: list[datetime] = []
        self._admit_wakeup: datetime | None = None
        self._errors = 0

    # ------------------------------------------------------------------ helpers
    def backoff(self, attempt: int) -> timedelta:
        cfg = self.config
        return timedelta(
            seconds=backoff(attempt, base=cfg.backoff_base, cap=cfg.backoff_cap, rng=self.rng)
        )

    def take_query(self, now: datetime) -> bool:
        return self.queries.take(now.timestamp())

    def slots(self, model: Model) -> int:
        return int(self.config.concurrency.get(model.id, model.concurrency))

    def _submit_bucket(self, model: Model) -> RateWindow:
        bucket = self._submit_buckets.get(model.id)
        if bucket is None:
            rps = int(self.config.submit_rps.get(model.id, model.submit_rps))
            bucket = self._submit_buckets[model.id] = RateWindow(rps, self.config.rate_window)
        return bucket

    async def save(
        self, job: JobRecord, change: Change, *, durable: bool = False
    ) -> JobRecord | None:
        """Write ``change(job)``, re-applied on a fresh copy if another writer got there first
        (see ``core.lifecycle.update``); the row as written, or None when the job moved on."""
        saved = await update(self.store, job, change, durable=durable)
        if saved is not None and saved.next_at is not None:
            self._wakeups.append(saved.next_at)
        return saved

    async def retry_later(self, job: JobRecord, now: datetime, exc: BaseException) -> None:
        """Log a failure of one job's step and reschedule it with backoff."""
        self._errors += 1
        attempts = job.attempts + 1
        log.warning(
            "job %d (%s): step failed (attempt %d): %r", job.id, job.status.value, attempts, exc
        )
        delay = self.backoff(attempts)
        if isinstance(exc, ProviderError) and exc.retry_after:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        await self.save(
            job,
            lambda j: transition(j, j.status, now, attempts=j.attempts + 1, next_at=now + delay),
        )

    async def _guarded(
        self, job: JobRecord, now: datetime, step: Callable[[JobRecord, datetime], Awaitable[None]]
    ) -> None:
        if job.id in self._in_flight:
            return  # at most one in-flight external call per job
        self._in_flight.add(job.id)
        try:
            await step(job, now)
        except Exception as exc:
            log.exception("job %d: unexpected error in %s", job.id, getattr(step, "__name__", step))
            try:
                await self.retry_later(job, now, exc)
            except Exception:
                log.exception("job %d: could not reschedule", job.id)
        finally:
            self._in_flight.discard(job.id)

    # ------------------------------------------------------------------ the pass
    async def poll_once(self, now: datetime) -> PassReport:
        self._wakeups = []
        self._errors = 0
        counts = {"swept": 0, "polled": 0}
        watched = await self.store.jobs_with_status(_WATCHED)
        if self.config.sweep:
            counts["swept"] = await self.tracker.sweep(self, watched, now)
        due = await self.store.due_jobs(now, _WATCHED, limit=self.config.batch)
        for job in due:
            if not self.take_query(now):
                break  # the rest stay due; the shared query budget refills by the next pass
            counts["polled"] += 1
            await self._guarded(job, now, self._poll)
        uploads = [
            self._start("upload", j, now, self.uploader.upload)
            for j in await self.uploader.due(now)
            if not self.background.running("upload", j.id)
        ]
        submitted = await self._admit(now)
        downloads = await self.store.due_jobs(now, [_S.SUCCEEDED], limit=self.config.batch)
        started = [
            self._start("download", j, now, self._download)
            for j in downloads
            if not self.background.running("download", j.id)
        ]
        await self.background.wait([*uploads, *started], self.config.download_wait)
        reconciled = await self.reconciler.run(now)
        purged = await self._retention(now)
        wakeups = [w for w in (*self._wakeups, self.tracker.next_sweep()) if w is not None]
        scheduled = await self.store.next_due([*_WATCHED, _S.SUCCEEDED, _S.SUBMIT_UNKNOWN])
        if scheduled is not None:
            wakeups.append(scheduled)
        if self._admit_wakeup is not None:
            wakeups.append(self._admit_wakeup)
        return PassReport(
            submitted=submitted,
            polled=counts["polled"],
            swept=counts["swept"],
            downloaded=len(started),
            uploaded=len(uploads),
            reconciled=reconciled,
            purged=purged,
            errors=self._errors,
            next_wakeup=min(wakeups) if wakeups else None,
        )

    # ------------------------------------------------------------------ polling
    async def _poll(self, job: JobRecord, now: datetime) -> None:
        assert job.task_id is not None  # noqa: S101 - PENDING/RUNNING rows always carry a task id
        try:
            info = await self.provider.get_task(job.task_id)
        except Exception as exc:  # noqa: BLE001 - 5xx, timeouts, anything: back off, never die
            if (
                job.submit_ended_at
                and seconds(now, job.submit_ended_at) > self.config.task_ttl + 3600
            ):
                await self.save(
                    job,
                    lambda j: expired(
                        j, now, "DashScope no longer knows this job (it is older than 24 hours)."
                    ),
                )
                return
            await self.retry_later(job, now, exc)
            return
        await self.apply(job, info, now)

    async def apply(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        """Record what a task query said about ``job``."""
        status = info.status
        if status in (TaskStatus.PENDING, TaskStatus.RUNNING):
            new_status = _S.RUNNING if status is TaskStatus.RUNNING else job.status
            delay = await self.tracker.next_check(job, now, sweeping=self.config.sweep)
            await self.save(
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
                kind=Kind.INTERNAL,
                retryable=False,
                code=info.code,
            )
            await self.save(job, failing(now, error))
        elif status is TaskStatus.CANCELED:
            err = AnimateError("The job was canceled.", kind=Kind.CANCELED)
            await self.save(job, failing(now, err, _S.CANCELED))
        else:
            await self.save(
                job,
                lambda j: expired(
                    j, now, "DashScope no longer knows this job (tasks are kept for 24 hours)."
                ),
            )

    async def _succeeded(self, job: JobRecord, info: TaskInfo, now: datetime) -> None:
        if not info.video_url:
            await self.retry_later(job, now, RuntimeError("SUCCEEDED without a video URL"))
            return
        await self.tracker.learn(job, info, now)
        end = info.end_time if info.end_time and abs(seconds(info.end_time, now)) < 3600 else now
        model = find_model(job.spec.model)
        cost = None
        if info.usage is not None and model is not None:
            cost = model.cost(
                self.region, job.spec.resolution, round(info.usage.seconds), sound=job.spec.sound
            )
        await self.save(
            job,
            lambda j: transition(
                j,
                _S.SUCCEEDED,
                now,
                attempts=0,
                finished_at=now,
                video_url=info.video_url,
                video_url_expires_at=end + timedelta(seconds=self.config.result_ttl),
                usage_seconds=info.usage.seconds if info.usage else None,
                cost=cost,
                orig_prompt=info.orig_prompt,
                actual_prompt=info.actual_prompt,
                next_at=now,
            ),
        )

    # ------------------------------------------------------------------ download
    def _start(
        self,
        kind: str,
        job: JobRecord,
        now: datetime,
        step: Callable[[JobRecord, datetime], Awaitable[None]],
    ) -> asyncio.Task[None]:
        return self.background.start(kind, job.id, self._guarded(job, now, step))

    async def drain(self, *, cancel: bool = False) -> None:
        """Wait for (or cancel) the background work still running; a canceled step stays due."""
        await self.background.drain(cancel=cancel)

    async def _download(self, job: JobRecord, now: datetime) -> None:
        if job.video_url is None:
            await self.save(
                job,
                lambda j: failed(
                    j, now, AnimateError("DashScope gave no video link.", kind=Kind.DOWNLOAD)
                ),
            )
            return
        if job.video_url_expires_at is not None and now >= job.video_url_expires_at:
            await self.save(
                job,
                lambda j: expired(
                    j, now, "The video link expired (24 h) before it could be fetched."
                ),
            )
            return
        dest = self.media_dir / "videos" / f"job-{job.id}.mp4"
        part = dest.with_name(dest.name + ".part")
        await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
        async with self._download_gate:
            try:
                size = await self.provider.download(
                    job.video_url, part, max_bytes=self.config.max_video_bytes
                )
            except ProviderError as exc:
                if not exc.retryable:
                    await self.save(job, failing(now, exc))
                    return
                await self.retry_later(job, now, exc)
                return
        await asyncio.to_thread(part.replace, dest)
        log.info("job %d: video downloaded (%d bytes)", job.id, size)
        await self.save(
            job,
            lambda j: transition(
                j, _S.DOWNLOADED, now, attempts=0, next_at=None, video_path=str(dest)
            ),
        )

    # ------------------------------------------------------------------ retention
    async def _retention(self, now: datetime) -> int:
        last = self._last_retention
        if last is not None and seconds(now, last) < self.config.retention_every:
            return 0
        cutoff = now - timedelta(days=self.config.media_retention_days)
        jobs = await self.store.purgeable_jobs(cutoff, limit=self.config.batch)
        # a full batch means a backlog: come back next pass instead of next period
        self._last_retention = now if len(jobs) < self.config.batch else None
        purged = 0
        for job in jobs:
            paths = [p for p in (job.image_path, job.audio_path, job.video_path) if p]
            await asyncio.to_thread(_unlink_all, paths)
            if await self.save(
                job,
                lambda j: transition(
                    j, j.status, now, media_purged=True, video_path=None, fit_path=None
                ),
            ):
                purged += 1
        return purged


def _unlink_all(paths: list[str]) -> None:
    for p in paths:
        path = Path(p)
        path.unlink(missing_ok=True)
        if path.suffix == ".mp4":  # copies re-encoded to fit an upload limit (core.fitting)
            for copy in path.parent.glob(fitted_copy(path, "*").name):
                copy.unlink(missing_ok=True)
