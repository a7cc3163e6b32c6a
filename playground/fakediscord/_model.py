"""State of the fake Discord: snowflakes, channels, messages, permissions and the request log.

Payload shapes follow the Discord API v10 objects that discord.py 2.7.1 parses
(``shared/reference/discord-platform.md`` §B.2 and §B.5); only keys discord.py reads are built.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

Json = dict[str, Any]

# Permission bits (docs: developers/topics/permissions.mdx).
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
#: what the invite link asks for, plus MENTION_EVERYONE so a missing allowed_mentions would ping
BOT_DEFAULT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
#: an ordinary member: can use commands and post
MEMBER_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | SEND_MESSAGES_IN_THREADS
MIB = 1024 * 1024
#: per-file upload limit by boost tier (dpy: guild.py Guild._PREMIUM_GUILD_LIMITS)
TIER_LIMITS = {0: 10 * MIB, 1: 10 * MIB, 2: 50 * MIB, 3: 100 * MIB}


class ChannelType(IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_ANNOUNCEMENT = 5
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15

    @property
    def is_thread(self) -> bool:
        return self in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)


_ids = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    return next(_ids)


def iso(ts: datetime | None = None) -> str:
    return (ts or datetime.now(UTC)).isoformat()


def user_payload(uid: int, name: str, *, bot: bool = False) -> Json:
    out: Json = {
        "id": str(uid),
        "username": name,
        "discriminator": "0",
        "avatar": None,
        "global_name": None,
    }
    if bot:
        out["bot"] = True
    return out


@dataclass
class FakeUser:
    id: int
    name: str
    #: the member's permissions in every guild channel (interaction ``member.permissions``)
    permissions: int = MEMBER_DEFAULT
    #: the language of the user's Discord client (interaction ``locale``)
    locale: str = "en-US"
    #: the member's role ids (interaction ``member.roles``; roles of ``FakeGuild.roles``)
    roles: list[int] = field(default_factory=list)

    def payload(self) -> Json:
        return user_payload(self.id, self.name)

    def member_payload(self) -> Json:
        return {
            "user": self.payload(),
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(self.permissions),
        }


@dataclass
class FakeAttachment:
    id: int
    filename: str
    content_type: str | None
    data: bytes
    width: int | None = None
    height: int | None = None

    def payload(self, cdn: str, *, ephemeral: bool = False) -> Json:
        kind = "ephemeral-attachments" if ephemeral else "attachments"
        url = f"{cdn}/{kind}/{self.id}/{self.filename}?ex=6a00&is=6900&hm=00"
        out: Json = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": url,
            "proxy_url": url,
        }
        if self.content_type is not None:
            out["content_type"] = self.content_type
        if self.width is not None:
            out["width"] = self.width
            out["height"] = self.height
        if ephemeral:
            out["ephemeral"] = True
        return out


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    author: Json
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: Json | None = None
    #: set for messages created by an interaction response (the webhook "@original")
    interaction_token: str | None = None
    edits: int = 0
    guild_id: int | None = None

    def payload(self, cdn: str) -> Json:
        out: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": 0,
            "author": self.author,
            "content": self.content,
            "timestamp": iso(),
            "edited_timestamp": iso() if self.edits else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload(cdn) for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            out["guild_id"] = str(self.guild_id)
        return out


@dataclass
class FakeChannel:
    id: int
    type: ChannelType
    name: str
    guild_id: int | None = None
    parent_id: int | None = None
    #: the bot's permissions here (threads inherit their parent's)
    bot_permissions: int = BOT_DEFAULT
    recipient: FakeUser | None = None  # DMs
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    position: int = 0
    #: the bot's user id: per-channel rights are sent as a member overwrite, as Discord does
    bot_id: int | None = None

    def payload(self) -> Json:
        out: Json = {"id": str(self.id), "type": int(self.type), "name": self.name}
        if self.guild_id is not None:
            out["guild_id"] = str(self.guild_id)
        if self.type is ChannelType.DM:
            out.pop("name")
            out["recipients"] = [self.recipient.payload()] if self.recipient else []
            out["last_message_id"] = None
            return out
        out["position"] = self.position
        out["permission_overwrites"] = []
        if self.bot_id is not None and not self.type.is_thread:
            out["permission_overwrites"] = [
                {
                    "id": str(self.bot_id),
                    "type": 1,
                    "allow": str(self.bot_permissions),
                    "deny": str(BOT_DEFAULT & ~self.bot_permissions),
                }
            ]
        out["nsfw"] = False
        if self.type is ChannelType.GUILD_VOICE:
            out |= {"bitrate": 64000, "user_limit": 0, "rtc_region": None}
        if self.type is ChannelType.GUILD_FORUM:
            out |= {"available_tags": [], "flags": 0, "default_reaction_emoji": None}
        if self.type.is_thread:
            out |= {
                "parent_id": str(self.parent_id),
                "owner_id": "1",
                "message_count": len(self.messages),
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(),
                    "locked": False,
                },
            }
        return out


@dataclass
class FakeGuild:
    id: int
    name: str
    premium_tier: int = 0
    channels: list[FakeChannel] = field(default_factory=list)
    #: role id → name (besides @everyone)
    roles: dict[int, str] = field(default_factory=dict)

    @property
    def filesize_limit(self) -> int:
        return TIER_LIMITS[self.premium_tier]


@dataclass(frozen=True)
class UploadedFile:
    field: str  # "files[0]"
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class Recorded:
    """One HTTP request the bot made, as the fake saw it."""

    method: str
    path: str  # below /api/v10, e.g. /channels/1/messages
    query: dict[str, str]
    status: int
    json: Any = None  # the JSON body, or payload_json of a multipart body
    files: list[UploadedFile] = field(default_factory=list)
    authorized: bool = False
    #: real time (``time.monotonic``) the request arrived (benchmarks measure answer times)
    at: float = field(default_factory=time.monotonic)

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class FakeInteraction:
    """An interaction the fake injected, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    channel: FakeChannel
    user: FakeUser
    created_at: float  # fake-clock seconds
    payload: Json
    responses: list[Json] = field(default_factory=list)  # callback bodies, in order
    original_id: int | None = None  # the @original message, once it exists
    followups: list[int] = field(default_factory=list)
    #: real time (``time.monotonic``) the interaction was made, just before its dispatch
    sent_at: float = field(default_factory=time.monotonic)

    @property
    def response_types(self) -> list[int]:
        return [int(r["type"]) for r in self.responses]


