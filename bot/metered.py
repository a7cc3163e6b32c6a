"""Wrappers that count and time what passes through the engine's ports (``bot.metrics``).

They change nothing: every call goes to the wrapped port with the same arguments, its answer or
its exception comes back as is.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from prometheus_client import Counter, Histogram

from core.domain.errors import AnimateError, ProviderError
from core.domain.jobs import JobView
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from core.ports import DeliveryError, DeliveryPort, VideoProvider

if TYPE_CHECKING:
    from core.domain.catalog import Model

T = TypeVar("T")


class MeteredProvider:
    """Counts every DashScope call, and each failure by DashScope's error code."""

    def __init__(self, inner: VideoProvider, requests: Counter, errors: Counter) -> None:
        self.inner = inner
        self._requests = requests
        self._errors = errors

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        self._requests.labels(operation).inc()
        try:
            return await call()
        except ProviderError as exc:
            self._errors.labels(operation, exc.code or exc.kind.value).inc()
            raise
        except AnimateError as exc:
            self._errors.labels(operation, exc.kind.value).inc()
            raise

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        return await self._call("create", lambda: self.inner.create_task(request))

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        return await self._call("upload", lambda: self.inner.upload_file(model, media))

    async def get_task(self, task_id: str) -> TaskInfo:
        return await self._call("get", lambda: self.inner.get_task(task_id))

    async def cancel_task(self, task_id: str) -> None:
        await self._call("cancel", lambda: self.inner.cancel_task(task_id))

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]:
        return await self._call(
            "list",
            lambda: self.inner.list_tasks(start=start, end=end, model=model, status=status),
        )

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        return await self._call(
            "download", lambda: self.inner.download(url, dest, max_bytes=max_bytes)
        )


@dataclass(frozen=True, slots=True)
class PortMeters:
    """What every metered port feeds (labels: platform, kind / model, region, currency)."""

    posts: Histogram
    failures: Counter
    video_seconds: Counter
    cost: Counter

    def delivered(self, job: JobView) -> None:
        """A result was posted: count what it was billed."""
        model, region = job.spec.model, job.region
        if job.usage_seconds is not None:
            self.video_seconds.labels(model, region).inc(job.usage_seconds)
        if job.cost is not None:
            self.cost.labels(model, region, job.currency).inc(job.cost)


class MeteredPort:
    """Times each post and counts its failures; a posted result adds its billed seconds and
    cost."""

    def __init__(self, inner: DeliveryPort, platform: str, meters: PortMeters) -> None:
        self.inner = inner
        self.platform = platform
        self._meters = meters

    async def _post(self, kind: str, call: Callable[[], Awaitable[str]]) -> str:
        start = time.perf_counter()
        try:
            posted = await call()
        except DeliveryError as exc:
            self._meters.failures.labels(self.platform, str(exc.permanent).lower()).inc()
            raise
        self._meters.posts.labels(self.platform, kind).observe(time.perf_counter() - start)
        return posted

    async def post_progress(self, job: JobView) -> None:
        await self.inner.post_progress(job)

    async def upload_limit(self, job: JobView) -> int:
        return await self.inner.upload_limit(job)

    async def post_result(self, job: JobView) -> str:
        posted = await self._post("result", lambda: self.inner.post_result(job))
        self._meters.delivered(job)
        return posted

    async def post_failure(self, job: JobView) -> str:
        return await self._post("failure", lambda: self.inner.post_failure(job))

    async def find_posted(self, job: JobView) -> str | None:
        return await self.inner.find_posted(job)
