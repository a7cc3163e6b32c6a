"""A small Discord on 127.0.0.1 that the real, unpatched discord.py 2.7.1 client talks to.

Tests point discord.py at it with two class attributes (``Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY``); everything else is the library's own code path:
login, gateway handshake, interaction callbacks, webhook edits, channel posts, multipart uploads,
thread creation, rate limits. The fake enforces what real Discord enforces for this bot
(reference §A and the trap list in §B.2): permissions per channel, upload limits, 3 s / 15 min
interaction token windows, content and embed limits, 429 with ``Via``.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable
from typing import Any

import yarl
from aiohttp import web

from playground.fakediscord._gateway import Gateway
from playground.fakediscord._interactions import InteractionsMixin, Role
from playground.fakediscord._model import (
    ATTACH_FILES,
    BOT_DEFAULT,
    MIB,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    ChannelType,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    Fault,
    Json,
    Recorded,
    UploadedFile,
    iso,
    snowflake,
    user_payload,
)

Handler = Callable[[web.Request, Recorded], Awaitable[web.Response]]
DM_LIMIT = 10 * MIB


def J(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim (trap 1).
    return web.Response(
        body=json.dumps(obj).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _labelled(upload: UploadedFile) -> str:
    """The ``content_type`` Discord gives an uploaded file: what the client said, or what the
    file name says when the client sent none or the generic octet-stream (discord.py does)."""
    said = (upload.content_type or "").split(";")[0].strip()
    if said and said != "application/octet-stream":
        return said
    return mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"


def error(status: int, code: int, message: str) -> web.Response:
    return J({"message": message, "code": code}, status)


class FakeDiscord(InteractionsMixin):
    """``async with FakeDiscord() as fake:`` then ``fake.api_base`` / ``fake.gateway_url``."""

    def __init__(self, *, token: str = "fake-bot-token") -> None:  # noqa: S107 - a fake token
        self.token = token
        self.app_id = snowflake()
        self.bot_id = snowflake()
        self.owner = FakeUser(snowflake(), "owner")
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.log: list[Recorded] = []
        self.faults: list[Fault] = []
        self.synced: dict[str, list[Json]] = {}  # "global" or guild id -> last PUT body
        #: called with each request once the fake has applied it (a viewer records every state
        #: a message passes through, however quickly the next edit follows)
        self.observers: list[Callable[[Recorded], None]] = []
        self.gateway = Gateway(self)
        #: fake seconds; interaction windows (3 s, 15 min) are measured on this clock
        self.clock = 0.0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * MIB)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/cdn/{kind}/{aid}/{filename}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        if server is None:
            raise RuntimeError("the fake Discord's site did not start a server")
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]  # asyncio.Server
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base}/api/v10"

    @property
    def gateway_url(self) -> yarl.URL:
        return yarl.URL(f"ws://127.0.0.1:{self.port}/gateway")

    @property
    def cdn(self) -> str:
        return f"{self.base}/cdn"

    # ----------------------------------------------------------------- world building
    def add_guild(self, name: str = "guild", *, premium_tier: int = 0) -> FakeGuild:
        guild = FakeGuild(snowflake(), name, premium_tier)
        self.guilds[guild.id] = guild
        return guild

    def add_channel(
        self,
        guild: FakeGuild | None,
        kind: ChannelType = ChannelType.GUILD_TEXT,
        name: str = "general",
        *,
        parent: FakeChannel | None = None,
        bot_permissions: int = BOT_DEFAULT,
        recipient: FakeUser | None = None,
    ) -> FakeChannel:
        channel = FakeChannel(
            snowflake(),
            kind,
            name,
            guild_id=guild.id if guild else None,
            parent_id=parent.id if parent else None,
            bot_permissions=parent.bot_permissions if parent else bot_permissions,
            recipient=recipient,
            position=len(guild.channels) if guild else 0,
            bot_id=self.bot_id,
        )
        self.channels[channel.id] = channel
        if guild is not None and not kind.is_thread:
            guild.channels.append(channel)
        return channel

    def add_attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str | None,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> FakeAttachment:
        att = FakeAttachment(snowflake(), filename, content_type, data, width, height)
        self.attachments[att.id] = att
        return att

    def fail_next(
        self, method: str, path_prefix: str, *, status: int = 429, code: int = 0, count: int = 1
    ) -> Fault:
        fault = Fault(method, path_prefix, status, code, count)
        self.faults.append(fault)
        return fault

    def advance(self, seconds: float) -> None:
        self.clock += seconds

    def user(self, name: str, permissions: int | None = None, *, locale: str = "en-US") -> FakeUser:
        u = FakeUser(snowflake(), name, locale=locale)
        if permissions is not None:
            u.permissions = permissions
        return u

    def add_role(self, guild: FakeGuild, name: str) -> Role:
        """A role of ``guild`` (give it to a member with ``FakeUser.roles``)."""
        role = Role(snowflake(), name)
        guild.roles[role.id] = name
        return role

    def dm_with(self, user: FakeUser) -> FakeChannel:
        return self.add_channel(None, ChannelType.DM, "dm", recipient=user)

    def bot_user_payload(self) -> Json:
        return user_payload(self.bot_id, "animate-bot", bot=True)

    def guild_payload(self, guild_id: int) -> Json:
        guild = self.guilds[guild_id]
        everyone = {
            "id": str(guild.id),
            "name": "@everyone",
            "permissions": str(BOT_DEFAULT),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        me = {
            "user": self.bot_user_payload(),
            "roles": [],
            "joined_at": iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        roles = [
            {**everyone, "id": str(rid), "name": name, "permissions": "0", "position": i}
            for i, (rid, name) in enumerate(guild.roles.items(), start=1)
        ]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "roles": [everyone, *roles],
            "channels": [c.payload() for c in guild.channels],
            "threads": [],
            "members": [me],
            "member_count": 2,
            "premium_tier": guild.premium_tier,
            "features": [],
            "emojis": [],
            "stickers": [],
            "owner_id": str(self.owner.id),
            "large": False,
            "unavailable": False,
        }

    # ----------------------------------------------------------------- observation
    def requests(self, method: str | None = None, pattern: str = "") -> list[Recorded]:
        rx = re.compile(pattern)
        return [r for r in self.log if (method is None or r.method == method) and rx.search(r.path)]

    def messages_in(self, channel: FakeChannel | int) -> list[FakeMessage]:
        cid = channel if isinstance(channel, int) else channel.id
        return list(self.channels[cid].messages.values())

    def all_messages(self) -> list[FakeMessage]:
        return [m for c in self.channels.values() for m in c.messages.values()]

    def find_message(self, message_id: int) -> FakeMessage | None:
        for channel in self.channels.values():
            if message_id in channel.messages:
                return channel.messages[message_id]
        return None

    async def wait_for(self, predicate: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait (on request events, never on a timer) until ``predicate()`` is truthy."""
        async with asyncio.timeout(within), self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------------- HTTP plumbing
    async def _cdn(self, request: web.Request) -> web.Response:
        att = self.attachments.get(int(request.match_info["aid"]))
        if att is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=att.data, content_type=att.content_type or "application/octet-stream"
        )

    async def _read_body(self, request: web.Request, rec: Recorded) -> None:
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                name = part.name or ""  # type: ignore[union-attr]  # BodyPartReader, not nested
                data = await part.read()  # type: ignore[union-attr]  # same
                if name == "payload_json":
                    rec.json = json.loads(data)
                else:
                    rec.files.append(
                        UploadedFile(
                            name,
                            part.filename or "",  # type: ignore[union-attr]  # same
                            bytes(data),
                            part.headers.get("Content-Type"),  # type: ignore[union-attr]  # same
                        )
                    )
        elif request.can_read_body:
            raw = await request.read()
            rec.json = json.loads(raw) if raw else None

    async def _api(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        rec = Recorded(
            request.method,
            path,
            dict(request.query),
            0,
            authorized=request.headers.get("Authorization") == f"Bot {self.token}",
        )
        await self._read_body(request, rec)
        self.log.append(rec)
        try:
            response = await self._route(request, rec)
            rec.status = response.status
            for observe in self.observers:
                observe(rec)
        finally:
            await self._notify()
        return response

    def _fault_for(self, rec: Recorded) -> web.Response | None:
        for fault in self.faults:
            if (
                fault.count > 0
                and rec.method == fault.method
                and rec.path.startswith(fault.path_prefix)
            ):
                fault.count -= 1
                if fault.status == 429:
                    body = {
                        "message": "You are being rate limited.",
                        "retry_after": fault.retry_after,
                        "global": False,
                        "code": 0,
                    }
                    headers = {
                        "Via": "1.1 google",
                        "Retry-After": "1",
                        "X-RateLimit-Scope": "user",
                        "X-RateLimit-Remaining": "0",
                    }
                    return J(body, 429, headers)
                return error(fault.status, fault.code, "injected failure")
        return None

    async def _route(self, request: web.Request, rec: Recorded) -> web.Response:
        from playground.fakediscord import _routes

        if (injected := self._fault_for(rec)) is not None:
            return injected
        for method, rx, handler in _routes.ROUTES:
            if method != rec.method:
                continue
            match = rx.fullmatch(rec.path)
            if match is None:
                continue
            public = rec.path.startswith(("/interactions/", "/webhooks/"))
            if not public and not rec.authorized:
                return error(401, 0, "401: Unauthorized")
            return await handler(self, rec, **match.groupdict())
        return error(404, 0, f"fake Discord has no route {rec.route}")

    # ----------------------------------------------------------------- shared rules
    def effective_permissions(self, channel: FakeChannel) -> int:
        if channel.type is ChannelType.DM:
            return VIEW_CHANNEL | SEND_MESSAGES | ATTACH_FILES | READ_MESSAGE_HISTORY | (1 << 14)
        if channel.parent_id is not None:
            return self.channels[channel.parent_id].bot_permissions
        return channel.bot_permissions

    def upload_limit(self, channel: FakeChannel) -> int:
        if channel.guild_id is None:
            return DM_LIMIT
        return self.guilds[channel.guild_id].filesize_limit

    def check_post(self, channel: FakeChannel, rec: Recorded) -> web.Response | None:
        """Permission, size and content rules for creating a message with the bot's rights."""
        perms = self.effective_permissions(channel)
        if not perms & VIEW_CHANNEL:
            return error(403, 50001, "Missing Access")
        needed = SEND_MESSAGES_IN_THREADS if channel.type.is_thread else SEND_MESSAGES
        if not perms & needed:
            return error(403, 50013, "Missing Permissions")
        return self.check_body(channel, rec)

    def check_body(self, channel: FakeChannel, rec: Recorded) -> web.Response | None:
        perms = self.effective_permissions(channel)
        if rec.files and not perms & ATTACH_FILES:
            return error(403, 50013, "Missing Permissions")
        limit = self.upload_limit(channel)
        if any(len(f.data) > limit for f in rec.files):
            return error(413, 40005, "Request entity too large")
        body = rec.json if isinstance(rec.json, dict) else {}
        body = body.get("data", body) if "type" in body and "data" in body else body
        if len(body.get("content") or "") > 2000:
            return error(
                400, 50035, "Invalid Form Body (content: Must be 2000 or fewer in length.)"
            )
        embeds = body.get("embeds") or []
        total = 0
        for embed in embeds:
            if len(embed.get("description") or "") > 4096:
                return error(400, 50035, "Invalid Form Body (embed description too long)")
            total += len(embed.get("title") or "") + len(embed.get("description") or "")
            total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields") or [])
            if any(len(f["value"]) > 1024 for f in embed.get("fields") or []):
                return error(400, 50035, "Invalid Form Body (embed field value too long)")
            total += len((embed.get("footer") or {}).get("text") or "")
        if total > 6000:
            return error(400, 50035, "Invalid Form Body (embeds exceed 6000 characters)")
        return None

    def new_message(
        self,
        channel: FakeChannel,
        body: Json,
        files: list[UploadedFile],
        *,
        token: str | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            snowflake(), channel.id, self.bot_user_payload(), guild_id=channel.guild_id
        )
        msg.interaction_token = token
        self.apply_edit(msg, body, files, creating=True)
        channel.messages[msg.id] = msg
        return msg

    def apply_edit(
        self, msg: FakeMessage, body: Json, files: list[UploadedFile], *, creating: bool = False
    ) -> None:
        if not creating:
            msg.edits += 1
        for key in ("content", "embeds", "components", "flags"):
            if key in body and body[key] is not None:
                setattr(msg, key, body[key])
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if files:
            kept = [a for a in msg.attachments if any(
                str(a.id) == str(x.get("id")) for x in body.get("attachments") or [])]  # fmt: skip
            new = [self.add_attachment(f.data, f.filename, _labelled(f)) for f in files]
            msg.attachments = kept + new
        elif "attachments" in body and body["attachments"] is not None:
            keep = {str(x.get("id")) for x in body["attachments"]}
            msg.attachments = [a for a in msg.attachments if str(a.id) in keep]
