"""Helpers ``bench/`` needs and the tests share: a simulated clock, a call-counting provider,
small media. Nothing here imports ``tests/`` (bench never does)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
from PIL import Image

from core.domain.catalog import Model
from core.domain.errors import ProviderError
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from core.ports import VideoProvider

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def sdk_schedule(seconds: float) -> tuple[int, float]:
    """(queries, lag) of SDK 2.0.2 ``wait()`` for a task finishing ``seconds`` after create."""
    t, wait, step, queries = 0.0, 1.0, 0, 0
    while True:
        step += 1
        if wait < 5 and step % 3 == 0:
            wait = min(wait * 2, 5.0)
        queries += 1  # the first GET happens immediately
        if t >= seconds:
            return queries, t - seconds
        t += wait


class SimClock:
    """One simulated time axis for the emulator (``clock()`` → epoch) and the engine (``now()``)."""

    def __init__(self, start: datetime = START) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def __call__(self) -> float:
        return self.at.timestamp()

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at

    def jump(self, to: datetime) -> datetime:
        self.at = max(self.at, to)
        return self.at


@dataclass
class CountingProvider:
    """The real client, counting calls and the rate-limit refusals it met (for assertions)."""

    inner: VideoProvider
    clock: SimClock
    creates: int = 0
    queries: int = 0
    throttled: int = 0
    query_times: list[float] | None = None

    def _count_query(self) -> None:
        self.queries += 1
        if self.query_times is not None:
            self.query_times.append(self.clock())

    def _seen(self, exc: ProviderError) -> None:
        if exc.status == 429:
            self.throttled += 1

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        self.creates += 1
        try:
            return await self.inner.create_task(request)
        except ProviderError as exc:
            self._seen(exc)
            raise

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        try:
            return await self.inner.upload_file(model, media)
        except ProviderError as exc:
            self._seen(exc)
            raise

    async def get_task(self, task_id: str) -> TaskInfo:
        self._count_query()
        try:
            return await self.inner.get_task(task_id)
        except ProviderError as exc:
            self._seen(exc)
            raise

    async def cancel_task(self, task_id: str) -> None:
        self._count_query()
        await self.inner.cancel_task(task_id)

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        self._count_query()
        try:
            return await self.inner.list_tasks(start=start, end=end, model=model, status=status)
        except ProviderError as exc:
            self._seen(exc)
            raise

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        return await self.inner.download(url, dest, max_bytes=max_bytes)


def tiny_mp4(frames: int = 6, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=6)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            img = Image.new("RGB", size, (40 * i % 255, 80, 160))
            frame = av.VideoFrame.from_image(img)  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def png(width: int = 640, height: int = 480) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buf, "PNG")
    return buf.getvalue()
