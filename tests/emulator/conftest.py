"""Fixtures for the emulator tests: a fake clock, a started emulator and an aiohttp session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import EmulatorFactory, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_emulator(clock: FakeClock) -> AsyncIterator[EmulatorFactory]:
    started: list[Emulator] = []

    async def factory(**overrides: Any) -> Emulator:
        settings: dict[str, Any] = {
            "clock": clock,
            "duration_sigma": 0.0,
            "queue_delay": 0.0,
            "seed": 7,
            "render_max_side": None,
        }
        settings.update(overrides)
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        await emu.close()


@pytest.fixture
async def emu(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
