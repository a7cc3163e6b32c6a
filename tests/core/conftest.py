from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.engine.config import EngineConfig
from storage.sqlite import SqliteJobStore
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort
from tests.core.rig import Rig, open_rig


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
) -> AsyncIterator[Rig]:
    rig = await open_rig(tmp_path, provider=provider, clock=clock, store=store, config=config)
    yield rig
    await rig.aclose()
