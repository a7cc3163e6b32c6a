"""Fitting the result video under the chat's upload limit, before ``post_result``.

The port only reports its limit (``DeliveryPort.upload_limit``); the engine decides. A video
that fits is posted as it is. A bigger one is re-encoded in the background (a re-encode takes
a core for many seconds; it must not hold up other jobs' deliveries or the loop's heartbeat),
and the limit it was started for is written to the row *before* it starts, so the same file is
never re-encoded twice — not after a failure, not after a crash. When no copy fits (not
watchable at that size, unreadable, disk error) the port posts the link with its expiry: the
DashScope URL still works for 24 h, which beats a silent ``delivery_failed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from core.domain.errors import AnimateError
from core.domain.jobs import JobView
from core.domain.records import JobRecord, transition
from core.engine.background import Background
from core.media.pool import MediaPool
from core.media.video import fit_video
from core.ports import Clock, DeliveryPort, JobStore
from core.rows import update

log = logging.getLogger(__name__)

#: re-encode ``src`` into ``dest`` under ``max_bytes``; the file written, or None (cannot fit)
FitFn = Callable[[Path, Path, int], Awaitable[Path | None]]


def fitted_copy(video: Path, max_bytes: int | str) -> Path:
    """Where the copy of ``video`` re-encoded under ``max_bytes`` is kept."""
    return video.with_name(f"{video.stem}-fit-{max_bytes}.mp4")


def fit_in(pool: MediaPool) -> FitFn:
    """``FitFn`` running ``core.media.fit_video`` in ``pool`` (a core for many seconds)."""

    async def fit(src: Path, dest: Path, max_bytes: int) -> Path | None:
        result = await pool.run(fit_video, src, dest, max_bytes)
        return None if result is None else result.path

    return fit


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


class Fitter:
    def __init__(
        self, *, store: JobStore, clock: Clock, background: Background, fit: FitFn
    ) -> None:
        self.store = store
        self.clock = clock
        self.background = background
        self._fit = fit
        #: re-encodes started since the last ``take_started`` (the pass waits for them briefly)
        self._started: dict[int, asyncio.Task[None]] = {}

    def take_started(self) -> dict[int, asyncio.Task[None]]:
        started, self._started = self._started, {}
        return started

    async def prepare(
        self, port: DeliveryPort, job: JobRecord, view: JobView, now: datetime
    ) -> tuple[bool, str | None]:
        """(ready, the file to attach or None for the link). Not ready: a re-encode is running
        in the background; it makes the job due for delivery again when it ends."""
        if self.background.running("fit", job.id):
            return False, None
        if job.video_path is None:
            return True, None
        limit = await port.upload_limit(view)
        if limit <= 0:
            return True, None
        size = await asyncio.to_thread(_size, Path(job.video_path))
        if size is None:
            log.warning("job %d: the video file is gone; posting the link", job.id)
            return True, None
        if size <= limit:
            return True, job.video_path
        if job.fit_path is not None:
            fitted = await asyncio.to_thread(_size, Path(job.fit_path))
            if fitted is not None and fitted <= limit:
                return True, job.fit_path
        if job.fit_limit is not None and job.fit_limit >= limit:
            # tried at this size (or a larger one) already: no second re-encode, the link
            return True, None
        marked = await update(
            self.store, job, lambda j: transition(j, j.status, now, fit_limit=limit, fit_path=None)
        )
        if marked is not None:
            log.info("job %d: %d bytes > %d limit, re-encoding", job.id, size, limit)
            task = self.background.start("fit", job.id, self._run(marked, limit))
            self._started[job.id] = task
        return False, None

    async def _run(self, job: JobRecord, limit: int) -> None:
        assert job.video_path is not None  # noqa: S101 - prepare() checked it
        src = Path(job.video_path)
        path: Path | None
        try:
            path = await self._fit(src, fitted_copy(src, limit), limit)
        except (AnimateError, OSError) as exc:  # VideoError (unreadable, encoder), disk
            log.warning("job %d: re-encoding failed (%r); posting the link", job.id, exc)
            path = None
        if path is None:
            log.info("job %d: no copy fits %d bytes; posting the link", job.id, limit)
        now = self.clock.now()
        await update(
            self.store,
            job,
            lambda j: transition(
                j, j.status, now, fit_path=None if path is None else str(path), deliver_at=now
            ),
        )
