"""The engine wired to real things: the emulator on 127.0.0.1, the real DashScope client, a real
SQLite file, all on one simulated clock (the emulator reads it as epoch seconds, the engine as an
aware datetime)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from core.catalog import Region
from core.errors import ProviderError
from core.lifecycle import EngineConfig
from core.media.pool import MediaPool
from core.service import AnimateService
from core.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary
from emulator import Emulator, EmulatorConfig
from providers.dashscope import DashScopeClient
from storage.sqlite import SqliteJobStore

KEY = "sk-engine-test"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


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

    inner: DashScopeClient
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

    async def upload_file(self, model: str, media: MediaFile) -> str:
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


@dataclass
class Stack:
    emulator: Emulator
    provider: CountingProvider
    store: SqliteJobStore
    service: AnimateService
    clock: SimClock


def emulator_config(clock: SimClock, **overrides: Any) -> EmulatorConfig:
    settings: dict[str, Any] = {
        "api_key": KEY,
        "clock": clock,
        "seed": 7,
        "render_max_side": 96,
        "queue_delay": 1.0,
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@asynccontextmanager
async def engine_stack(
    tmp_path: Path,
    clock: SimClock,
    *,
    config: EngineConfig | None = None,
    emulator: Emulator | None = None,
    base_url: str | None = None,
    **emu_overrides: Any,
) -> AsyncIterator[Stack]:
    own = emulator is None and base_url is None
    emu = emulator or Emulator(emulator_config(clock, **emu_overrides))
    if own:
        await emu.start()
    pool = MediaPool(max_workers=1)
    try:
        async with (
            aiohttp.ClientSession() as session,
            SqliteJobStore.open(tmp_path / "animate.db") as store,
        ):
            # attempts=1: the engine owns retries and backoff, on its own (simulated) clock
            client = DashScopeClient(
                session, api_key=KEY, base_url=base_url or emu.base_url, attempts=1, retry_delay=0
            )
            provider = CountingProvider(client, clock)
            service = AnimateService(
                provider=provider,
                store=store,
                clock=clock,
                media_dir=tmp_path / "media",
                region=Region.BEIJING,
                config=config,
                media=pool,
            )
            yield Stack(emu, provider, store, service, clock)
    finally:
        await pool.aclose()
        if own:
            await emu.close()
