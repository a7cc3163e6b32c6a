"""The channel as a Discord client draws it: markup, relative times, the text of a message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from playground.channel import Reader, message, readable, relative, text
from playground.fakediscord import ChannelType, FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        yield f


@pytest.mark.parametrize(
    ("seconds", "en", "zh"),
    [
        (5, "in a few seconds", "几秒后"),
        (-20, "a few seconds ago", "几秒前"),
        (60, "in a minute", "1分钟后"),
        (170, "in 3 minutes", "3分钟后"),
        (-7200, "2 hours ago", "2小时前"),
        (86400 * 3, "in 3 days", "3天后"),
    ],
)
def test_relative_times_read_like_discords(seconds: float, en: str, zh: str) -> None:
    assert relative(seconds, "en-US") == en
    assert relative(seconds, "zh-CN") == zh


async def test_markup_is_drawn_for_the_reader(fake: FakeDiscord) -> None:
    text_channel = fake.add_channel(fake.add_guild(), ChannelType.GUILD_TEXT, "general")
    reader = Reader("en-US", now=1000.0, names={"42": "alice"})
    raw = f"<@42> <@!7> <#{text_channel.id}> <t:1120:R> <t:0:f> <@&9>"
    assert readable(raw, fake, reader) == (
        "@alice @user #general in 2 minutes 1970-01-01 00:00 UTC @role"
    )


async def test_a_message_with_embed_buttons_and_files_as_data_and_text(fake: FakeDiscord) -> None:
    channel = fake.add_channel(fake.add_guild())
    body = {
        "content": "<@42>",
        "embeds": [
            {
                "title": "✅ Done",
                "description": "ready <t:1060:R>",
                "fields": [{"name": "Model", "value": "Wan", "inline": True}],
                "footer": {"text": "Job #1"},
                "thumbnail": {"url": "attachment://input.png"},
            }
        ],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 4, "label": "Cancel", "custom_id": "animate:cancel:1"}
                ],
            }
        ],
    }
    msg = fake.new_message(channel, body, [])
    thumb = fake.add_attachment(b"png", "input.png", "image/png")
    video = fake.add_attachment(b"mp4-bytes", "animate-1.mp4", "video/mp4")
    msg.attachments = [thumb, video]

    view = message(fake, msg, Reader("en-US", now=1000.0, names={"42": "alice"}))

    assert view["embeds"][0]["thumbnail"] == f"/attachments/{thumb.id}/input.png"
    assert [a["filename"] for a in view["attachments"]] == ["animate-1.mp4"], (
        "the thumbnail shows in the embed, not again as a file"
    )
    assert view["buttons"] == [
        {
            "label": "Cancel",
            "custom_id": "animate:cancel:1",
            "style": 4,
            "url": None,
            "disabled": False,
        }
    ]
    assert text(view).splitlines() == [
        "**animate-bot (bot)**",
        "> @alice",
        "> **✅ Done**",
        "> ready in a minute",
        "> - Model: Wan",
        "> *Job #1*",
        "> [thumbnail]",
        "> 📎 animate-1.mp4 (video/mp4, 9 bytes)",
        "> buttons: [Cancel]",
    ]
