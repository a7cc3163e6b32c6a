"""What a Discord client shows of the fake's channels: messages as plain data and as text.

The page (``static/app.js``) draws the data; ``animate-bot demo --once`` writes the text. Both
read the fake's state only: the bot's messages exactly as Discord stores them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from playground.fakediscord import FakeAttachment, FakeChannel, FakeDiscord, FakeMessage

Json = dict[str, Any]
EPHEMERAL = 1 << 6
LOADING = 1 << 7
APPLICATION_COMMAND = 2
_MARKUP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>|<@!?(\d+)>|<@&(\d+)>|<#(\d+)>")
#: (seconds in the unit, English singular, English plural, Chinese unit)
_UNITS = ((86400, "a day", "days", "天"), (3600, "an hour", "hours", "小时"),
          (60, "a minute", "minutes", "分钟"))  # fmt: skip


@dataclass(frozen=True)
class Reader:
    """Who reads the channel, and when: Discord draws timestamps and mentions per reader."""

    locale: str = "en-US"
    now: float = field(default_factory=time.time)
    #: user id → name, for mentions
    names: dict[str, str] = field(default_factory=dict)


def relative(seconds: float, locale: str) -> str:
    """``<t:…:R>`` as Discord's client shows it: "in 2 minutes", "2分钟前"."""
    zh, future, span = locale.startswith("zh"), seconds >= 0, abs(seconds)
    for size, one, many, unit in _UNITS:
        if span >= size * 0.9:
            n = max(1, round(span / size))
            if zh:
                return f"{n}{unit}{'后' if future else '前'}"
            words = one if n == 1 else f"{n} {many}"
            return f"in {words}" if future else f"{words} ago"
    if zh:
        return "几秒后" if future else "几秒前"
    return "in a few seconds" if future else "a few seconds ago"


def readable(raw: str | None, fake: FakeDiscord, reader: Reader) -> str | None:
    """Discord's markup (timestamps, mentions) as the reader's client draws it."""
    if not raw:
        return raw

    def one(m: re.Match[str]) -> str:
        stamp, style, user, role, channel = m.groups()
        if stamp is not None:
            if style == "R":
                return relative(int(stamp) - reader.now, reader.locale)
            return datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d %H:%M UTC")
        if user is not None:
            return "@" + reader.names.get(user, "user")
        if role is not None:
            return "@role"
        place = fake.channels.get(int(channel))
        return "#" + (place.name if place is not None else "channel")

    return _MARKUP.sub(one, raw)


def attachment_url(att: FakeAttachment) -> str:
    """Where the page fetches an attachment (served by the page server from the fake's store)."""
    return f"/attachments/{att.id}/{att.filename}"


def _resolve(url: str | None, msg: FakeMessage) -> str | None:
    """``attachment://name`` (an embed image uploaded with its message) → the page's URL."""
    if url and url.startswith("attachment://"):
        name = url.removeprefix("attachment://")
        att = next((a for a in msg.attachments if a.filename == name), None)
        return attachment_url(att) if att is not None else None
    return url


def _embed(embed: Json, msg: FakeMessage, fake: FakeDiscord, reader: Reader) -> Json:
    thumb = _resolve((embed.get("thumbnail") or {}).get("url"), msg)
    image = _resolve((embed.get("image") or {}).get("url"), msg)
    return {
        "title": readable(embed.get("title"), fake, reader),
        "description": readable(embed.get("description"), fake, reader),
        "color": embed.get("color"),
        "fields": [
            {
                "name": readable(f["name"], fake, reader),
                "value": readable(f["value"], fake, reader),
                "inline": bool(f.get("inline")),
            }
            for f in embed.get("fields") or []
        ],
        "footer": readable((embed.get("footer") or {}).get("text"), fake, reader),
        "thumbnail": thumb,
        "image": image,
    }


def _buttons(msg: FakeMessage) -> list[Json]:
    out = []
    for row in msg.components:
        for comp in row.get("components", []):
            if comp.get("type") == 2:
                out.append(
                    {
                        "label": comp.get("label") or "",
                        "custom_id": comp.get("custom_id"),
                        "style": comp.get("style", 2),
                        "url": comp.get("url"),
                        "disabled": bool(comp.get("disabled")),
                    }
                )
    return out


