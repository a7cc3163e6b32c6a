"""A test rig: the runtime ``bot.builder`` assembles, driven one pass at a time.

Tests submit through the facade (``rig.submit`` … are ``AnimateService`` calls) and drive the
engine themselves on a fake clock: ``poll_once`` is one engine pass, ``deliver_once(port)`` one
delivery pass through the router with ``port`` registered for the job's platform. Each lets go
of the leases of finished work afterwards, as the worker's tick does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.builder import Runtime, build
from bot.settings import DashScopeSettings, Settings
from core.app.service import AnimateService
from core.domain.catalog import Region
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.pricing import PriceOverrides
from core.domain.quota import Limits
from core.engine.config import EngineConfig, PassReport
from core.media.pool import MediaPool
from core.ports import Clock, DeliveryPort, JobStore, VideoProvider
from tests.core.fakes import FakeClock, RecordingPort

PLATFORM = "discord"


def settings_for(
    tmp_path: Path,
    *,
    region: Region = Region.BEIJING,
    limit: int = 0,
    api_key: str = "sk-test",
    base_url: str | None = None,
    database: Path | None = None,
    media_dir: Path | None = None,
    price_overrides: PriceOverrides | None = None,
    limits: Limits | None = None,
    events_token: str | None = None,
) -> Settings:
    """``limit``: LIMIT_USER_ACTIVE_JOBS alone; ``limits``: every operator limit."""
    lim = limits or Limits(active_jobs=limit)
    return Settings(
        dashscope=DashScopeSettings(api_key=api_key, region=region, base_url_override=base_url),
        database_path=database or tmp_path / "db" / "animate.db",
        media_dir=media_dir or tmp_path / "media",
        price_overrides=price_overrides or PriceOverrides(),
        limit_user_active_jobs=lim.active_jobs,
        limit_user_daily_seconds=lim.daily_seconds,
        limit_cooldown_seconds=lim.cooldown_seconds,
        limit_guild_monthly_budget=lim.monthly_budget,
        events_token=events_token,
    )


class Rig:
    def __init__(self, rt: Runtime, stack: AsyncExitStack) -> None:
        self.rt = rt
        self._stack = stack
        self._port: DeliveryPort | None = None

    @property
    def service(self) -> AnimateService:
        return self.rt.service

    @property
    def store(self) -> JobStore:
        return self.rt.store

    def __getattr__(self, name: str) -> Any:
        # the facade's calls: rig.submit(...), rig.get(...), rig.cancel(...)
        return getattr(self.rt.service, name)

    async def poll_once(self, now: datetime | None = None) -> PassReport:
        report = await self.rt.engine.poll_once(now or self.rt.clock.now())
        await self.rt.context.leases.release_idle()
        return report

    async def deliver_once(self, port: DeliveryPort, now: datetime | None = None) -> int:
        if port is not self._port:
            self.rt.router.unregister(PLATFORM)
            self.rt.router.register(PLATFORM, port)
            self._port = port
        delivered = await self.rt.deliverer.deliver_once(now or self.rt.clock.now())
        await self.rt.context.leases.release_idle()
        return delivered

    async def recover(self) -> None:
        await self.rt.worker.recover()

    async def drain(self) -> None:
        await self.rt.engine.drain()

    async def aclose(self) -> None:
        await self._stack.aclose()


async def open_rig(
    tmp_path: Path,
    *,
    clock: Clock,
    provider: VideoProvider | None = None,
    wrap_provider: Callable[[VideoProvider], VideoProvider] | None = None,
    base_url: str | None = None,
    api_key: str = "sk-test",
    session: aiohttp.ClientSession | None = None,
    attempts: int = 1,
    retry_delay: float = 0.5,
    database: Path | None = None,
    store: JobStore | None = None,
    config: EngineConfig | None = None,
    media: MediaPool | None = None,
    region: Region = Region.BEIJING,
    limit: int = 0,
    limits: Limits | None = None,
    intakes: int = 4,
    media_dir: Path | None = None,
    price_overrides: PriceOverrides | None = None,
    events_token: str | None = None,
) -> Rig:
    """The runtime over ``store`` (or a new SQLite file) with ``provider`` (or the real client
    on ``base_url``, wrapped by ``wrap_provider``); ``aclose`` it."""
    stack = AsyncExitStack()
    settings = settings_for(
        tmp_path,
        region=region,
        limit=limit,
        limits=limits,
        media_dir=media_dir,
        api_key=api_key,
        base_url=base_url,
        database=database,
        price_overrides=price_overrides,
        events_token=events_token,
    )
    rt = await stack.enter_async_context(
        build(
            settings,
            clock=clock,
            config=config or EngineConfig(),
            store=store,
            provider=provider,
            wrap_provider=wrap_provider,
            session=session,
            attempts=attempts,
            retry_delay=retry_delay,
            media=media,
            media_workers=1,
            intakes=intakes,
        )
    )
    return Rig(rt, stack)


CHAT = ChatRef(platform="discord", user="u1", channel="c1", guild="g1")
SPEC = JobSpec(model="wan2.6-i2v-flash", prompt="a cat surfing", resolution="", duration=0)


async def run_until(
    service: Rig,
    clock: FakeClock,
    port: RecordingPort,
    done: set[JobStatus],
    job_ids: list[int],
    *,
    step: float = 1.0,
    limit: int = 2000,
    deliver: bool = True,
) -> None:
    for _ in range(limit):
        await service.poll_once()
        if deliver:
            await service.deliver_once(port)
        views = [await service.get(i) for i in job_ids]
        if all(v is not None and v.status in done for v in views):
            return
        clock.advance(step)
    raise AssertionError(f"jobs did not reach {done}: {[await service.get(i) for i in job_ids]}")
