"""The engine wired to real things through the builder: the emulator on 127.0.0.1, the real
DashScope client, a real SQLite file, all on one simulated clock (the emulator reads it as epoch
seconds, the engine as an aware datetime)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._support import CountingProvider, SimClock
from core.domain.catalog import Region
from core.domain.pricing import PriceOverrides
from core.engine.config import EngineConfig
from core.ports import JobStore, VideoProvider
from emulator import Emulator, EmulatorConfig
from tests.core.rig import Rig, open_rig

KEY = "sk-engine-test"


@dataclass
class Stack:
    emulator: Emulator
    provider: CountingProvider
    store: JobStore
    service: Rig
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
    region: Region = Region.BEIJING,
    price_overrides: PriceOverrides | None = None,
    **emu_overrides: Any,
) -> AsyncIterator[Stack]:
    own = emulator is None and base_url is None
    emu = emulator or Emulator(emulator_config(clock, **emu_overrides))
    if own:
        await emu.start()
    counting: list[CountingProvider] = []

    def count(inner: VideoProvider) -> VideoProvider:
        counting.append(CountingProvider(inner, clock))
        return counting[0]

    try:
        # attempts=1: the engine owns retries and backoff, on its own (simulated) clock
        rig = await open_rig(
            tmp_path,
            clock=clock,
            config=config,
            base_url=base_url or emu.base_url,
            api_key=KEY,
            wrap_provider=count,
            retry_delay=0,
            database=tmp_path / "animate.db",
            region=region,
            price_overrides=price_overrides,
        )
        try:
            yield Stack(emu, counting[0], rig.rt.store, rig, clock)
        finally:
            await rig.aclose()
    finally:
        if own:
            await emu.close()
