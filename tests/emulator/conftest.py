"""Fixtures for the emulator tests: a fake clock, a started emulator and an aiohttp session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import dashscope
import pytest

from emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import SDK_FAST, EmulatorFactory, FakeClock

_AMBIENT = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
    "DASHSCOPE_API_KEY", "DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_BASE_URL", "DASHSCOPE_API_REGION",
)  # fmt: skip


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


@pytest.fixture
def local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the official SDK on loopback: no proxies, no ambient keys or base URLs."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(dashscope, "api_key", None)


@pytest.fixture
def threaded(local_only: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """An SDK-speed emulator on its own thread, set as the SDK 1.x base URL."""
    with Emulator(SDK_FAST).run_in_thread() as emu:
        monkeypatch.setattr(dashscope, "base_http_api_url", emu.base_url)  # restored by monkeypatch
        yield emu
