"""The uploads: their own background step between QUEUED and the create.

DashScope takes a custom audio track and a clip to continue only as URLs (reference §5.3, §6.4);
ours go to its temporary storage first (getPolicy + an OSS form POST, reference §11), which can
take minutes for a large file. Done inside the create it held up the whole pass; here it runs in
the background like a download, each file's ``oss://`` URL and its expiry (48 h) are stored on
the row, and admission only creates jobs whose URLs are fresh, so the create itself sends URLs
and nothing else slow.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.errors import AnimateError, Input, Kind, ProviderError
from core.domain.records import JobRecord, failing, transition
from core.domain.tasks import MediaFile
from core.engine.config import EngineConfig
from core.engine.context import EngineContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Upload:
    """One input file of a job that must reach DashScope's temporary storage."""

    what: str  # "audio" | "clip": the prefix of its row fields (``audio_url``, ``clip_url`` …)
    path: str
    mime: str
    filename: str
    url: str | None
    expires: datetime | None

    def fresh(self, now: datetime, margin: timedelta) -> bool:
        return self.url is not None and self.expires is not None and self.expires - margin > now


def _uploads(job: JobRecord) -> list[_Upload]:
    found = []
    if job.audio_path is not None:
        found.append(
            _Upload(
                "audio",
                job.audio_path,
                job.audio_mime or "audio/mpeg",
                job.audio_filename or "a.mp3",
                job.audio_url,
                job.audio_url_expires_at,
            )
        )
    if job.clip_path is not None:
        mime = job.clip_mime or "video/mp4"
        found.append(
            _Upload(
                "clip",
                job.clip_path,
                mime,
                "clip.mov" if mime == "video/quicktime" else "clip.mp4",
                job.clip_url,
                job.clip_url_expires_at,
            )
        )
    return found


def uploads_ready(job: JobRecord, now: datetime, config: EngineConfig) -> bool:
    """True when ``job`` can be created now: every file it uploads has a fresh URL."""
    margin = timedelta(seconds=config.upload_margin)
    return all(u.fresh(now, margin) for u in _uploads(job))


class Uploader:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._gate = asyncio.Semaphore(max(1, ctx.config.parallel_uploads))

    async def due(self, now: datetime) -> list[JobRecord]:
        """Queued jobs with a file that must be uploaded (again) before their create."""
        ctx = self.ctx
        fresh_until = now + timedelta(seconds=ctx.config.upload_margin)
        # claimed for this worker, no more than it can start now (see ``Downloader.due``)
        room = max(ctx.config.parallel_uploads, ctx.background.count("upload"))
        return await ctx.leases.claim_uploads(now, fresh_until=fresh_until, limit=room)

    async def upload(self, job: JobRecord, now: datetime) -> None:
        """Upload ``job``'s stale files; record each URL, or back off, or fail the job."""
        margin = timedelta(seconds=self.ctx.config.upload_margin)
        current: JobRecord | None = job
        for item in _uploads(job):
            if current is None:
                return  # the job moved on meanwhile (canceled)
            if not item.fresh(now, margin):
                current = await self._upload(current, item, now)

    async def _upload(self, job: JobRecord, item: _Upload, now: datetime) -> JobRecord | None:
        async with self._gate:
            try:
                data = await asyncio.to_thread(Path(item.path).read_bytes)
            except OSError:
                await self.ctx.save(job, failing(now, _gone(item.what)))
                return None
            media = MediaFile(data, item.mime, item.filename)
            try:
                url = await self.ctx.provider.upload_file(job.spec.catalog_model, media)
            except ProviderError as exc:
                await self._refused(job, now, exc)
                return None
            except AnimateError as exc:
                # a ValidationError: refused before anything was sent; the user must change it
                log.info("job %d: %s upload refused: %r", job.id, item.what, exc)
                await self.ctx.save(job, failing(now, exc))
                return None
        # the file lives 48 h from its upload: count from the start, to be safe
        expires = now + timedelta(seconds=self.ctx.config.upload_ttl)
        done = max(now, self.ctx.clock.now())
        log.info("job %d: %s uploaded", job.id, item.what)
        fields = {f"{item.what}_url": url, f"{item.what}_url_expires_at": expires}
        return await self.ctx.save(
            job,
            lambda j: transition(j, j.status, done, attempts=0, next_at=done, **fields),
        )

    async def _refused(self, job: JobRecord, now: datetime, exc: ProviderError) -> None:
        attempts = job.attempts + 1
        if not exc.retryable or attempts >= self.ctx.config.submit_max_attempts:
            log.info("job %d: upload failed for good: %r", job.id, exc)
            await self.ctx.save(job, failing(now, exc))
            return
        delay = self.ctx.backoff(attempts)
        if exc.retry_after:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        log.info(
            "job %d: upload failed (%r); again in %.1f s",
            job.id,
            exc,
            delay.total_seconds(),
        )
        await self.ctx.save(
            job,
            lambda j: transition(j, j.status, now, attempts=j.attempts + 1, next_at=now + delay),
        )


def _gone(what: str) -> AnimateError:
    """The job's input file to upload is no longer on disk."""
    if what == "clip":
        return AnimateError(
            "The video to continue of this job is gone; please start a new one.",
            key="job.clip_gone",
            kind=Kind.INVALID_INPUT,
            subject=Input.CLIP,
        )
    return AnimateError(
        "The audio file of this job is gone; please start a new one.",
        key="job.audio_gone",
        kind=Kind.INVALID_INPUT,
        subject=Input.AUDIO,
    )
