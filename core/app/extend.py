"""Extend: continue a delivered wan2.7 result with DashScope's ``first_clip`` (reference §5.3).

The delivered MP4's last ≤ 10 s (``core.media.extend.cut_last``) become the clip; the new job's
``duration`` is the length of the whole output, the clip included, and that is what DashScope
bills, so the quote, the reservation and the ledger count all of it (``core.domain.pricing``).
Only the requester (or a moderator) may extend, as with Regenerate: it spends money. Everything
that can refuse is checked before the clip is cut, and nothing is spent before ``submit``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from pathlib import Path

from core.domain.capabilities import Model
from core.domain.catalog import Region, find_model
from core.domain.combinations import continuation_durations, continuation_model
from core.domain.errors import AnimateError, Kind, ValidationError
from core.domain.jobs import JobSpec, JobView, require_requester
from core.domain.records import JobRecord
from core.media.clip import CLIP_LIMITS
from core.media.extend import cut_last
from core.media.pool import MediaPool


@dataclasses.dataclass(frozen=True, slots=True)
class Extension:
    """What extending a job can ask for: its model, the clip's length and the totals offered."""

    job: JobRecord
    model: Model
    clip_seconds: float
    durations: tuple[int, ...]


def extendable(job: JobView) -> bool:
    """Whether a result offers Extend: a delivered video its model can continue in the job's
    region (wan2.7). Every front-end asks this one question."""
    model = find_model(job.spec.model)
    if job.video_path is None or model is None or job.region not in set(Region):
        return False  # a row from a release whose catalog or regions differ: no Extend
    return continuation_model(model, Region(job.region)) is not None


def plan(job: JobRecord, region: Region, *, user: str, moderator: bool) -> Extension:
    """May ``user`` extend ``job``, and with which totals; a refusal that says why not."""
    require_requester(job.chat, user, moderator=moderator, action="extend")
    model = continuation_model(job.spec.catalog_model, region)
    if model is None:
        raise ValidationError(
            f"{job.spec.model} cannot continue a video in {region.value}, so this one cannot "
            "be extended.",
            key="extend.model",
            params={"model": job.spec.model, "region": region.value},
        )
    if job.video_path is None or job.media_purged:
        raise gone(job.id)
    made = job.usage_seconds or float(job.spec.duration)
    clip_seconds = min(CLIP_LIMITS.max_seconds, made)
    durations = continuation_durations(model, region, clip_seconds)
    if not durations:
        raise ValidationError(
            f"This video is already as long as {model.id} can make one, so it cannot be "
            "extended further.",
            key="extend.longest",
            params={"model": model.id},
        )
    return Extension(job, model, clip_seconds, durations)


def spec_for(extension: Extension, *, prompt: str, duration: int) -> JobSpec:
    """The continuation's request: the job's settings, a new prompt and total, a new seed."""
    old = extension.job.spec
    return dataclasses.replace(
        old,
        model=extension.model.id,
        prompt=prompt,
        duration=duration,
        seed=None,
        template=None,
        aspect="original",
        fill="crop",
    )


async def cut(media: MediaPool, job: JobRecord) -> bytes:
    """The last ≤ 10 s of ``job``'s delivered MP4, as a clip valid for ``first_clip``."""
    if job.video_path is None:
        raise gone(job.id)
    with tempfile.TemporaryDirectory(prefix="animate-extend-") as tmp:
        dest = Path(tmp) / "clip.mp4"
        try:
            await media.run(cut_last, Path(job.video_path), dest)
            return await asyncio.to_thread(dest.read_bytes)
        except FileNotFoundError as exc:
            raise gone(job.id) from exc


def gone(job_id: int) -> AnimateError:
    return AnimateError(
        f"The video of job #{job_id} is no longer kept by the bot (deleted after the retention "
        "period), so it cannot be extended; use /animate with the clip option instead.",
        key="extend.video_gone",
        params={"job": job_id},
        kind=Kind.INVALID_INPUT,
    )
