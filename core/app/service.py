"""``AnimateService``: the facade every front-end calls (submit, cancel, regenerate, show, list).

Submit validates once, normalises the media off the event loop, and records a ``QUEUED`` row
(with the input files on disk) before any external call; the worker (``core.engine.worker``)
does the rest. Front-ends (Discord cogs, the CLI, a future Slack app) only see ``JobView``s and
``AnimateError``s with user-safe messages and a key to translate them by. No engine import: the
builder hands in the views and the ``notify`` hook that wakes the worker.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from core.app.intake import Intake
from core.app.recording import InputFile, Recorder
from core.app.views import Views
from core.domain.catalog import CURRENCY, Region, find_model
from core.domain.errors import AnimateError, Kind, ProviderError, ValidationError
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.policy import UserLimits
from core.domain.records import JobRecord, failed, transition
from core.domain.tasks import MediaFile
from core.domain.validation import check_media, validate_spec
from core.media.audio import prepare_audio
from core.media.image import normalise_image
from core.media.pool import MediaPool
from core.ports import Clock, JobStore, VideoProvider
from core.rows import update

log = logging.getLogger(__name__)

_S = JobStatus


def _nothing() -> None:
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class ValidSpec:
    """A request that passed ``AnimateService.validate``: ``submit`` trusts it as it is."""

    spec: JobSpec  # the catalog model id, catalog defaults filled in
    audio: bool  # validated as coming with an audio file


class AnimateService:
    def __init__(
        self,
        *,
        store: JobStore,
        provider: VideoProvider,
        clock: Clock,
        media: MediaPool,
        media_dir: Path,
        region: Region,
        views: Views,
        limits: UserLimits | None = None,
        intakes: int = 4,
        notify: Callable[[], None] = _nothing,
    ) -> None:
        self.store = store
        #: only for canceling a task still queued at DashScope
        self.provider = provider
        self.clock = clock
        self.media = media
        self.region = Region(region)
        self.views = views
        self.limits = limits or UserLimits()
        #: new work for the worker (the builder wires ``Worker.wake``)
        self._notify = notify
        #: at most ``intakes`` front-end requests hold attachment bytes at once (see ``intake``)
        self._intake = Intake(store=store, limits=self.limits, concurrency=intakes)
        self.recorder = Recorder(
            store=store,
            clock=clock,
            media_dir=Path(media_dir),
            region=self.region,
            limits=self.limits,
        )

    # ------------------------------------------------------------------ pure checks
    def validate(self, spec: JobSpec, *, audio: bool = False) -> ValidSpec:
        """The one validation of a request (``core.domain.validation``): ``spec`` with the
        catalog model id and defaults filled in, or a ``ValidationError`` with one clear
        message. ``audio``: the request comes with an audio file. No I/O: call it before
        reading any attachment, and hand the result to ``submit``."""
        return ValidSpec(validate_spec(spec, self.region, audio=audio), audio)

    def estimate(self, spec: JobSpec) -> tuple[float, str]:
        model = find_model(spec.model)
        if model is None:
            raise ValidationError(
                f"Unknown model {spec.model!r}.",
                key="request.model_unknown",
                params={"model": spec.model},
            )
        resolution = spec.resolution or model.default_resolution
        duration = spec.duration or model.default_duration
        cost = model.cost(self.region, resolution, duration, sound=spec.sound)
        return cost, CURRENCY[self.region]

    # ------------------------------------------------------------------ submit
    async def submit(
        self,
        *,
        spec: JobSpec | ValidSpec,
        image: bytes,
        chat: ChatRef,
        audio: bytes | None = None,
        audio_filename: str | None = None,
        parent_job_id: int | None = None,
    ) -> JobView:
        """Record a job: every rule that can refuse it is checked here, before any row or
        request; the worker is woken to start it."""
        if not (isinstance(spec, ValidSpec) and spec.audio == (audio is not None)):
            spec = self.validate(
                spec.spec if isinstance(spec, ValidSpec) else spec, audio=audio is not None
            )
        checked = spec.spec
        model = find_model(checked.model)
        assert model is not None  # noqa: S101 - validation resolved it
        # CPU-heavy decoding runs in the media pool, off the event loop
        picture = await self.media.run(
            normalise_image, image, model, aspect=checked.aspect, fill=checked.fill
        )
        sound = None
        if audio is not None:
            sound = await self.media.run(prepare_audio, audio, audio_filename)
        check_media(
            model,
            MediaFile(picture.data, picture.mime, "image"),
            MediaFile(sound.data, sound.mime, sound.filename) if sound else None,
        )
        track = None
        if sound is not None:
            track = InputFile(sound.mime, data=sound.data, filename=sound.filename)
        job = await self.recorder.record(
            checked,
            chat,
            cost=self.estimate(checked),
            image=InputFile(picture.mime, data=picture.data),
            audio=track,
            parent_job_id=parent_job_id,
        )
        log.info(
            "job %d queued (%s, %s, %d s)",
            job.id,
            checked.model,
            checked.resolution,
            checked.duration,
        )
        self._notify()
        view = await self.views.view(job, self.clock.now())
        notes = (*picture.notes, *(sound.notes if sound else ()))
        return dataclasses.replace(view, notes=notes)

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
        """Record where the job's status message and results live (after it was posted)."""
        now = self.clock.now()
        for _ in range(5):
            job = await self._must(job_id)
            # any status: the chat location is recorded whatever the engine did meanwhile
            chat = dataclasses.replace(job.chat, thread=thread, status_message=status_message)
            if await self.store.save(job, transition(job, job.status, now, chat=chat)):
                return await self.get_view(job_id)
        raise AnimateError(
            "The job is busy; try again.", key="job.busy", kind=Kind.INTERNAL, retryable=True
        )

    @property
    def writing(self) -> set[str]:
        """Input files a submit is writing right now (the startup sweep spares them)."""
        return set(self.recorder.writing)

    # ------------------------------------------------------------------ user actions
    async def cancel(self, job_id: int, *, user: str, moderator: bool) -> JobView:
        job = await self._must(job_id)
        if job.chat.user != user and not moderator:
            raise AnimateError(
                "Only the person who started this job (or a moderator) can cancel it.",
                key="cancel.not_yours",
                kind=Kind.PERMISSION,
            )
        now = self.clock.now()
        cancel = AnimateError("The job was canceled.", key="job.canceled", kind=Kind.CANCELED)
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
                        key="cancel.busy",
                        kind=Kind.BUSY,
                        retryable=True,
                    ) from exc
                raise AnimateError(
                    "DashScope has already started this video; it can no longer be canceled.",
                    key="cancel.started",
                    kind=Kind.INVALID_INPUT,
                ) from exc
            fresh = await self._must(job_id)
            if fresh.status in (_S.PENDING, _S.RUNNING):
                await update(self.store, fresh, lambda j: failed(j, now, cancel, _S.CANCELED))
        elif job.status in (_S.SUBMITTING, _S.SUBMIT_UNKNOWN):
            raise AnimateError(
                "The job is being handed to DashScope right now; try again in a few seconds.",
                key="cancel.submitting",
                kind=Kind.BUSY,
                retryable=True,
            )
        elif job.status is _S.RUNNING:
            raise AnimateError(
                "DashScope is already generating this video; only waiting jobs can be canceled.",
                key="cancel.running",
                kind=Kind.INVALID_INPUT,
            )
        else:
            raise AnimateError(
                "This job has already finished.", key="cancel.finished", kind=Kind.INVALID_INPUT
            )
        self._notify()  # the cancel notice is due for delivery
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
                key="regenerate.not_yours",
                kind=Kind.PERMISSION,
            )
        if job.media_purged or job.image_path is None:
            raise AnimateError(
                "The inputs of this job were deleted after the retention period; "
                "start a new /animate.",
                key="regenerate.purged",
                kind=Kind.INVALID_INPUT,
            )
        # the same settings may no longer pass (a job recorded before a rule existed): refuse
        # with what to change rather than send a request that must fail
        spec = validate_spec(
            dataclasses.replace(job.spec, seed=None),
            self.region,
            audio=job.audio_path is not None,
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
                key="regenerate.inputs_gone",
                kind=Kind.INVALID_INPUT,
            ) from exc
        self._notify()
        return await self.views.view(child, self.clock.now())

    # ------------------------------------------------------------------ reading
    async def get(self, job_id: int) -> JobView | None:
        job = await self.store.get_job(job_id)
        return None if job is None else await self.views.view(job, self.clock.now())

    async def get_view(self, job_id: int) -> JobView:
        view = await self.get(job_id)
        if view is None:
            raise _no_such_job(job_id)
        return view

    async def recent(self, *, platform: str, user: str, limit: int = 10) -> list[JobView]:
        now = self.clock.now()
        return [
            await self.views.view(j, now)
            for j in await self.store.recent_jobs(platform, user, limit)
        ]

    async def _must(self, job_id: int) -> JobRecord:
        job = await self.store.get_job(job_id)
        if job is None:
            raise _no_such_job(job_id)
        return job


def _no_such_job(job_id: int) -> AnimateError:
    return AnimateError(
        f"There is no job #{job_id}.",
        key="job.not_found",
        params={"job": job_id},
        kind=Kind.NOT_FOUND,
    )
