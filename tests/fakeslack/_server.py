"""A small Slack on 127.0.0.1 that the real, unpatched slack_sdk / slack_bolt clients talk to.

Tests point the clients at it with one setting, the Web API base URL
(``AsyncWebClient(base_url=fake.api_url)``, i.e. ``SLACK_API_URL``); Socket Mode follows from
``apps.connections.open``, which answers a ``ws://`` URL on the same server. Upload URLs,
``url_private_download`` and ``response_url`` all point back here. The fake enforces what real
Slack enforces for this bot (reference §2-§10): token types, scopes (``missing_scope`` with
``needed``/``provided``), channel visibility and membership, the 3 s trigger and ack windows,
view and message limits, per-method rate tiers (429 + ``Retry-After``), asynchronous file shares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from tests.fakeslack._hooks import Hooks
from tests.fakeslack._limits import Fault, RateLimiter
from tests.fakeslack._model import (
    BOT_SCOPES,
    MIB,
    ChannelKind,
    Ephemeral,
    FakeChannel,
    FakeFile,
    FakeMessage,
    FakeUser,
    FakeView,
    Json,
    Recorded,
    new_id,
)
from tests.fakeslack._registry import ApiError
from tests.fakeslack._socket import SocketMode
from tests.fakeslack._users import UsersMixin
from tests.fakeslack._webapi import WebApi

T = TypeVar("T")


class ManualClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeSlack(UsersMixin):
    """``async with FakeSlack() as slack:`` then ``AsyncWebClient(base_url=slack.api_url)``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        bot_scopes: frozenset[str] | set[str] = BOT_SCOPES,
        app_scopes: frozenset[str] | set[str] = frozenset({"connections:write"}),
        commands: tuple[str, ...] = ("/animate",),
        shortcuts: tuple[str, ...] = ("animate_image",),
        team_name: str = "Fake Workspace",
        domain: str = "fakeworkspace",
    ) -> None:
        #: epoch seconds; trigger ids, ack deadlines, rate windows and share delays use it
        self.clock: Callable[[], float] = clock or ManualClock()
        self.team_id, self.team_name, self.domain = new_id("T"), team_name, domain
        self.app_id, self.bot_id = new_id("A"), new_id("B")
        self.bot_user = FakeUser(new_id("U"), "animate-bot", self.team_id, is_bot=True)
        self.bot_token = f"xoxb-{self.team_id}-{self.bot_id}-fakebottoken"
        self.app_token = f"xapp-1-{self.app_id}-fakeapptoken"
        self.bot_scopes = set(bot_scopes)
        self.app_scopes = set(app_scopes)
        self.revoked: set[str] = set()
        self.commands, self.shortcuts = commands, shortcuts
        self.users: dict[str, FakeUser] = {self.bot_user.id: self.bot_user}
        self.channels: dict[str, FakeChannel] = {}
        self.files: dict[str, FakeFile] = {}
        self.views: dict[str, FakeView] = {}
        self.view_stacks: dict[str, list[str]] = {}  # user id -> open view ids, root first
        self.triggers: dict[str, tuple[str, float]] = {}  # trigger_id -> (user id, issued at)
        self.used_triggers: set[str] = set()
        self.ephemerals: list[Ephemeral] = []
        self.log: list[Recorded] = []
        self.faults: list[Fault] = []
        self.limiter = RateLimiter()
        #: fake seconds between files.completeUploadExternal and the file message (0: right after)
        self.share_delay = 0.0
        self.pending_shares: list[tuple[float, Callable[[], None]]] = []
        self.socket = SocketMode(self)
        self.hooks = Hooks(self)
        self.webapi = WebApi(self)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._ts_seq = 0
        self.port = 0

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> FakeSlack:
        app = web.Application(client_max_size=1100 * MIB)
        app.router.add_route("*", "/api/{method}", self.webapi.handle)
        app.router.add_get("/link/", self.socket.handle)
        self.hooks.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]  # asyncio.Server
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The ``SLACK_API_URL`` to give the clients (slack_sdk joins method names onto it)."""
        return f"{self.base}/api/"

    # ----------------------------------------------------------------- world building
    def add_user(
        self, name: str, *, locale: str = "en-US", admin: bool = False, owner: bool = False
    ) -> FakeUser:
        user = FakeUser(new_id("U"), name, self.team_id, locale, is_admin=admin, is_owner=owner)
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        name: str = "general",
        *,
        kind: ChannelKind = ChannelKind.PUBLIC,
        members: list[FakeUser] | tuple[FakeUser, ...] = (),
        bot_member: bool = True,
    ) -> FakeChannel:
        channel = FakeChannel(new_id("C"), name, kind, {u.id for u in members})
        if bot_member:
            channel.members.add(self.bot_user.id)
        self.channels[channel.id] = channel
        return channel

    def dm(self, user: FakeUser) -> FakeChannel:
        """The bot's direct-message channel with ``user`` (``D…``), created on first use."""
        for c in self.channels.values():
            if c.kind is ChannelKind.IM and c.members == {user.id, self.bot_user.id}:
                return c
        channel = FakeChannel(new_id("D"), user.id, ChannelKind.IM, {user.id, self.bot_user.id})
        self.channels[channel.id] = channel
        return channel

    def fail_next(self, method: str, error: str = "ratelimited", **kw: Any) -> Fault:
        """Answer the next call(s) of ``method`` with ``error`` (see :class:`Fault`)."""
        fault = Fault(method, error, **kw)
        self.faults.append(fault)
        return fault

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    async def advance(self, seconds: float) -> None:
        """Move the clock (it must have ``advance``) and fire what became due."""
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise TypeError("this clock cannot be advanced here: move it, then `await tick()`")
        advance(seconds)
        await self.tick()

    async def tick(self) -> None:
        """Fire timers due on the clock: ack deadlines, envelope retries, file shares."""
        now = self.clock()
        due = [s for s in self.pending_shares if s[0] <= now]
        for share in due:
            self.pending_shares.remove(share)
            share[1]()
        await self.socket.fire_timers(now)
        await self.notify()

    # ----------------------------------------------------------------- observation
    def requests(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.log if method is None or r.method == method]

    def messages_in(self, channel: FakeChannel | str) -> list[FakeMessage]:
        """Top-level messages (and broadcast replies), in post order."""
        return self.channel(channel).top_level()

    def thread(self, channel: FakeChannel | str, thread_ts: str) -> list[FakeMessage]:
        """The parent and its replies, in post order."""
        c = self.channel(channel)
        parent = c.messages.get(thread_ts)
        if parent is None:
            return []
        return [parent, *(c.messages[ts] for ts in parent.replies)]

    def all_messages(self) -> list[FakeMessage]:
        return [m for c in self.channels.values() for m in c.messages.values()]

    def ephemerals_for(self, user: FakeUser) -> list[Ephemeral]:
        return [e for e in self.ephemerals if e.user == user.id]

    def open_view(self, user: FakeUser) -> FakeView | None:
        """The modal on top of ``user``'s stack, if any."""
        stack = self.view_stacks.get(user.id) or []
        return self.views[stack[-1]] if stack else None

    def channel(self, channel: FakeChannel | str) -> FakeChannel:
        return channel if isinstance(channel, FakeChannel) else self.channels[channel]

    async def wait_for(self, predicate: Callable[[], T | None], within: float = 5.0) -> T:
        """Wait (on state-change events, never on a timer) until ``predicate()`` is truthy."""
        async with asyncio.timeout(within), self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------------- shared rules
    def new_ts(self) -> str:
        self._ts_seq += 1
        return f"{int(self.clock())}.{self._ts_seq:06d}"

    def need(self, scope: str) -> None:
        if scope not in self.bot_scopes:
            provided = ",".join(sorted(self.bot_scopes))
            raise ApiError("missing_scope", needed=scope, provided=provided)

    def visible(self, channel_id: str) -> FakeChannel:
        """A channel the bot can see: public ones, and private ones / DMs it is a member of."""
        channel = self.channels.get(channel_id)
        if channel is None:
            raise ApiError("channel_not_found")
        if channel.kind is not ChannelKind.PUBLIC and self.bot_user.id not in channel.members:
            raise ApiError("channel_not_found")
        return channel

    def file_payload(self, f: FakeFile) -> Json:
        return f.payload(self.base, self.team_id, self.channels)

    def message_payload(self, m: FakeMessage, *, metadata: bool = True) -> Json:
        return m.payload(self.base, self.team_id, self.channels, metadata=metadata)

    def add_message(self, channel: FakeChannel, message: FakeMessage) -> FakeMessage:
        channel.messages[message.ts] = message
        if message.thread_ts is not None and message.thread_ts != message.ts:
            parent = channel.messages.get(message.thread_ts)
            if parent is not None:
                parent.thread_ts = parent.ts
                parent.replies.append(message.ts)
        for f in message.files:
            kind = channel.kind
            f.shares.setdefault(channel.id, []).append(
                {"ts": message.ts, "thread_ts": message.thread_ts, "channel_name": channel.name}
                | ({"team_id": self.team_id} if kind is ChannelKind.PUBLIC else {})
            )
            if kind is ChannelKind.PUBLIC or self.bot_user.id in channel.members:
                f.bot_can_read = True
        return message
