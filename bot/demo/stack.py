"""The playground's world: the DashScope emulator, the fake Discord and the real bot over them.

The bot is the production one: the runtime from ``bot.builder.build`` (SQLite in ``data_dir``),
the ``AnimateBot`` client with its cogs, logged in to the fake Discord through discord.py's own
two endpoint attributes, and the worker's loop on the real clock. Only the outside world is
stood in for; the emulator's tasks take seconds instead of minutes so the page feels live.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import discord
import yarl

from bot.bot import AnimateBot
from bot.builder import Runtime, build
from bot.settings import DashScopeSettings, Settings
from core.domain.catalog import Region, models_in
from core.domain.durations import DurationKey, DurationStats
from core.engine.config import EngineConfig
from emulator import MODELS, Emulator, EmulatorConfig
from playground.fakediscord import ChannelType, FakeChannel, FakeDiscord, FakeUser

#: the key the bot sends and the emulator expects (both local: not a secret of anyone's)
DEMO_KEY = "sk-playground-local-0000000000"
#: how long an emulated task runs (real seconds), before a small random spread
TASK_SECONDS = 4.0
#: how long it waits in the video service's queue first (DashScope cancels only queued tasks:
#: long enough to try Cancel)
QUEUE_SECONDS = 1.5
#: longest side of the emulator's rendered frames: small files, quick to make on two cores
RENDER_MAX_SIDE = 480
#: how many finished tasks the seeded generation times are worth
KNOWN_SAMPLES = 20
#: how long the client may take to log in to the fake and see its guild
READY_WITHIN = 20.0


@dataclass(frozen=True, slots=True)
class Demo:
    """The running playground: what the page and the scripted run act on."""

    fake: FakeDiscord
    emulator: Emulator
    runtime: Runtime
    bot: AnimateBot
    channel: FakeChannel
    user: FakeUser


@contextlib.contextmanager
def discord_endpoints(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py at the fake (the same two attributes ``DISCORD_API_BASE`` and
    ``DISCORD_GATEWAY_URL`` set in ``bot.runner``); restored afterwards."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(fake.gateway_url))
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


def emulator_config(task_seconds: float, queue_seconds: float) -> EmulatorConfig:
    return EmulatorConfig(
        api_key=DEMO_KEY,
        durations=dict.fromkeys(MODELS, task_seconds),
        duration_sigma=0.15,
        queue_delay=queue_seconds,
        render_max_side=RENDER_MAX_SIDE,
    )


@contextlib.asynccontextmanager
async def demo_stack(
    data_dir: Path, *, task_seconds: float = TASK_SECONDS, queue_seconds: float = QUEUE_SECONDS
) -> AsyncIterator[Demo]:
    """Start everything; on exit the worker and the client stop before the stores close."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(
            Emulator(emulator_config(task_seconds, queue_seconds))
        )
        fake = await stack.enter_async_context(FakeDiscord())
        guild = fake.add_guild("animate-bot playground")
        channel = fake.add_channel(guild, ChannelType.GUILD_TEXT, "playground")
        user = fake.user("you")
        stack.enter_context(discord_endpoints(fake))
        settings = Settings(
            dashscope=DashScopeSettings(api_key=DEMO_KEY, base_url_override=emu.base_url),
            database_path=data_dir / "animate.db",
            media_dir=data_dir / "media",
        )
        # status edits as often as the states change (production: at most one per 10 s), and
        # looks at a task at least every second: the catalog's priors expect minutes
        config = EngineConfig(progress_interval=1.0, poll_ceiling=1.0)
        rt = await stack.enter_async_context(build(settings, config=config, interval=1.0))
        await _known_times(rt, settings.dashscope.region, task_seconds + queue_seconds)
        bot = AnimateBot(
            service=rt.service,
            router=rt.router,
            region=settings.dashscope.region,
            state_dir=data_dir,
            guild_ready_timeout=0.1,
        )
        client = asyncio.create_task(bot.start(fake.token), name="discord-client")
        stack.push_async_callback(_stop_client, bot, client)
        await _ready(bot, client)
        worker = asyncio.create_task(rt.worker.run(), name="worker")
        stack.push_async_callback(_stop_worker, rt, worker)
        yield Demo(fake, emu, rt, bot, channel, user)


async def _known_times(rt: Runtime, region: Region, seconds: float) -> None:
    """Tell the bot how long this service takes, as if it had watched many tasks finish.

    Its beliefs start from the catalog's priors (minutes, as on DashScope), so the status
    message would promise a video "in 2 minutes" that comes in seconds. The beliefs live in
    the store; the playground's store is its own."""
    stats = DurationStats(samples=KNOWN_SAMPLES, log_mean=math.log(seconds), log_var=0.02)
    now = rt.clock.now()
    for model in models_in(region):
        for resolution in model.resolutions:
            for duration in model.durations:
                key = DurationKey(model.id, resolution, duration)
                await rt.store.save_duration_stats(key, stats, now)


async def _ready(bot: AnimateBot, client: asyncio.Task[None]) -> None:
    ready = asyncio.ensure_future(bot.wait_until_ready())
    await asyncio.wait({client, ready}, timeout=READY_WITHIN, return_when=asyncio.FIRST_COMPLETED)
    if client.done():
        ready.cancel()
        client.result()  # raises what stopped the client
        raise RuntimeError("the Discord client stopped before it was ready")
    if not ready.done():
        ready.cancel()
        raise RuntimeError(f"the Discord client was not ready within {READY_WITHIN:g} s")


async def _stop_client(bot: AnimateBot, client: asyncio.Task[None]) -> None:
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        await client


async def _stop_worker(rt: Runtime, worker: asyncio.Task[None]) -> None:
    rt.worker.stop()
    await worker
