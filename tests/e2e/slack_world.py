"""One world for Slack end-to-end tests: the fake Slack + the DashScope emulator + real SQLite +
the real Bolt app, assembled by ``bot.builder`` as in production.

Time is one simulated clock shared by the emulator, the engine and the fake Slack (trigger ids,
ack windows, rate windows and file shares run on it); the worker is driven one tick at a time
(``drive``). The clock only moves between user interactions, never while Slack waits for an ack.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import av

from bot.builder import Runtime, build, slack_frontend
from bot.settings import DashScopeSettings, Settings, SlackSettings
from core.domain.quota import Limits
from core.engine.config import EngineConfig
from core.engine.worker import Tick
from emulator import Emulator
from slackapp.frontend import SlackFrontEnd
from tests.e2e.harness import API_KEY, SharedClock, png
from tests.fakeslack import FakeChannel, FakeFile, FakeMessage, FakeSlack, FakeUser, FakeView


def slack_settings(slack: FakeSlack) -> SlackSettings:
    return SlackSettings(slack.bot_token, slack.app_token, slack.api_url)


def status_messages(slack: FakeSlack, channel: FakeChannel) -> list[FakeMessage]:
    """The bot's status messages (tagged ``role: status``), top level and in threads."""
    return [
        m
        for m in channel.messages.values()
        if (m.metadata or {}).get("event_payload", {}).get("role") == "status"
        and m.user == slack.bot_user.id
    ]


def videos_in(slack: FakeSlack, channel: FakeChannel, thread_ts: str) -> list[FakeMessage]:
    """File messages of the bot in one thread that carry an MP4."""
    return [
        m
        for m in slack.thread(channel, thread_ts)
        if m.user == slack.bot_user.id and any(f.name.endswith(".mp4") for f in m.files)
    ]


def decode(data: bytes) -> int:
    """Frames PyAV decodes from an MP4 (and its codec is H.264)."""
    with av.open(io.BytesIO(data), "r") as container:
        assert container.streams.video[0].codec_context.name == "h264"
        return sum(1 for _ in container.decode(video=0))


def creates(emu: Emulator) -> list[dict[str, Any]]:
    """The create requests DashScope received (their bodies), in order."""
    return [
        r.json
        for r in emu.request_log
        if r.method == "POST" and r.path.endswith("/video-synthesis")
    ]


def job_of(message: FakeMessage) -> int:
    return int((message.metadata or {})["event_payload"]["job_id"])


@dataclass
class SlackWorld:
    slack: FakeSlack
    emu: Emulator
    clock: SharedClock
    tmp: Path
    session: aiohttp.ClientSession
    alice: FakeUser
    general: FakeChannel
    config: EngineConfig = field(default_factory=lambda: EngineConfig(progress_interval=10.0))
    limits: Limits | None = None
    rt: Runtime | None = None
    front: SlackFrontEnd | None = None
    _stack: AsyncExitStack | None = None

    @property
    def settings(self) -> Settings:
        return Settings(
            dashscope=DashScopeSettings(api_key=API_KEY, base_url_override=self.emu.base_url),
            slack=slack_settings(self.slack),
            database_path=self.tmp / "data" / "animate.db",
            media_dir=self.tmp / "data" / "media",
            limit_user_active_jobs=self.limits.active_jobs if self.limits else 0,
        )

    async def start(self, *, ack_budget: float = 2.0, **build_options: Any) -> Runtime:
        settings = self.settings
        assert settings.slack is not None
        connections = len(self.slack.socket.connections)
        async with AsyncExitStack() as stack:
            rt = await stack.enter_async_context(
                build(
                    settings,
                    clock=self.clock,
                    config=self.config,
                    session=self.session,
                    attempts=3,
                    retry_delay=0.0,
                    media_workers=1,
                    **build_options,
                )
            )
            front = await stack.enter_async_context(
                slack_frontend(
                    rt,
                    settings.slack,
                    session=self.session,
                    ack_budget=ack_budget,
                    share_waits=(0.0,),
                )
            )
            await self.slack.wait_for(lambda: len(self.slack.socket.connections) > connections)
            # what the worker's loop does first: recover, then one tick
            await rt.worker.recover()
            await rt.worker.tick()
            self.rt, self.front, self._stack = rt, front, stack.pop_all()
        return rt

    async def stop(self) -> None:
        stack, self._stack, self.rt, self.front = self._stack, None, None, None
        if stack is not None:
            await stack.aclose()

    async def tick(self) -> Tick:
        assert self.rt is not None
        return await self.rt.worker.tick()

    async def drive(self, until: Callable[[], Any], *, step: float = 15.0, passes: int = 40) -> Any:
        """Advance simulated time and run worker ticks until ``until()`` is truthy."""
        for _ in range(passes):
            if result := until():
                return result
            self.clock.advance(step)
            await self.tick()
        result = until()
        assert result, f"condition not reached after {passes} passes"
        return result

    # ------------------------------------------------------------------ a person using Slack
    async def open_form(
        self, user: FakeUser | None = None, channel: FakeChannel | None = None, text: str = ""
    ) -> None:
        user, channel = user or self.alice, channel or self.general
        env = await self.slack.wait_acked(await self.slack.command(user, channel, text))
        assert env.outcome == "acked", env.outcome
        await self.slack.wait_for(lambda: self.slack.open_view(user))

    async def choose_model(self, model_id: str, user: FakeUser | None = None) -> FakeView:
        """Pick ``model_id`` in the open /animate form; the form, once rebuilt for it."""
        user = user or self.alice
        modal = self.slack.open_view(user)
        assert modal is not None
        before = modal.updates
        env = await self.slack.choose(user, "animate:model", model_id)
        assert env is not None
        await self.slack.wait_acked(env)
        await self.slack.wait_for(lambda: modal.updates > before)
        return modal

    def picture(
        self, data: bytes | None = None, name: str = "cat.png", user: FakeUser | None = None
    ) -> FakeFile:
        return self.slack.upload_file(user or self.alice, png() if data is None else data, name)

    async def submit(
        self, fields: dict[str, Any] | None = None, *, user: FakeUser | None = None, **values: Any
    ) -> Any:
        """Press Submit with ``values`` (and ``fields``, for ids that are not Python names)."""
        user = user or self.alice
        given = {**(fields or {}), **values}
        env = await self.slack.wait_acked(await self.slack.submit_view(user, given))
        assert env.outcome == "acked", env.outcome
        return env

    async def animate(
        self,
        prompt: str = "the cat waves",
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        image: FakeFile | None = None,
        fields: dict[str, Any] | None = None,
    ) -> FakeMessage:
        """/animate → modal → submit; the status message it posted."""
        user, channel = user or self.alice, channel or self.general
        before = len(status_messages(self.slack, channel))
        await self.open_form(user, channel)
        picks = {"duration.wan2.6-i2v-flash": "2", **(fields or {})}
        picture = image or self.picture(user=user)
        await self.submit(picks, user=user, prompt=prompt, image=[picture])
        posted = await self.slack.wait_for(lambda: status_messages(self.slack, channel)[before:])
        return posted[0]