def message(fake: FakeDiscord, msg: FakeMessage, reader: Reader | None = None) -> Json:
    """One message as the page draws it (for ``reader``: the default is English, now)."""
    reader = reader or Reader()
    embedded = {
        (e.get(k) or {}).get("url") for e in msg.embeds for k in ("thumbnail", "image")
    }  # fmt: skip
    return {
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "author": msg.author.get("username", "?"),
        "bot": bool(msg.author.get("bot")),
        "content": readable(msg.content, fake, reader),
        "thinking": bool(msg.flags & LOADING),
        "ephemeral": bool(msg.flags & EPHEMERAL),
        "edits": msg.edits,
        "embeds": [_embed(e, msg, fake, reader) for e in msg.embeds],
        "buttons": _buttons(msg),
        "attachments": [
            {
                "id": str(a.id),
                "filename": a.filename,
                "content_type": a.content_type,
                "size": len(a.data),
                "url": attachment_url(a),
            }
            for a in msg.attachments
            if f"attachment://{a.filename}" not in embedded
        ],
        "used": _used(fake, msg),
        "thread": _thread(fake, msg, reader),
    }


def _used(fake: FakeDiscord, msg: FakeMessage) -> Json | None:
    """Who ran which command this reply answers ("you used /animate" above it in Discord)."""
    inter = next(
        (i for i in fake.interactions.values() if i.token and i.token == msg.interaction_token),
        None,
    )
    if inter is None or inter.original_id != msg.id or inter.type != APPLICATION_COMMAND:
        return None
    return {"user": inter.user.name, "command": f"/{(inter.payload.get('data') or {}).get('name')}"}


def _thread(fake: FakeDiscord, msg: FakeMessage, reader: Reader) -> Json | None:
    # a thread started from a message has that message's id (Discord's rule, kept by the fake)
    thread = fake.channels.get(msg.id)
    if thread is None or thread.parent_id != msg.channel_id:
        return None
    return {
        "id": str(thread.id),
        "name": thread.name,
        "messages": [message(fake, m, reader) for m in _ordered(thread)],
    }


def _ordered(channel: FakeChannel) -> list[FakeMessage]:
    return sorted(channel.messages.values(), key=lambda m: m.id)


def channel(fake: FakeDiscord, channel: FakeChannel, reader: Reader | None = None) -> list[Json]:
    """The channel's messages, oldest first, each with its thread."""
    return [message(fake, m, reader) for m in _ordered(channel)]


# ------------------------------------------------------------------------------ as text
def text(view: Json, indent: str = "") -> str:
    """One message (as :func:`message` gives it) as Markdown lines, the way a reader sees it."""
    who = view["author"] + (" (bot)" if view["bot"] else "")
    flags = " — only you can see this" if view["ephemeral"] else ""
    used = view.get("used")
    lines = [f"{indent}*↳ {used['user']} used {used['command']}*"] if used else []
    lines.append(f"{indent}**{who}**{flags}")
    if view["thinking"]:
        lines.append(f"{indent}> *{view['author']} is thinking…*")
    if view["content"]:
        lines += [f"{indent}> {line}" for line in view["content"].splitlines()]
    for embed in view["embeds"]:
        if embed["title"]:
            lines.append(f"{indent}> **{embed['title']}**")
        if embed["description"]:
            lines += [f"{indent}> {line}" for line in embed["description"].splitlines()]
        for item in embed["fields"]:
            value = " ".join(item["value"].splitlines())
            lines.append(f"{indent}> - {item['name']}: {value}")
        if embed["footer"]:
            lines.append(f"{indent}> *{embed['footer']}*")
        if embed["thumbnail"]:
            lines.append(f"{indent}> [thumbnail]")
    for att in view["attachments"]:
        kind = att["content_type"] or "file"
        lines.append(f"{indent}> 📎 {att['filename']} ({kind}, {att['size']} bytes)")
    if view["buttons"]:
        labels = " ".join(f"[{b['label']}]" for b in view["buttons"])
        lines.append(f"{indent}> buttons: {labels}")
    return "\n".join(lines)
