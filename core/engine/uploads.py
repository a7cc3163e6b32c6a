"""The audio upload: its own background step between QUEUED and the create.

DashScope takes a custom audio track only as a URL; ours goes to its temporary storage first
(getPolicy + an OSS form POST, reference §11), which can take minutes for a large file. Done
inside the create it held up the whole pass; here it runs in the background like a download, the
``oss://`` URL and its expiry (48 h) are stored on the row, and admission only creates jobs
whose URL is fresh, so the create itself sends a URL and nothing else slow.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.errors import AnimateError, Input, Kind, ProviderError
from core.domain.records import JobRecord, failing, transition
from core.domain.tasks import MediaFile
from core.engine.config import EngineConfig
from core.engine.context import EngineContext

log = logging.getLogger(__name__)


def audio_ready(job: JobRecord, now: datetime, config: EngineConfig) -> bool:
    """True when ``job`` can be created now: no audio file, or its upload is still fresh."""
    if job.audio_path is None:
        return True
    expires = job.audio_url_expires_at
    margin = timedelta(seconds=config.upload_margin)
    return job.audio_url is not None and expires is not None and expires - margin > now


class Uploader:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._gate = asyncio.Semaphore(max(1, ctx.config.parallel_uploads))

    async def due(self, now: datetime) -> list[JobRecord]:
        """Queued jobs whose audio must be uploaded (again) before their create."""
        ctx = self.ctx
        fresh_until = now + timedelta(seconds=ctx.config.upload_margin)
        # claimed for this worker, no more than it can start now (see ``Downloader.due``)
        room = max(ctx.config.parallel_uploads, ctx.background.count("upload"))
        return await ctx.leases.claim_uploads(now, fresh_until=fresh_until, limit=room)

    async def upload(self, job: JobRecord, now: datetime) -> None:
        """Upload ``job``'s audio; record the URL, or back off, or fail the job with the reason."""
        assert job.audio_path is not None  # noqa: S101 - uploads_due only returns such jobs
        async with self._gate:
            try:
                data = await asyncio.to_thread(Path(job.audio_path).read_bytes)
            except OSError:
                gone = AnimateError(
                    "The audio file of this job is gone; please start a new one.",
                    key="job.audio_gone",
                    kind=Kind.INVALID_INPUT,
                    subject=Input.AUDIO,
                )
                await self.ctx.save(job, failing(now, gone))
                return
            media = MediaFile(data, job.audio_mime or "audio/mpeg", job.audio_filename or "a.mp3")
            try:
                url = await self.ctx.provider.upload_file(job.spec.catalog_model, media)
            except ProviderError as exc:
                await self._refused(job, now, exc)
                return
            except AnimateError as exc:
                # a ValidationError: refused before anything was sent; the user must change it
                log.info("job %d: audio upload refused: %r", job.id, exc)
                await self.ctx.save(job, failing(now, exc))
                return
        # the file lives 48 h from its upload: count from the start, to be safe
        expires = now + timedelta(seconds=self.ctx.config.upload_ttl)
        done = max(now, self.ctx.clock.now())
        log.info("job %d: audio uploaded", job.id)
        await self.ctx.save(
            job,
            lambda j: transition(
                j,
                j.status,
                done,
                audio_url=url,
                audio_url_expires_at=expires,
                attempts=0,
                next_at=done,
            ),
        )

    async def _refused(self, job: JobRecord, now: datetime, exc: ProviderError) -> None:
        attempts = job.attempts + 1
        if not exc.retryable or attempts >= self.ctx.config.submit_max_attempts:
            log.info("job %d: audio upload failed for good: %r", job.id, exc)
            await self.ctx.save(job, failing(now, exc))
            return
        delay = self.ctx.backoff(attempts)
        if exc.retry_after:
            delay = max(delay, timedelta(seconds=exc.retry_after))
        log.info(
            "job %d: audio upload failed (%r); again in %.1f s",
            job.id,
            exc,
            delay.total_seconds(),
        )
        await self.ctx.save(
            job,
            lambda j: transition(j, j.status, now, attempts=j.attempts + 1, next_at=now + delay),
        )
