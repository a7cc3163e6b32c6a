from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.catalog import Region
from core.lifecycle import EngineConfig
from core.media.pool import MediaPool
from core.service import AnimateService
from storage.sqlite import SqliteJobStore
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(clock: FakeClock) -> FakeVideoProvider:
    return FakeVideoProvider(clock=clock)


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteJobStore]:
    async with SqliteJobStore.open(tmp_path / "db" / "animate.db") as s:
        yield s


@pytest.fixture
def config() -> EngineConfig:
    return EngineConfig()


@pytest.fixture
async def service(
    tmp_path: Path,
    store: SqliteJobStore,
    provider: FakeVideoProvider,
    clock: FakeClock,
    config: EngineConfig,
) -> AsyncIterator[AnimateService]:
    pool = MediaPool(max_workers=1)
    yield AnimateService(
        provider=provider,
        store=store,
        clock=clock,
        media_dir=tmp_path / "media",
        region=Region.BEIJING,
        config=config,
        media=pool,
    )
    await pool.aclose()
