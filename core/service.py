"""``AnimateService``: the chat-agnostic job engine front-ends call.

Submit records a ``QUEUED`` row (with the normalised input files on disk) before any external
call; ``poll_once`` (see ``core.engine``) does the background work one pass at a time;
``deliver_once`` (see ``core.delivery``) hands outcomes to a ``DeliveryPort``; ``recover`` makes a
restart change nothing. Front-ends (Discord cogs, the CLI, a future Slack adapter) only see
``JobView``s and ``AnimateError``s with user-safe messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from core import leftovers
from core.background import Background
from core.catalog import CURRENCY, Region, find_model
from core.delivery import Deliverer
from core.engine import Engine
from core.errors import AnimateError, Input, Kind, ProviderError, ValidationError
from core.fitting import Fitter
from core.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.lifecycle import (
    SLOT_STATUSES,
    EngineConfig,
    PassReport,
    estimate_eta,
    failed,
    to_view,
    transition,
    update,
)
from core.media import ASPECTS, FILLS
from core.media.audio import prepare_audio
from core.media.image import normalise_image
from core.media.pool import MediaPool
from core.media.video import fit_video
from core.policy import Intake, UserLimits
from core.ports import Clock, DeliveryPort
from core.recording import InputFile, Recorder
from core.recovery import resume
from core.store import JobRecord, JobStore
from core.tasks import MediaFile, TaskRequest, VideoProvider
from core.tracker import Tracker
from core.validation import validate_request

log = logging.getLogger(__name__)

__all__ = ["AnimateService", "EngineConfig", "PassReport"]

_S = JobStatus


class AnimateService:
    def __init__(
        self,
        *,
        provider: VideoProvider,
        store: JobStore,
        clock: Clock,
        media_dir: Path,
        region: Region,
        config: EngineConfig | None = None,
        media: MediaPool | None = None,
        limits: UserLimits | None = None,
        intakes: int = 4,
    ) -> None:
        self.provider = provider
        self.store = store
        self.clock = clock
        self.media_dir = Path(media_dir)
        self.region = Region(region)
        self.config = config or EngineConfig()
        self._own_media = media is None
        self.media = media or MediaPool()
        self.limits = limits or UserLimits()
        #: at most ``intakes`` front-end requests hold attachment bytes at once (see ``intake``)
        self._intake = Intake(store=store, limits=self.limits, concurrency=intakes)
        self.recorder = Recorder(
            store=store,
            clock=clock,
            media_dir=self.media_dir,
            region=self.region,
            limits=self.limits,
        )
        self.tracker = Tracker(provider=provider, store=store, config=self.config)
        background = Background()
        self.engine = Engine(
            provider=provider,
            store=store,
            media_dir=self.media_dir,
            region=self.region,
            clock=clock,
            config=self.config,
            tracker=self.tracker,
            background=background,
        )
        fitter = Fitter(store=store, clock=clock, background=background, fit=self._fit)
        self.deliverer = Deliverer(
            store=store, config=self.config, view=self._view_at, fitter=fitter
        )

    async def aclose(self) -> None:
        """Stop background downloads (they stay due for the next start) and release what
        the service created itself (the media pool when none was handed in)."""
        await self.engine.drain(cancel=True)
        if self._own_media:
            await self.media.aclose()

    # ------------------------------------------------------------------ pure checks
    def validate(self, spec: JobSpec, *, audio: bool = False) -> JobSpec:
        """``spec`` with catalog defaults filled in (empty resolution / zero duration), or a
        ``ValidationError`` with one clear message. ``audio``: the request comes with an audio
        file (checked against the model, the sound option and the region). No I/O."""
        if spec.aspect not in ASPECTS:
            raise ValidationError(
                f"Unknown aspect {spec.aspect!r}; use one of {', '.join(ASPECTS)}.",
                subject=Input.IMAGE,
            )
        if spec.fill not in FILLS:
            raise ValidationError(
                f"Unknown fill {spec.fill!r}; use one of {', '.join(FILLS)}.",
                subject=Input.IMAGE,
            )
        probe = TaskRequest(
            model=spec.model,
            image=MediaFile(b"\x00", "image/png", "probe.png"),
            prompt=spec.prompt,
            negative_prompt=spec.negative_prompt,
            resolution=spec.resolution or None,
            duration=spec.duration or None,
            seed=spec.seed,
            prompt_extend=spec.prompt_extend,
            watermark=spec.watermark,
            sound=spec.sound,
            audio=MediaFile(b"\x00", "audio/mpeg", "probe.mp3") if audio else None,
            template=spec.template,
        )
        checked = validate_request(probe, self.region)
        return dataclasses.replace(
            spec,
            model=checked.model,
            resolution=checked.resolution or spec.resolution,
            duration=checked.duration or spec.duration,
        )

    def estimate(self, spec: JobSpec) -> tuple[float, str]:
        model = find_model(spec.model)
        if model is None:
            raise ValidationError(f"Unknown model {spec.model!r}.")
        resolution = spec.resolution or model.default_resolution
        duration = spec.duration or model.default_duration
        cost = model.cost(self.region, resolution, duration, sound=spec.sound)
        return cost, CURRENCY[self.region]

    # ------------------------------------------------------------------ submit
    async def submit(
        self,
        *,
        spec: JobSpec,
        image: bytes,
        chat: ChatRef,
        audio: bytes | None = None,
        audio_filename: str | None = None,
        parent_job_id: int | None = None,
    ) -> JobView:
        # every rule that can refuse this request is checked here, before any row or request
        spec = self.validate(spec, audio=audio is not None)
        model = find_model(spec.model)
        assert model is not None  # noqa: S101 - validate() resolved it
        # CPU-heavy decoding runs in the media pool, off the event loop
        picture = await self.media.run(
            normalise_image, image, model, aspect=spec.aspect, fill=spec.fill
        )
        sound = None
        if audio is not None:
            sound = await self.media.run(prepare_audio, audio, audio_filename)
        validate_request(
            TaskRequest(
                model=spec.model,
                image=MediaFile(picture.data, picture.mime, "image"),
                prompt=spec.prompt,
                resolution=spec.resolution,
                duration=spec.duration,
                sound=spec.sound,
                audio=MediaFile(sound.data, sound.mime, sound.filename) if sound else None,
                template=spec.template,
            ),
            self.region,
        )
        track = None
        if sound is not None:
            track = InputFile(sound.mime, data=sound.data, filename=sound.filename)
        job = await self.recorder.record(
            spec,
            chat,
            cost=self.estimate(spec),
            image=InputFile(picture.mime, data=picture.data),
            audio=track,
            parent_job_id=parent_job_id,
        )
        log.info("job %d queued (%s, %s, %d s)", job.id, spec.model, spec.resolution, spec.duration)
        return await self._view_at(job, self.clock.now())

    @asynccontextmanager
    async def intake(self, chat: ChatRef) -> AsyncIterator[None]:
        """Enter before reading a request's attachment bytes and stay inside until ``submit``
        returns: refuses a requester already at the cap (``too_many_active``) before any byte
        is read, and bounds how many requests hold attachment bytes in memory at once."""
        async with self._intake.enter(chat):
            yield

    async def attach_chat(
        self, job_id: int, *, thread: str | None, status_message: str | None
    ) -> JobView:
        now = self.clock.now()
        for _ in range(5):
            job = await self._must(job_id)
            # any status: the chat location is recorded whatever the engine did meanwhile
            chat = dataclasses.replace(job.chat, thread=thread, status_message=status_message)
            if await self.store.save(job, transition(job, job.status, now, chat=chat)):
                return await self.get_view(job_id)
        raise AnimateError("The job is busy; try again.", kind=Kind.INTERNAL, retryable=True)

    # ------------------------------------------------------------------ background
    async def poll_once(self, now: datetime | None = None) -> PassReport:
        return await self.engine.poll_once(now or self.clock.now())

    async def deliver_once(self, port: DeliveryPort, now: datetime | None = None) -> int:
        return await self.deliverer.deliver_once(port, now or self.clock.now())

    async def recover(self) -> None:
        """Resume every non-final job after a start; lost creates go to reconciliation; files
        a crash left behind (partial downloads and re-encodes, unrecorded inputs) are deleted."""
        await asyncio.to_thread(
            leftovers.sweep,
            self.media_dir,
            referenced=await self.store.referenced_files(),
            busy_jobs=self.engine.background.busy_jobs(),
            writing=set(self.recorder.writing),
        )
        await resume(self.store, self.config, self.clock.now())

    # ------------------------------------------------------------------ user actions
    async def cancel(self, job_id: int, *, user: str, moderator: bool) -> JobView:
        job = await self._must(job_id)
        if job.chat.user != user and not moderator:
            raise AnimateError(
                "Only the person who started this job (or a moderator) can cancel it.",
                kind=Kind.PERMISSION,
            )
        now = self.clock.now()
        cancel = AnimateError("The job was canceled.", kind=Kind.CANCELED)
        if job.status is _S.QUEUED:
            if not await self.store.save(job, failed(job, now, cancel, _S.CANCELED)):
                # the engine took it meanwhile: answer from its new state
                return await self.cancel(job_id, user=user, moderator=moderator)
        elif job.status is _S.PENDING and job.task_id is not None:
            try:
                await self.provider.cancel_task(job.task_id)
            except ProviderError as exc:
                if exc.retryable:
                    raise AnimateError(
                        "The video service is busy; try canceling again in a moment.",
                        kind=Kind.BUSY,
                        retryable=True,
                    ) from exc
                raise AnimateError(
                    "DashScope has already started this video; it can no longer be canceled.",
                    kind=Kind.INVALID_INPUT,
                ) from exc
            fresh = await self._must(job_id)
            if fresh.status in (_S.PENDING, _S.RUNNING):
                await update(self.store, fresh, lambda j: failed(j, now, cancel, _S.CANCELED))
        elif job.status in (_S.SUBMITTING, _S.SUBMIT_UNKNOWN):
            raise AnimateError(
                "The job is being handed to DashScope right now; try again in a few seconds.",
                kind=Kind.BUSY,
                retryable=True,
            )
        elif job.status is _S.RUNNING:
            raise AnimateError(
                "DashScope is already generating this video; only waiting jobs can be canceled.",
                kind=Kind.INVALID_INPUT,
            )
        else:
            raise AnimateError("This job has already finished.", kind=Kind.INVALID_INPUT)
        return await self.get_view(job_id)

    async def regenerate(
        self, job_id: int, *, user: str, chat: ChatRef, moderator: bool = False
    ) -> JobView:
        """Same settings and inputs, a new random seed; a new job pointing at its parent.

        Every video costs the server owner money, so only the requester (or a moderator) may
        spend it again, as with Cancel.
        """
        job = await self._must(job_id)
        if job.chat.user != user and not moderator:
            raise AnimateError(
                "Only the person who started this job (or a moderator) can regenerate it; "
                "use /animate to make your own.",
                kind=Kind.PERMISSION,
            )
        if job.media_purged or job.image_path is None:
            raise AnimateError(
                "The inputs of this job were deleted after the retention period; "
                "start a new /animate.",
                kind=Kind.INVALID_INPUT,
            )
        # the same settings may no longer pass (a job recorded before a rule existed): refuse
        # with what to change rather than send a request that must fail
        spec = self.validate(
            dataclasses.replace(job.spec, seed=None), audio=job.audio_path is not None
        )
        audio = None
        if job.audio_path is not None:
            audio = InputFile(
                job.audio_mime or "audio/mpeg", path=job.audio_path, filename=job.audio_filename
            )
        try:
            child = await self.recorder.record(
                spec,
                dataclasses.replace(chat, user=user),
                cost=self.estimate(spec),
                image=InputFile(job.image_mime or "image/png", path=job.image_path),
                audio=audio,
                parent_job_id=job.id,
            )
        except OSError as exc:
            raise AnimateError(
                "The inputs of this job are no longer on disk; start a new /animate.",
                kind=Kind.INVALID_INPUT,
            ) from exc
        return await self._view_at(child, self.clock.now())

    # ------------------------------------------------------------------ reading
    async def get(self, job_id: int) -> JobView | None:
        job = await self.store.get_job(job_id)
        return None if job is None else await self._view_at(job, self.clock.now())

    async def get_view(self, job_id: int) -> JobView:
        view = await self.get(job_id)
        if view is None:
            raise AnimateError(f"There is no job #{job_id}.", kind=Kind.NOT_FOUND)
        return view

    async def recent(self, *, platform: str, user: str, limit: int = 10) -> list[JobView]:
        now = self.clock.now()
        return [
            await self._view_at(j, now) for j in await self.store.recent_jobs(platform, user, limit)
        ]

    async def _fit(self, src: Path, dest: Path, max_bytes: int) -> Path | None:
        """``core.fitting``'s re-encode, in the media pool (a core for many seconds)."""
        result = await self.media.run(fit_video, src, dest, max_bytes)
        return None if result is None else result.path

    async def _must(self, job_id: int) -> JobRecord:
        job = await self.store.get_job(job_id)
        if job is None:
            raise AnimateError(f"There is no job #{job_id}.", kind=Kind.NOT_FOUND)
        return job

    async def _view_at(self, job: JobRecord, now: datetime) -> JobView:
        model = find_model(job.spec.model)
        slots = self.engine.slots(model) if model else 1
        position: int | None = None
        if job.status is _S.QUEUED:
            order = [j.id for j in await self.engine.fair_queue(now, job.spec.model)]
            position = order.index(job.id) + 1 if job.id in order else None
            if position is not None:
                # the slots busy right now delay the queue by about one more round
                busy = (await self.store.in_flight_counts(SLOT_STATUSES)).get(job.spec.model, 0)
                position_for_eta = position + min(busy, slots)
            else:
                position_for_eta = 1
        else:
            position_for_eta = None
        mean = (await self.tracker.expectation_for(job)).mean
        eta = estimate_eta(job, now, position=position_for_eta, slots=slots, mean_seconds=mean)
        return to_view(job, position=position, eta=eta)
