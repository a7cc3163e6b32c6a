"""Recording a job: its input files on disk, then its QUEUED row, within its quota.

The files are written first and the row names them. A refusal or an error in between deletes
them again; a crash in between leaves them for the startup sweep
(``core.engine.retention.sweep_leftovers``), which spares the files a recording in progress is
writing (``Recorder.writing``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from core.domain.catalog import Region
from core.domain.errors import AnimateError, Kind
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.quota import Limits, Quota, refusal
from core.domain.records import JobRecord
from core.domain.validation import SEED_MAX
from core.ports import Clock, JobStore

log = logging.getLogger(__name__)

_EXT = {"image/png": ".png", "image/jpeg": ".jpg", "audio/mpeg": ".mp3", "audio/wav": ".wav",
        "video/mp4": ".mp4", "video/quicktime": ".mov"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input file: new bytes to write, or an existing input (``path``) to copy."""

    mime: str
    data: bytes | None = None
    path: str | None = None
    filename: str | None = None


class Recorder:
    def __init__(
        self,
        *,
        store: JobStore,
        clock: Clock,
        media_dir: Path,
        region: Region,
    ) -> None:
        self.store = store
        self.clock = clock
        self.folder = media_dir / "inputs"
        self.region = region
        #: names of input files written for a row that is not recorded yet
        self.writing: set[str] = set()

    async def record(
        self,
        spec: JobSpec,
        chat: ChatRef,
        *,
        cost: tuple[float, str],
        image: InputFile | None,
        audio: InputFile | None,
        parent_job_id: int | None,
        last_frame: InputFile | None = None,
        clip: InputFile | None = None,
        clip_seconds: float | None = None,
        unit_price: float | None = None,
        limits: Limits,
    ) -> JobRecord:
        """Write (or copy) the inputs, then insert the row within ``limits``; the refusal of
        the limit it does not fit (``core.domain.quota``); ``OSError`` when an input to copy
        is gone. ``image`` is None when the job continues ``clip``; ``unit_price`` None when no
        price is known."""
        written: list[Path] = []
        try:
            image_path = await self._put(image, written)
            audio_path = await self._put(audio, written)
            last_frame_path = await self._put(last_frame, written)
            clip_path = await self._put(clip, written)
            now = self.clock.now()
            record = JobRecord(
                id=0,
                status=JobStatus.QUEUED,
                spec=spec,
                chat=chat,
                region=self.region.value,
                created_at=now,
                updated_at=now,
                currency=cost[1],
                cost_estimate=cost[0],
                image_path=image_path,
                image_mime=image.mime if image else None,
                last_frame_path=last_frame_path,
                last_frame_mime=last_frame.mime if last_frame else None,
                clip_path=clip_path,
                clip_mime=clip.mime if clip else None,
                clip_seconds=clip_seconds,
                unit_price=unit_price,
                audio_path=audio_path,
                audio_mime=audio.mime if audio else None,
                audio_filename=audio.filename if audio else None,
                seed_used=spec.seed if spec.seed is not None else secrets.randbelow(SEED_MAX + 1),
                next_at=now,
                progress_status=JobStatus.QUEUED.value,
                parent_job_id=parent_job_id,
            )
            return await self._insert(record, limits)
        except BaseException:
            await asyncio.to_thread(_unlink, written)
            raise
        finally:
            self.writing.difference_update(p.name for p in written)

    async def _insert(self, record: JobRecord, limits: Limits) -> JobRecord:
        quota = Quota.of(record.chat, limits, record.created_at, record.currency)
        if not quota.any:
            return await self.store.insert_job(record)
        for _ in range(3):
            inserted = await self.store.insert_job_within(record, quota)
            if inserted is not None:
                return inserted
            # the insert's own check refused it; the same sums, read again, say which limit
            usage = await self.store.quota_usage(quota)
            error = refusal(quota, usage, seconds=record.spec.duration, money=record.cost_estimate)
            if error is not None:
                chat = record.chat
                log.info("user %s/%s refused: %s", chat.platform, chat.user, error.key)
                raise error
            # a place was freed between the two reads: try the insert again
        raise AnimateError(
            "Too many requests at once; try again in a moment. Nothing was spent.",
            key="limit.contended",
            kind=Kind.BUSY,
            retryable=True,
        )

    async def _put(self, item: InputFile | None, written: list[Path]) -> str | None:
        if item is None:
            return None
        suffix = Path(item.path).suffix if item.path else _EXT.get(item.mime, ".bin")
        dest = self.folder / f"{uuid.uuid4().hex}{suffix}"
        written.append(dest)
        self.writing.add(dest.name)
        await asyncio.to_thread(_put, item, self.folder, dest)
        return str(dest)


def _put(item: InputFile, folder: Path, dest: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if item.path is not None:
        shutil.copyfile(item.path, dest)
    else:
        dest.write_bytes(item.data or b"")


def _unlink(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)
