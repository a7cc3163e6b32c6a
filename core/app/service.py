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
from typing import Any

from core.app.intake import Intake
from core.app.preparing import prepare_inputs
from core.app.recording import InputFile, Recorder
from core.app.views import Views
from core.domain.catalog import Region, find_model
from core.domain.errors import AnimateError, Kind, ProviderError, ValidationError
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.policy import UserLimits
from core.domain.pricing import PriceBook, Quote
from core.domain.records import JobRecord, failed, transition
from core.domain.validation import validate_spec
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
    last_frame: bool = False  # … with an end image
    clip: bool = False  # … with a video to continue instead of the image

    @property
    def files(self) -> tuple[bool, bool, bool]:
        return (self.audio, self.last_frame, self.clip)


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
        prices: PriceBook | None = None,
    ) -> None:
        self.store = store
        #: only for canceling a task still queued at DashScope
        self.provider = provider
        self.clock = clock
        self.media = media
        self.region = Region(region)
        self.views = views
        self.limits = limits or UserLimits()
        #: published prices with the operator's overrides (``PRICE_OVERRIDES``)
        self.prices = prices or PriceBook(self.region)
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
    def validate(
        self,
        spec: JobSpec,
        *,
        audio: bool = False,
        last_frame: bool = False,
        clip: bool = False,
        image: bool | None = None,
    ) -> ValidSpec:
        """The one validation of a request (``core.domain.validation``): ``spec`` with the
        catalog model id and defaults filled in, or a ``ValidationError`` with one clear
        message. The flags say which files come with it: an audio file, an end image, a video
        to continue, the image (by default: unless it continues a clip). No I/O: call it
        before reading any attachment, and hand the result to ``submit``."""
        checked = validate_spec(
            spec, self.region, audio=audio, last_frame=last_frame, clip=clip, image=image
        )
        return ValidSpec(checked, audio, last_frame, clip)

    def quote(self, spec: JobSpec) -> Quote:
        """What a validated ``spec`` will cost: the whole output (a continued clip included)
        at the published or the operator's price; ``price_known`` False when there is none."""
        return self.prices.quote(self._known(spec))

    def estimate(self, spec: JobSpec) -> tuple[float, str]:
        """(cost, currency); the cost is 0.0 when no price is known (see ``quote``)."""
        quote = self.quote(spec)
        return quote.cost or 0.0, quote.currency

    def _known(self, spec: JobSpec) -> JobSpec:
        if find_model(spec.model) is None:
            raise ValidationError(
                f"Unknown model {spec.model!r}.",
                key="request.model_unknown",
                params={"model": spec.model},
            )
        return spec

    # ------------------------------------------------------------------ submit
    async def submit(
        self,
        *,
        spec: JobSpec | ValidSpec,
        image: bytes | None = None,
        chat: ChatRef,
        audio: bytes | None = None,
        audio_filename: str | None = None,
        parent_job_id: int | None = None,
        last_frame: bytes | None = None,
        clip: bytes | None = None,
    ) -> JobView:
        """Record a job: every rule that can refuse it is checked here, before any row or
        request; the worker is woken to start it. ``image`` is the first frame; ``clip`` a
        video to continue instead (wan2.7); ``last_frame`` an end image."""
        files = (audio is not None, last_frame is not None, clip is not None)
        # an image beside a clip is a first_frame + first_clip request: validation refuses it
        both = image is not None and clip is not None
        if both or not (isinstance(spec, ValidSpec) and spec.files == files):
            plain = spec.spec if isinstance(spec, ValidSpec) else spec
            spec = self.validate(
                plain, audio=files[0], last_frame=files[1], clip=files[2], image=both or None
            )
        checked = spec.spec
        # CPU-heavy decoding runs in the media pool, off the event loop
        ready = await prepare_inputs(
            self.media,
            checked,
            self.region,
            image=image,
            last_frame=last_frame,
            clip=clip,
            audio=audio,
            audio_filename=audio_filename,
        )
        quote = self.quote(checked)
        job = await self.recorder.record(
            checked,
            chat,
            cost=(quote.cost or 0.0, quote.currency),
            image=ready.image,
            audio=ready.audio,
            parent_job_id=parent_job_id,
            last_frame=ready.last_frame,
            clip=ready.clip,
            clip_seconds=ready.clip_seconds,
            unit_price=quote.unit_price,
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
        return dataclasses.replace(view, notes=ready.notes)

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
        if job.media_purged or (job.image_path is None and job.clip_path is None):
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
            last_frame=job.last_frame_path is not None,
            clip=job.clip_path is not None,
        )
        quote = self.quote(spec)
        try:
            child = await self.recorder.record(
                spec,
                dataclasses.replace(chat, user=user),
                cost=(quote.cost or 0.0, quote.currency),
                unit_price=quote.unit_price,
                parent_job_id=job.id,
                **_copies(job),
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


def _copies(job: JobRecord) -> dict[str, Any]:
    """The input files of ``job`` to copy into a regeneration (``Recorder.record`` arguments)."""
    return {
        "image": _copy(job.image_path, job.image_mime or "image/png"),
        "audio": _copy(job.audio_path, job.audio_mime or "audio/mpeg", job.audio_filename),
        "last_frame": _copy(job.last_frame_path, job.last_frame_mime or "image/png"),
        "clip": _copy(job.clip_path, job.clip_mime or "video/mp4"),
        "clip_seconds": job.clip_seconds,
    }


def _copy(path: str | None, mime: str, filename: str | None = None) -> InputFile | None:
    return None if path is None else InputFile(mime, path=path, filename=filename)
