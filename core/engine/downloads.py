"""Fetching a finished video to our disk, off the pass (``core.engine.background``).

A download streams to ``<name>.part`` and renames it when complete, so a crash never leaves a
half file under the final name (the startup sweep deletes stale parts). At most
``parallel_downloads`` run at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from core.domain.errors import AnimateError, Kind, ProviderError
from core.domain.jobs import JobStatus
from core.domain.records import JobRecord, expired, failed, failing, transition
from core.engine.context import EngineContext

log = logging.getLogger(__name__)


class Downloader:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._gate = asyncio.Semaphore(max(1, ctx.config.parallel_downloads))

    async def due(self, now: datetime) -> list[JobRecord]:
        """Due downloads claimed for this worker: no more than it can start now (the ones it
        runs already come back too), so other workers can take the rest."""
        ctx = self.ctx
        room = max(ctx.config.parallel_downloads, ctx.background.count("download"))
        return await ctx.leases.claim_due(now, [JobStatus.SUCCEEDED], limit=room)

    async def download(self, job: JobRecord, now: datetime) -> None:
        """Fetch ``job``'s video (a guarded background step)."""
        ctx = self.ctx
        if job.video_url is None:
            await ctx.save(
                job,
                lambda j: failed(
                    j,
                    now,
                    AnimateError(
                        "DashScope gave no video link.", key="download.no_link", kind=Kind.DOWNLOAD
                    ),
                ),
            )
            return
        if job.video_url_expires_at is not None and now >= job.video_url_expires_at:
            await ctx.save(
                job,
                lambda j: expired(
                    j,
                    now,
                    "The video link expired (24 h) before it could be fetched.",
                    key="download.link_expired",
                ),
            )
            return
        dest = ctx.media_dir / "videos" / f"job-{job.id}.mp4"
        part = dest.with_name(dest.name + ".part")
        await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
        async with self._gate:
            try:
                size = await ctx.provider.download(
                    job.video_url, part, max_bytes=ctx.config.max_video_bytes
                )
            except ProviderError as exc:
                if not exc.retryable:
                    await ctx.save(job, failing(now, exc))
                    return
                await ctx.retry_later(job, now, exc)
                return
        await asyncio.to_thread(part.replace, dest)
        log.info("job %d: video downloaded (%d bytes)", job.id, size)
        await ctx.save(
            job,
            lambda j: transition(
                j, JobStatus.DOWNLOADED, now, attempts=0, next_at=None, video_path=str(dest)
            ),
        )
