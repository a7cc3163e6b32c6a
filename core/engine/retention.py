"""Media on disk: delete a job's files some days after delivery, and what a crash left behind.

Retention runs at most every ``retention_every`` seconds (sooner while there is a backlog). The
startup sweep (``sweep_leftovers``, blocking: run it through ``asyncio.to_thread``) deletes the
partial downloads and re-encodes a crash left behind, and input files a submit wrote but never
recorded; neither is ever read again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from core.domain.records import transition
from core.engine.context import EngineContext
from core.engine.fitting import fitted_copy
from core.engine.scheduler import seconds

log = logging.getLogger(__name__)

_JOB_FILE = re.compile(r"^job-(\d+)[.-]")


class Retention:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self._last: datetime | None = None

    async def purge(self, now: datetime) -> int:
        """Delete the media of jobs delivered longer than the retention ago; how many."""
        ctx = self.ctx
        if self._last is not None and seconds(now, self._last) < ctx.config.retention_every:
            return 0
        cutoff = now - timedelta(days=ctx.config.media_retention_days)
        jobs = await ctx.store.purgeable_jobs(cutoff, limit=ctx.config.batch)
        # a full batch means a backlog: come back next pass instead of next period
        self._last = now if len(jobs) < ctx.config.batch else None
        purged = 0
        for job in jobs:
            inputs = (job.image_path, job.last_frame_path, job.clip_path, job.audio_path)
            paths = [p for p in (*inputs, job.video_path) if p]
            await asyncio.to_thread(_unlink_all, paths)
            if await ctx.save(
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
        if path.suffix == ".mp4":  # copies re-encoded to fit an upload limit (core.engine.fitting)
            for copy in path.parent.glob(fitted_copy(path, "*").name):
                copy.unlink(missing_ok=True)


def sweep_leftovers(
    media_dir: Path,
    *,
    referenced: Iterable[str],
    busy_jobs: set[int],
    writing: set[str],
    settled_before: float | None = None,
) -> list[Path]:
    """Delete leftovers under ``media_dir``; return what was deleted.

    ``referenced``: paths job rows name (compared by file name: input names are unique, and a
    row may spell the directory differently); ``busy_jobs``: jobs whose download or re-encode is
    running in this process; ``writing``: input file names a submit is writing right now.
    ``settled_before`` (epoch seconds): other processes share the directory (a shared store),
    and what they are writing is invisible from here, so only files last modified before it are
    leftovers (a live download or submit keeps touching its file).
    """
    keep = {Path(p).name for p in referenced} | writing

    def settled(path: Path) -> bool:
        try:
            return settled_before is None or path.stat().st_mtime < settled_before
        except FileNotFoundError:
            return False

    removed: list[Path] = []
    videos = media_dir / "videos"
    if videos.is_dir():
        for part in videos.glob("*.part"):
            owner = _JOB_FILE.match(part.name)
            if owner is not None and int(owner.group(1)) in busy_jobs:
                continue
            if not settled(part):
                continue
            part.unlink(missing_ok=True)
            removed.append(part)
    inputs = media_dir / "inputs"
    if inputs.is_dir():
        for path in inputs.iterdir():
            if path.is_file() and path.name not in keep and settled(path):
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        log.info("removed %d leftover files: %s", len(removed), ", ".join(p.name for p in removed))
    return removed