@dataclass
class Fault:
    """Answer the next ``count`` requests matching ``method`` + path prefix with an error."""

    method: str
    path_prefix: str
    status: int
    code: int
    count: int = 1
    retry_after: float = 0.01


_MENTION = re.compile(r"@everyone|@here|<@&(\d+)>|<@!?(\d+)>")


def pings(msg: FakeMessage) -> set[str]:
    """Who Discord would notify for this message's content, given its ``allowed_mentions``.

    Defaults (docs: resources/message.mdx §Allowed Mentions): channel messages parse users, roles
    and everyone; interaction and webhook messages parse users only.
    """
    default = ["users"] if msg.interaction_token else ["users", "roles", "everyone"]
    am = msg.allowed_mentions
    parse = set(default if am is None else am.get("parse", []))
    users = {str(u) for u in (am or {}).get("users", [])}
    roles = {str(r) for r in (am or {}).get("roles", [])}
    out: set[str] = set()
    for m in _MENTION.finditer(msg.content or ""):
        text = m.group(0)
        if text in ("@everyone", "@here"):
            if "everyone" in parse:
                out.add(text)
        elif m.group(1):
            if "roles" in parse or m.group(1) in roles:
                out.add(text)
        elif "users" in parse or m.group(2) in users:
            out.add(f"<@{m.group(2)}>")
    return out
