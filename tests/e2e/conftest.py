from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from emulator import Emulator, EmulatorConfig
from playground.fakediscord import FakeDiscord
from tests.e2e.harness import API_KEY, SharedClock, World, new_world_channels
from tests.e2e.slack_world import SlackWorld
from tests.fakeslack import FakeSlack


@pytest.fixture
def emulator_overrides() -> dict[str, Any]:
    """Override per test with ``@pytest.mark.parametrize("emulator_overrides", [{...}])``."""
    return {}


def emulator_config(clock: SharedClock, overrides: dict[str, Any]) -> EmulatorConfig:
    settings: dict[str, Any] = {
        "api_key": API_KEY,
        "clock": clock,
        "duration_sigma": 0.0,
        "queue_delay": 0.0,
        "durations": {"wan2.6-i2v-flash": 20.0, "wanx2.1-i2v-plus": 20.0, "wan2.2-i2v-flash": 20.0},
        "seed": 7,
        "render_max_side": 96,  # tiny MP4s keep the suite fast
    }
    settings.update(overrides)
    return EmulatorConfig(**settings)


@pytest.fixture
async def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator_overrides: dict[str, Any]
) -> AsyncIterator[World]:
    clock = SharedClock()
    emu_config = emulator_config(clock, emulator_overrides)
    async with (
        FakeDiscord() as fake,
        Emulator(emu_config) as emu,
        aiohttp.ClientSession() as session,
    ):
        # the only redirection: discord.py's own two class attributes (no code under test changes)
        monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", fake.gateway_url)
        guild, text = new_world_channels(fake)
        w = World(fake, emu, clock, tmp_path, session, guild, text, fake.user("alice"))
        try:
            yield w
        finally:
            await w.stop_bot()


@pytest.fixture
async def slack_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator_overrides: dict[str, Any]
) -> AsyncIterator[SlackWorld]:
    """The Slack world (not started: ``await slack_world.start()``)."""
    # slack_sdk hands $HTTP(S)_PROXY to aiohttp itself: loopback traffic must not go there
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    clock = SharedClock()
    async with (
        FakeSlack(clock=clock) as slack,
        Emulator(emulator_config(clock, emulator_overrides)) as emu,
        aiohttp.ClientSession() as session,
    ):
        alice = slack.add_user("alice")
        general = slack.add_channel("general", members=[alice])
        w = SlackWorld(slack, emu, clock, tmp_path, session, alice, general)
        try:
            yield w
        finally:
            await w.stop()
