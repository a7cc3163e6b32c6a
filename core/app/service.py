"""``AnimateService``: the facade every front-end calls (check, submit, cancel, regenerate, show,
list; server settings and usage).

``check`` applies the server's policy and quotas and validates once, before any attachment byte is
read; submit normalises the media off the event loop, and records a ``QUEUED`` row (with the input
files on disk) within the requester's quota, atomically, before any external call; the worker
(``core.engine.worker``) does the rest. Front-ends (Discord cogs, the CLI, the Slack app) only see
``JobView``s, reports and ``AnimateError``s with user-safe messages and a key to translate them
by; they describe the requester as a platform-neutral ``Member``. No engine import: the builder
hands in the views and the ``notify`` hook that wakes the worker.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from core.app import click_origin, extend
from core.app.cancel import cancel_job, no_such_job
from core.app.checks import Checks, ValidSpec
from core.app.controls import Controls, Edit, SettingsReport
from core.app.preparing import prepare_inputs
from core.app.recording import InputFile, Recorder
from core.app.reports import UsageReport, UsageReports
from core.app.views import Views
from core.domain.catalog import CURRENCY, Region
from core.domain.errors import AnimateError, Kind
from core.domain.guild_settings import OperatorDefaults
from core.domain.jobs import (
    ChatRef,
    JobSpec,
    JobStatus,
    JobView,
    progress_key,
    require_requester,
)
from core.domain.policy import Member
from core.domain.pricing import PriceBook, Quote
from core.domain.records import JobRecord, transition
from core.log_context import about
from core.media.pool import MediaPool
from core.ports import Clock, JobStore, VideoProvider

#: ``ValidSpec`` is part of the facade's API (front-ends pass it from ``check`` to ``submit``)
__all__ = ["AnimateService", "ValidSpec"]

log = logging.getLogger(__name__)

_S = JobStatus


def _nothing() -> None:
    return None


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
        operator: OperatorDefaults | None = None,
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
        #: published prices with the operator's overrides (``PRICE_OVERRIDES``)
        self.prices = prices or PriceBook(self.region)
        #: new work for the worker (the builder wires ``Worker.wake``)
        self._notify = notify
        self.recorder = Recorder(
            store=store, clock=clock, media_dir=Path(media_dir), region=self.region
        )
        self.controls = Controls(
            store=store,
            clock=clock,
            operator=operator or OperatorDefaults(),
            currency=CURRENCY[self.region],
        )
        #: at most ``intakes`` front-end requests hold attachment bytes at once (see ``intake``)
        self.checks = Checks(
            store=store,
            clock=clock,
            region=self.region,
            controls=self.controls,
            intakes=intakes,
            prices=self.prices,
        )
        self._usage = UsageReports(store=store, clock=clock, controls=self.controls)

    # ------------------------------------------------------------------ checks
    def validate(
        self,
        spec: JobSpec,
        *,
        audio: bool = False,
        last_frame: bool = False,
        clip: bool = False,
        image: bool | None = None,
    ) -> ValidSpec:
        """The one validation, without the server's policy (``Checks.validate``). The flags
        say which files come with the request: an audio file, an end image, a video to
        continue, the image (by default: unless it continues a clip)."""
        return self.checks.validate(
            spec, audio=audio, last_frame=last_frame, clip=clip, image=image
        )

    async def check(
        self,
        spec: JobSpec,
        *,
        chat: ChatRef,
        member: Member | None = None,
        audio: bool = False,
        last_frame: bool = False,
        clip: bool = False,
        image: bool | None = None,
    ) -> ValidSpec:
        """Everything that can refuse a request before its bytes are read: the server's
        policy, the validation and the quotas (``Checks.check``)."""
        return await self.checks.check(
            spec,
            chat=chat,
            member=member,
            audio=audio,
            last_frame=last_frame,
            clip=clip,
            image=image,
        )

    def quote(self, spec: JobSpec) -> Quote:
        """What a validated ``spec`` will cost: the whole output (a continued clip included)
        at the published or the operator's price; ``price_known`` False when there is none."""
        return self.checks.quote(spec)

    def estimate(self, spec: JobSpec) -> tuple[float, str]:
        """(cost, currency); the cost is 0.0 when no price is known (see ``quote``)."""
        return self.checks.estimate(spec)

    # ------------------------------------------------------------------ submit
    async def submit(
        self,
        *,
        spec: JobSpec | ValidSpec,
        image: bytes | None = None,
        chat: ChatRef,
        member: Member | None = None,
        audio: bytes | None = None,
        audio_filename: str | None = None,
        parent_job_id: int | None = None,
        last_frame: bytes | None = None,
        clip: bytes | None = None,
    ) -> JobView:
        """Record a job: every rule that can refuse it is checked here (``check`` unless
        ``spec`` came from it with the same files), before any row or request; the quotas once
        more, atomically with the insert. The worker is woken to start it. ``image`` is the
        first frame; ``clip`` a video to continue instead (wan2.7); ``last_frame`` an end
        image."""
        files = (audio is not None, last_frame is not None, clip is not None)
        # an image beside a clip is a first_frame + first_clip request: validation refuses it
        both = image is not None and clip is not None
        if both or not (
            isinstance(spec, ValidSpec) and spec.limits is not None and spec.files == files
        ):
            raw = spec.spec if isinstance(spec, ValidSpec) else spec
            # maybe from inside this request's own intake: the insert counts the rest
            spec = await self.checks.check(
                raw,
                chat=chat,
                member=member,
                audio=files[0],
                last_frame=files[1],
                clip=files[2],
                image=both or None,
                pending=False,
            )
        checked = spec.spec
        assert spec.limits is not None  # noqa: S101 - check() always sets them
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
            limits=spec.limits,
        )
        with about(job):
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
    async def intake(self, chat: ChatRef, checked: ValidSpec | None = None) -> AsyncIterator[None]:
        """Enter (after ``check``) before reading a request's attachment bytes and stay inside
        until ``submit`` returns: refuses a requester whose requests already inside would take
        their last place, and bounds how many requests hold attachment bytes in memory at
        once (``Checks.intake``)."""
        async with self.checks.intake(chat, checked):
            yield

    async def attach_chat(
        self,
        job_id: int,
        *,
        thread: str | None,
        status_message: str | None,
        shown: JobView | None = None,
    ) -> JobView:
        """Record where the job's status message and results live (after it was posted);
        ``shown``: the view that message shows (its queue place is then only edited when it
        changes)."""
        now = self.clock.now()
        for _ in range(5):
            job = await self._must(job_id)
            # any status: the chat location is recorded whatever the engine did meanwhile
            chat = dataclasses.replace(job.chat, thread=thread, status_message=status_message)
            seen = {}
            if shown is not None and shown.status is job.status is JobStatus.QUEUED:
                seen = {"progress_status": progress_key(shown.status, shown.queue_position)}
            if await self.store.save(job, transition(job, job.status, now, chat=chat, **seen)):
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
        """Cancel a job that has not started generating (the requester or a moderator)."""
        await cancel_job(
            self.store, self.provider, self.clock, job_id, user=user, moderator=moderator
        )
        self._notify()  # the cancel notice is due for delivery
        return await self.get_view(job_id)

    async def regenerate(
        self,
        job_id: int,
        *,
        user: str,
        chat: ChatRef,
        moderator: bool = False,
        member: Member | None = None,
    ) -> JobView:
        """Same settings and inputs, a new random seed; a new job pointing at its parent.

        Every video costs the server owner money, so only the requester (or a moderator) may
        spend it again, as with Cancel, and the server's policy and quotas apply to it where
        the button was clicked, as to a new request.
        """
        job = await self._must(job_id)
        require_requester(job.chat, user, moderator=moderator, action="regenerate")
        if job.media_purged or (job.image_path is None and job.clip_path is None):
            raise AnimateError(
                "The inputs of this job were deleted after the retention period; "
                "start a new /animate.",
                key="regenerate.purged",
                kind=Kind.INVALID_INPUT,
            )
        chat = dataclasses.replace(chat, user=user)
        # the same settings may no longer pass (a job recorded before a rule existed, or the
        # server's policy changed): refuse with what to change rather than spend
        checked = await self.check(
            dataclasses.replace(job.spec, seed=None),
            chat=chat,
            member=member,
            audio=job.audio_path is not None,
            last_frame=job.last_frame_path is not None,
            clip=job.clip_path is not None,
        )
        assert checked.limits is not None  # noqa: S101 - check() always sets them
        quote = self.quote(checked.spec)
        try:
            child = await self.recorder.record(
                checked.spec,
                chat,
                cost=(quote.cost or 0.0, quote.currency),
                unit_price=quote.unit_price,
                parent_job_id=job.id,
                limits=checked.limits,
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

    async def extend_options(self, job_id: int, *, user: str, moderator: bool) -> tuple[int, ...]:
        """The totals (seconds, the clip included) ``user`` may extend ``job_id``'s video to;
        a refusal when they may not (not theirs, no model to continue it, video deleted)."""
        job = await self._must(job_id)
        return extend.plan(job, self.region, user=user, moderator=moderator).durations

    async def extend(
        self,
        job_id: int,
        *,
        prompt: str,
        duration: int,
        user: str,
        chat: ChatRef,
        moderator: bool = False,
        member: Member | None = None,
    ) -> JobView:
        """Continue ``job_id``'s delivered video (wan2.7 ``first_clip``): its last ≤ 10 s as
        the clip, ``duration`` the whole output's length (billed whole). The server's policy
        and quotas apply where the button was clicked; nothing is cut before they pass."""
        job = await self._must(job_id)
        plan = extend.plan(job, self.region, user=user, moderator=moderator)
        chat = dataclasses.replace(chat, user=user)
        spec = extend.spec_for(plan, prompt=prompt, duration=duration)
        checked = await self.check(spec, chat=chat, member=member, clip=True)
        async with self.intake(chat, checked):
            clip = await extend.cut(self.media, job)
            return await self.submit(
                spec=checked, clip=clip, chat=chat, member=member, parent_job_id=job.id
            )

    # ------------------------------------------------------------------ settings and usage
    async def settings(self, chat: ChatRef, member: Member) -> SettingsReport:
        """The server's settings and where each comes from (admins only)."""
        return await self.controls.show(chat, member)

    async def configure(
        self, chat: ChatRef, member: Member, name: str, edit: Edit, *, role: str | None = None
    ) -> SettingsReport:
        """Change one setting of ``chat``'s server (``role``: that role's override); admins
        only. ``edit`` maps the stored value to the new one (``core.app.controls``)."""
        return await self.controls.edit(chat, member, name, edit, role=role)

    async def usage(self, chat: ChatRef, member: Member, *, server: bool = False) -> UsageReport:
        """The requester's usage and limits; ``server``: the server's spending (admins)."""
        return await self._usage.report(chat, member, server=server)

    # ------------------------------------------------------------------ reading
    async def get(self, job_id: int) -> JobView | None:
        job = await self.store.get_job(job_id)
        return None if job is None else await self.views.view(job, self.clock.now())

    async def clicked(
        self,
        job_id: int,
        *,
        here: Callable[[ChatRef], bool],
        message: str | None,
        user: str,
        moderator: bool,
        action: str | None = None,
    ) -> JobView:
        """The job a button click may act on (``core.app.click_origin``): ``here`` says whether the
        click came from the job's place, ``message`` which message it came from."""
        job = await self.get_view(job_id)
        return click_origin.clicked(
            job,
            here=here(job.chat),
            message=message,
            user=user,
            moderator=moderator,
            action=action,
        )

    async def get_view(self, job_id: int) -> JobView:
        view = await self.get(job_id)
        if view is None:
            raise no_such_job(job_id)
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
            raise no_such_job(job_id)
        return job


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
