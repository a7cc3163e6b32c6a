"""State of the fake Slack: ids, users, channels, messages, files, modals and the request log.

Payload shapes follow Slack's method pages and payload fixtures (reference
``shared/reference/slack-platform.md`` §3-§8, ``docs.slack.dev/methods/*.json`` examples, and the
fixtures in slack_sdk's and Bolt's own test suites).
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

Json = dict[str, Any]
MIB = 1024 * 1024

#: what the manifest asks for (reference §1.1), plus history scopes for the recovery paths (§7.4)
BOT_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "chat:write.public",
        "files:read",
        "files:write",
        "users:read",
        "channels:join",
        "channels:read",
        "groups:read",
        "im:write",
        "channels:history",
        "groups:history",
        "im:history",
    }
)

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    """A Slack-looking id: one letter and 10 upper-case alphanumerics (``C0000000A1B``)."""
    return f"{prefix}{next(_ids):010X}"


def new_trigger_id() -> str:
    # shape of real trigger ids: "3701415066658.3485157640.72f11de3d52bb9593d6931af772a323e"
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


class ChannelKind(Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    IM = "im"


@dataclass
class FakeUser:
    id: str
    name: str
    team_id: str
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    tz: str = "America/Los_Angeles"

    def ref(self) -> Json:
        """The ``user`` object of interaction payloads."""
        return {"id": self.id, "username": self.name, "name": self.name, "team_id": self.team_id}

    def payload(self, *, include_locale: bool = False) -> Json:
        out: Json = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": self.name.title(),
            "tz": self.tz,
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
            "profile": {
                "real_name": self.name.title(),
                "display_name": self.name,
                "real_name_normalized": self.name.title(),
                "display_name_normalized": self.name,
                "team": self.team_id,
            },
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }
        if include_locale:
            out["locale"] = self.locale
        return out


@dataclass
class FakeFile:
    id: str
    name: str
    title: str
    mimetype: str
    user: str  # uploader
    data: bytes = b""
    created: int = 0
    #: files.getUploadURLExternal declared this many bytes
    declared_length: int = 0
    uploaded: bool = False
    completed: bool = False
    #: channel id -> share records ({ts, thread_ts, ...}); "public" or "private" by channel kind
    shares: dict[str, list[Json]] = field(default_factory=dict)
    #: the bot may read it: shared where the bot can see it, given to it via file_input, or its own
    bot_can_read: bool = False
    alt_txt: str | None = None

    @property
    def filetype(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else "binary"

    def payload(self, base: str, team_id: str, channels: dict[str, FakeChannel]) -> Json:
        url = f"{base}/files-pri/{team_id}-{self.id}"
        public = {c: s for c, s in self.shares.items() if channels[c].kind is ChannelKind.PUBLIC}
        private = {c: s for c, s in self.shares.items() if c not in public}
        shares: Json = {}
        if public:
            shares["public"] = public
        if private:
            shares["private"] = private
        kinds = {c: channels[c].kind for c in self.shares}
        out: Json = {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title,
            "mimetype": self.mimetype,
            "filetype": self.filetype,
            "pretty_type": self.filetype.upper(),
            "user": self.user,
            "user_team": team_id,
            "editable": False,
            "size": len(self.data),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(public),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{url}/{self.name}",
            "url_private_download": f"{url}/download/{self.name}",
            "permalink": f"https://fake.slack.com/files/{self.user}/{self.id}/{self.name}",
            "comments_count": 0,
            "shares": shares,
            "channels": [c for c, k in kinds.items() if k is ChannelKind.PUBLIC],
            "groups": [c for c, k in kinds.items() if k is ChannelKind.PRIVATE],
            "ims": [c for c, k in kinds.items() if k is ChannelKind.IM],
            "has_rich_preview": False,
        }
        if self.alt_txt is not None:
            out["alt_txt"] = self.alt_txt
        return out


@dataclass
class FakeMessage:
    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[Json] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: Json | None = None
    files: list[FakeFile] = field(default_factory=list)
    bot_id: str | None = None
    app_id: str | None = None
    #: ``parse=full`` or ``link_names`` turn plain ``@here`` into a mention (reference §6)
    parse_mentions: bool = False
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    edits: list[Json] = field(default_factory=list)  # previous versions, oldest first
    replies: list[str] = field(default_factory=list)  # ts of replies, for a thread parent
    reply_broadcast: bool = False
    deleted: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def payload(
        self, base: str, team_id: str, channels: dict[str, FakeChannel], *, metadata: bool = True
    ) -> Json:
        out: Json = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        out["team"] = team_id
        if self.bot_id is not None:
            out |= {"bot_id": self.bot_id, "app_id": self.app_id}
        if self.blocks:
            out["blocks"] = self.blocks
        if self.files:
            out["files"] = [f.payload(base, team_id, channels) for f in self.files]
            out |= {"upload": True, "display_as_bot": False}
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.replies:
            out |= {"reply_count": len(self.replies), "latest_reply": self.replies[-1]}
        if self.edits:
            out["edited"] = {"user": self.user, "ts": self.edits[-1]["edited_ts"]}
        if metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out


@dataclass
class FakeChannel:
    id: str
    name: str
    kind: ChannelKind = ChannelKind.PUBLIC
    members: set[str] = field(default_factory=set)
    messages: dict[str, FakeMessage] = field(default_factory=dict)  # ts -> message, post order
    archived: bool = False
    locale: str = "en-US"

    def top_level(self) -> list[FakeMessage]:
        return [m for m in self.messages.values() if not m.is_reply or m.reply_broadcast]

    def payload(self, bot_user_id: str, *, include_locale: bool = False) -> Json:
        is_im = self.kind is ChannelKind.IM
        out: Json = {
            "id": self.id,
            "created": 1700000000,
            "is_channel": not is_im and self.kind is ChannelKind.PUBLIC,
            "is_group": self.kind is ChannelKind.PRIVATE,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": self.kind is not ChannelKind.PUBLIC,
            "is_archived": self.archived,
            "is_member": bot_user_id in self.members,
            "is_org_shared": False,
            "is_shared": False,
        }
        if is_im:
            out["user"] = next(iter(self.members - {bot_user_id}), "")
        else:
            out |= {"name": self.name, "name_normalized": self.name, "is_general": False}
        if include_locale:
            out["locale"] = self.locale
        return out


@dataclass
class Ephemeral:
    """A message only ``user`` saw: chat.postEphemeral, a command ack text, a ``response_url``."""

    channel: str
    user: str
    text: str
    blocks: list[Json]
    thread_ts: str | None
    source: str  # "chat.postEphemeral" | "ack" | "response_url"


@dataclass
class FakeView:
    """One modal view in a user's stack, as Slack stores it (the ``view`` object)."""

    id: str
    user: str
    body: Json  # what the app sent: type, title, blocks, callback_id, ...
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    #: inline errors from ``response_action: errors``, block_id -> message
    errors: dict[str, str] = field(default_factory=dict)
    closed: bool = False
    updates: int = 0
    #: what the user picked in the open view so far (block_id -> option value); Slack keeps an
    #: input's value across views.update only for an identical block_id (and action_id)
    picks: dict[str, str] = field(default_factory=dict)

    def payload(self, team_id: str, app_id: str, bot_id: str, state: Json | None = None) -> Json:
        b = self.body
        return {
            "id": self.id,
            "team_id": team_id,
            "type": b.get("type", "modal"),
            "blocks": b.get("blocks", []),
            "private_metadata": b.get("private_metadata", ""),
            "callback_id": b.get("callback_id", ""),
            "state": state or {"values": {}},
            "hash": self.hash,
            "title": b.get("title"),
            "clear_on_close": bool(b.get("clear_on_close", False)),
            "notify_on_close": bool(b.get("notify_on_close", False)),
            "close": b.get("close"),
            "submit": b.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": b.get("external_id", ""),
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass
class Recorded:
    """One Web API call the app made, as the fake saw it."""

    method: str  # "chat.postMessage"
    args: Json
    token: str | None
    http_verb: str
    status: int = 0
    response: Json | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.response is None else self.response.get("error")
