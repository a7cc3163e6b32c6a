"""The fake Discord's own contract: the rules the bot is held to must really be enforced."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from playground.fakediscord import MIB, ChannelType, FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        yield f


async def post(session: aiohttp.ClientSession, url: str, body: object) -> tuple[int, Any]:
    async with session.post(url, json=body) as resp:
        assert resp.headers["Content-Type"] == "application/json", "exact type (trap 1)"
        return resp.status, await resp.json()


async def test_first_response_after_3_seconds_is_unknown_interaction(fake: FakeDiscord) -> None:
    guild = fake.add_guild()
    text = fake.add_channel(guild)
    inter = await fake.slash("animate", text, fake.user("a"), prompt="x")
    fake.advance(3.5)
    async with aiohttp.ClientSession() as s:
        url = f"{fake.api_base}/interactions/{inter.id}/{inter.token}/callback"
        status, body = await post(s, url, {"type": 5})
    assert (status, body["code"]) == (404, 10062)


async def test_interaction_token_dies_after_15_minutes(fake: FakeDiscord) -> None:
    text = fake.add_channel(fake.add_guild())
    inter = await fake.slash("animate", text, fake.user("a"), prompt="x")
    async with aiohttp.ClientSession() as s:
        base = f"{fake.api_base}"
        status, body = await post(
            s, f"{base}/interactions/{inter.id}/{inter.token}/callback", {"type": 5}
        )
        assert status == 200 and body["interaction"]["response_message_loading"] is True
        fake.advance(15 * 60 + 1)
        url = f"{base}/webhooks/{fake.app_id}/{inter.token}/messages/@original"
        async with s.patch(url, json={"content": "late"}) as resp:
            assert resp.status == 401 and (await resp.json())["code"] == 50027


async def test_upload_over_the_guild_limit_is_413(fake: FakeDiscord) -> None:
    text = fake.add_channel(fake.add_guild())
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "big"}))
    big = io.BytesIO(b"\0" * (10 * MIB + 1))
    form.add_field("files[0]", big, filename="v.mp4", content_type="application/octet-stream")
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{fake.api_base}/channels/{text.id}/messages", data=form, headers=headers) as resp,
    ):
        assert resp.status == 413 and (await resp.json())["code"] == 40005
    assert fake.log[-1].files[0].filename == "v.mp4"


async def test_rest_needs_the_bot_token_but_interactions_do_not(fake: FakeDiscord) -> None:
    text = fake.add_channel(fake.add_guild())
    async with aiohttp.ClientSession() as s:
        status, _ = await post(s, f"{fake.api_base}/channels/{text.id}/messages", {"content": "x"})
    assert status == 401


async def test_threads_only_from_text_channels(fake: FakeDiscord) -> None:
    guild = fake.add_guild()
    voice = fake.add_channel(guild, ChannelType.GUILD_VOICE, "voice")
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as s:
        _, msg = await post(s, f"{fake.api_base}/channels/{voice.id}/messages", {"content": "hi"})
        url = f"{fake.api_base}/channels/{voice.id}/messages/{msg['id']}/threads"
        status, body = await post(s, url, {"name": "t"})
    assert (status, body["code"]) == (400, 50024)


async def test_an_upload_without_a_type_is_labelled_by_its_name_as_discord_does(
    fake: FakeDiscord,
) -> None:
    channel = fake.add_channel(fake.add_guild())
    form = aiohttp.FormData()
    form.add_field("payload_json", '{"content": "x"}', content_type="application/json")
    form.add_field("files[0]", b"mp4", filename="clip.mp4", content_type="application/octet-stream")
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{fake.api_base}/channels/{channel.id}/messages", data=form, headers=headers) as r,
    ):
        assert r.status == 200
    (posted,) = fake.messages_in(channel)
    assert posted.attachments[0].content_type == "video/mp4"
