"""One world for end-to-end tests: fake Discord + DashScope emulator + real SQLite + real bot.

The runtime comes from ``bot.builder`` as in production. Time is a shared fake clock (the
emulator's task progress and the engine's schedule both read it); the worker is driven one tick
at a time with ``World.drive`` instead of sleeping (its loop is not started: a tick woken by a
submit would race the test's own).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image

from bot.bot import AnimateBot
from bot.builder import Runtime, build
from bot.log import configure_logging
from bot.settings import DashScopeSettings, Settings, from_env
from core.app.service import AnimateService
from core.domain.catalog import Region
from core.domain.quota import Limits
from core.engine.config import EngineConfig, PassReport
from core.engine.worker import Tick, Worker
from emulator import Emulator
from playground.fakediscord import (
    ChannelType,
    FakeAttachment,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMessage,
    FakeUser,
)

API_KEY = "sk-e2e-test-key-0123456789"


class SharedClock:
    """``now()`` for the engine (aware UTC) and ``()`` for the emulator (epoch seconds)."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def advance(self, seconds: float) -> None:
        self.t += seconds


def png(
    width: int = 320, height: int = 240, colour: tuple[int, int, int] = (30, 140, 200)
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Running:
    bot: AnimateBot
    rt: Runtime
    task: asyncio.Task[None]
    stack: AsyncExitStack

    @property
    def service(self) -> AnimateService:
        return self.rt.service

    @property
    def worker(self) -> Worker:
        return self.rt.worker


@dataclass
class World:
    fake: FakeDiscord
    emu: Emulator
    clock: SharedClock
    tmp: Path
    session: aiohttp.ClientSession
    guild: FakeGuild
    text: FakeChannel
    alice: FakeUser
    running: Running | None = None
    config: EngineConfig = field(default_factory=lambda: EngineConfig(progress_interval=10.0))
    #: the operator's LIMIT_* settings (None: no limits)
    limits: Limits | None = None
    #: environment variables to read the settings from instead (``bot.settings.from_env``)
    env: dict[str, str] | None = None
    #: the DashScope region the bot runs against (``DASHSCOPE_REGION``)
    region: Region = Region.BEIJING

    @property
    def db(self) -> Path:
        return self.tmp / "data" / "animate.db"

    @property
    def bot(self) -> AnimateBot:
        assert self.running is not None
        return self.running.bot

    @property
    def service(self) -> AnimateService:
        assert self.running is not None
        return self.running.service

    async def start_bot(
        self, *, heartbeat: Callable[[], None] | None = None, **bot_options: Any
    ) -> Running:
        stack = AsyncExitStack()
        limits = self.limits or Limits()
        settings = (
            self.settings_from_env()
            if self.env is not None
            else Settings(
                dashscope=DashScopeSettings(
                    api_key=API_KEY, base_url_override=self.emu.base_url, region=self.region
                ),
                database_path=self.db,
                media_dir=self.tmp / "data" / "media",
                limit_user_active_jobs=limits.active_jobs,
                limit_user_daily_seconds=limits.daily_seconds,
                limit_cooldown_seconds=limits.cooldown_seconds,
                limit_guild_monthly_budget=limits.monthly_budget,
            )
        )
        rt = await stack.enter_async_context(
            build(
                settings,
                clock=self.clock,
                config=self.config,
                session=self.session,
                attempts=3,
                retry_delay=0.0,
                heartbeat=heartbeat,
                media_workers=1,
            )
        )
        bot = AnimateBot(
            service=rt.service,
            router=rt.router,
            region=self.region,
            state_dir=self.db.parent,
            guild_ready_timeout=0.1,
            **bot_options,
        )
        task = asyncio.create_task(bot.start(self.fake.token))
        running = Running(bot, rt, task, stack)
        ready = asyncio.ensure_future(bot.wait_until_ready())
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            await stack.aclose()
            task.result()  # raises what stopped the bot
        await asyncio.wait_for(ready, 10)
        # what the worker's loop does first: recover, then one tick
        await rt.worker.recover()
        await rt.worker.tick()
        self.running = running
        return running

    def settings_from_env(self) -> Settings:
        """The settings ``animate-bot run`` would read from an environment holding ``env``."""
        base = {
            "DASHSCOPE_API_KEY": API_KEY,
            "DASHSCOPE_BASE_URL": self.emu.base_url,
            "DATABASE_PATH": str(self.db),
            "MEDIA_DIR": str(self.tmp / "data" / "media"),
        }
        return from_env({**base, **(self.env or {})}, need_frontend=False)

    async def stop_bot(self) -> None:
        running, self.running = self.running, None
        if running is None:
            return
        await running.bot.close()
        await running.task
        await running.stack.aclose()

    async def drive(self, until: Callable[[], Any], *, step: float = 15.0, passes: int = 40) -> Any:
        """Advance fake time and run delivery passes until ``until()`` is truthy."""
        assert self.running is not None
        for _ in range(passes):
            if result := until():
                return result
            self.clock.advance(step)
            await self.tick()
        result = until()
        assert result, f"condition not reached after {passes} passes"
        return result

    async def poll(self) -> PassReport:
        """One engine pass alone (nothing is delivered)."""
        assert self.running is not None
        return await self.running.rt.engine.poll_once(self.clock.now())

    async def tick(self) -> Tick:
        """One worker tick: an engine pass and a delivery pass."""
        assert self.running is not None
        return await self.running.worker.tick()

    # ------------------------------------------------------------------ user actions
    def image(
        self, data: bytes | None = None, name: str = "cat.png", ctype: str = "image/png"
    ) -> FakeAttachment:
        data = png() if data is None else data
        return self.fake.add_attachment(data, name, ctype, width=320, height=240)

    async def animate(
        self, *, channel: FakeChannel | None = None, user: FakeUser | None = None, **options: Any
    ) -> Any:
        """Run ``/animate`` and wait until the command finished (either way)."""
        options.setdefault("image", self.image())
        options.setdefault("prompt", "the cat waves")
        return await self.run_slash("animate", channel=channel, user=user, **options)

    async def run_slash(
        self,
        name: str,
        *,
        channel: FakeChannel | None = None,
        user: FakeUser | None = None,
        subcommand: str | None = None,
        named: dict[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        done = asyncio.get_running_loop().create_future()

        async def on_completion(*_: Any) -> None:
            if not done.done():
                done.set_result(True)

        self.bot.add_listener(on_completion, "on_app_command_completion")
        try:
            inter = await self.fake.slash(
                name,
                channel or self.text,
                user or self.alice,
                subcommand=subcommand,
                named=named,
                **options,
            )
            # success fires app_command_completion; a refusal ends in an ephemeral followup
            waiter = asyncio.ensure_future(
                self.fake.wait_for(
                    lambda: (
                        inter.followups or (inter.responses and inter.responses[0].get("type") == 4)
                    )
                )
            )
            try:
                await asyncio.wait_for(
                    asyncio.wait({done, waiter}, return_when=asyncio.FIRST_COMPLETED), 15
                )
            finally:
                waiter.cancel()
        finally:
            self.bot.remove_listener(on_completion, "on_app_command_completion")
        return inter

    def thread_of(self, status: FakeMessage) -> FakeChannel | None:
        return self.fake.channels.get(status.id)


@contextlib.contextmanager
def captured_logs(secrets: Iterable[str]) -> Iterator[io.StringIO]:
    """The runner's logging at DEBUG into a buffer, discord.py's DEBUG chatter included.

    ``configure_logging`` is what ``animate-bot run`` installs; discord.py is raised to DEBUG
    on top (the worst case: every gateway event and request URL). Restored afterwards.
    """
    root, chatty = logging.getLogger(), logging.getLogger("discord")
    saved = (root.handlers[:], root.level, chatty.level)
    out = io.StringIO()
    try:
        configure_logging("DEBUG", secrets=secrets, stream=out)
        chatty.setLevel(logging.DEBUG)
        yield out
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        chatty.setLevel(saved[2])


def button(msg: FakeMessage, action: str) -> str:
    """The ``custom_id`` of the ``action`` button ("cancel", "regen", "show") on ``msg``."""
    ids = [str(c["custom_id"]) for row in msg.components for c in row.get("components", [])]
    return next(i for i in ids if i.startswith(f"animate:{action}:"))


def results_in(fake: FakeDiscord, channel: FakeChannel) -> list[FakeMessage]:
    """Result / failure posts (they carry the job marker in an embed footer)."""
    return [
        m
        for m in fake.messages_in(channel)
        if any("animate job #" in ((e.get("footer") or {}).get("text") or "") for e in m.embeds)
    ]


def new_world_channels(fake: FakeDiscord) -> tuple[FakeGuild, FakeChannel]:
    guild = fake.add_guild("test guild")
    text = fake.add_channel(guild, ChannelType.GUILD_TEXT, "general")
    return guild, text
