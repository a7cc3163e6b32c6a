"""Named fakes for engine tests: a clock, a scripted video provider and a recording port.

``FakeVideoProvider`` behaves like DashScope on the fake clock: a task is PENDING for
``queue_seconds``, RUNNING until its scripted run time has passed, then SUCCEEDED (or FAILED when
scripted); PENDING tasks can be canceled; unknown ids are UNKNOWN; ``list_tasks`` filters by
creation time and model. Errors are scripted per call kind, and ``outcome_unknown_created``
reproduces the ambiguous case: the task is created, the answer is lost.
"""

from __future__ import annotations

import io
import itertools
import math
import random
import struct
import wave
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
from PIL import Image

# the shared media helpers live in bench._support (bench imports nothing from tests/)
from bench._support import png as png
from bench._support import tiny_mp4 as tiny_mp4
from core.domain.catalog import Model
from core.domain.errors import Kind, OutcomeUnknownError, ProviderError
from core.domain.jobs import JobView
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary, Usage
from core.ports import DeliveryError

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


def noisy_mp4(frames: int = 24, size: tuple[int, int] = (160, 120)) -> bytes:
    """A 4 s video of random noise (~300 KB): too big for a limit of half its size, which a
    quick re-encode meets (used to make the engine fit a video under an upload limit)."""
    rng = random.Random(1)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=6)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            img = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
            frame = av.VideoFrame.from_image(img)  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def tone_wav(seconds: float = 4.0, rate: int = 8000) -> bytes:
    """A mono 440 Hz WAV: a custom audio track the media pipeline accepts."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return buf.getvalue()


def write_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def decoded_codec(path: str | Path) -> str | None:
    """The video codec PyAV decodes from the file at ``path`` (None: no file / not a video)."""
    p = Path(path)
    if not p.exists():
        return None
    with av.open(str(p)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.name if frames > 0 else None


@dataclass
class FakeTask:
    task_id: str
    model: str
    created: datetime
    run_seconds: float
    queue_seconds: float
    fail: tuple[str, str] | None = None
    canceled: bool = False
    request: TaskRequest | None = None

    def status(self, now: datetime) -> TaskStatus:
        if self.canceled:
            return TaskStatus.CANCELED
        age = (now - self.created).total_seconds()
        if age > 86400:
            return TaskStatus.UNKNOWN
        if age < self.queue_seconds:
            return TaskStatus.PENDING
        if age < self.queue_seconds + self.run_seconds:
            return TaskStatus.RUNNING
        return TaskStatus.FAILED if self.fail else TaskStatus.SUCCEEDED

    @property
    def end(self) -> datetime:
        return self.created + timedelta(seconds=self.queue_seconds + self.run_seconds)


@dataclass
class FakeVideoProvider:
    clock: FakeClock
    run_seconds: float = 60.0
    queue_seconds: float = 1.0
    video: bytes = field(default_factory=tiny_mp4)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    create_errors: deque[BaseException | str] = field(default_factory=deque)
    get_errors: deque[BaseException] = field(default_factory=deque)
    list_errors: deque[BaseException] = field(default_factory=deque)
    download_errors: deque[BaseException] = field(default_factory=deque)
    upload_errors: deque[BaseException] = field(default_factory=deque)
    #: what each upload_file stored: oss:// URL → (model, bytes)
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    fail_next: deque[tuple[str, str]] = field(default_factory=deque)
    run_times: deque[float] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _new(self, request: TaskRequest) -> FakeTask:
        task = FakeTask(
            task_id=f"task-{next(self._ids)}",
            model=request.model.id,
            created=self.clock.now(),
            run_seconds=self.run_times.popleft() if self.run_times else self.run_seconds,
            queue_seconds=self.queue_seconds,
            fail=self.fail_next.popleft() if self.fail_next else None,
            request=request,
        )
        self.tasks[task.task_id] = task
        return task

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        self.calls.append("create")
        if self.create_errors:
            err = self.create_errors.popleft()
            if err == "outcome_unknown_created":
                self._new(request)
                raise OutcomeUnknownError(status=500)
            assert isinstance(err, BaseException)
            raise err
        task = self._new(request)
        return TaskInfo(task_id=task.task_id, status=TaskStatus.PENDING)

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        self.calls.append("upload")
        if self.upload_errors:
            raise self.upload_errors.popleft()
        url = f"oss://dashscope-instant/test/{len(self.uploads) + 1}/{media.filename}"
        self.uploads[url] = (model.id, media.data)
        return url

    async def get_task(self, task_id: str) -> TaskInfo:
        self.calls.append("get")
        if self.get_errors:
            raise self.get_errors.popleft()
        task = self.tasks.get(task_id)
        now = self.clock.now()
        if task is None:
            return TaskInfo(task_id=task_id, status=TaskStatus.UNKNOWN)
        status = task.status(now)
        if status is TaskStatus.SUCCEEDED:
            return TaskInfo(
                task_id=task_id,
                status=status,
                video_url=f"https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/{task_id}.mp4",
                orig_prompt=task.request.prompt if task.request else None,
                usage=Usage(seconds=float(task.request.duration or 5) if task.request else 5.0),
                submit_time=task.created,
                end_time=task.end,
            )
        if status is TaskStatus.FAILED:
            assert task.fail is not None
            code, message = task.fail
            error = ProviderError(
                "The image was rejected by content moderation.",
                kind=Kind.MODERATION,
                retryable=False,
                code=code,
            )
            return TaskInfo(task_id=task_id, status=status, code=code, message=message, error=error)
        return TaskInfo(task_id=task_id, status=status, submit_time=task.created)

    async def cancel_task(self, task_id: str) -> None:
        self.calls.append("cancel")
        task = self.tasks[task_id]
        if task.status(self.clock.now()) is not TaskStatus.PENDING:
            raise ProviderError(
                "Only waiting tasks can be canceled.",
                kind=Kind.INVALID_INPUT,
                retryable=False,
                code="UnsupportedOperation",
            )
        task.canceled = True

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        self.calls.append("list")
        if self.list_errors:
            raise self.list_errors.popleft()
        now = self.clock.now()
        return [
            TaskSummary(t.task_id, t.status(now), t.model, t.created)
            for t in self.tasks.values()
            if start <= t.created <= end
            and (model is None or t.model == model)
            and (status is None or t.status(now) is status)
        ]

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        self.calls.append("download")
        if self.download_errors:
            raise self.download_errors.popleft()
        if len(self.video) > max_bytes:
            raise ProviderError("too big", kind=Kind.DOWNLOAD, retryable=False)
        write_file(dest, self.video)
        return len(self.video)

    def count(self, kind: str) -> int:
        return self.calls.count(kind)


@dataclass
class RecordingPort:
    """A DeliveryPort that records what it was asked to post; errors can be scripted.

    ``limit`` is the upload limit it reports (per job id in ``limits``, else ``limit``)."""

    limit: int = 1 << 40
    limits: dict[int, int] = field(default_factory=dict)
    progress: list[tuple[int, str]] = field(default_factory=list)
    results: list[JobView] = field(default_factory=list)
    failures: list[JobView] = field(default_factory=list)
    errors: deque[DeliveryError] = field(default_factory=deque)
    posted: dict[int, str] = field(default_factory=dict)

    def _maybe_fail(self) -> None:
        if self.errors:
            raise self.errors.popleft()

    async def post_progress(self, job: JobView) -> None:
        self._maybe_fail()
        self.progress.append((job.id, job.status.value))

    async def upload_limit(self, job: JobView) -> int:
        return self.limits.get(job.id, self.limit)

    async def post_result(self, job: JobView) -> str:
        self._maybe_fail()
        self.results.append(job)
        self.posted[job.id] = f"msg-{job.id}"
        return self.posted[job.id]

    async def post_failure(self, job: JobView) -> str:
        self._maybe_fail()
        self.failures.append(job)
        self.posted[job.id] = f"msg-{job.id}"
        return self.posted[job.id]

    async def find_posted(self, job: JobView) -> str | None:
        return self.posted.get(job.id)
