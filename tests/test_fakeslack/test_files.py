"""Uploads (the v2 three-step flow), the asynchronous share, files.info and private downloads."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import ChannelKind, FakeSlack

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8


async def test_upload_v2_shares_into_the_thread_a_little_later(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    general = slack.add_channel("general")
    parent = await client.chat_postMessage(channel=general.id, text="Animating…")
    slack.share_delay = 2.0
    done = await client.files_upload_v2(
        file=MP4,
        filename="result.mp4",
        channel=general.id,
        thread_ts=parent["ts"],
        initial_comment="Here it is",
    )
    f: dict[str, Any] = done["file"]
    assert f["shares"] == {} and "ts" not in done.data
    assert [r.method for r in slack.requests()][-2:] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert len(slack.thread(general, parent["ts"])) == 1
    assert (await client.files_info(file=f["id"]))["file"]["shares"] == {}

    await slack.advance(2.0)
    thread = slack.thread(general, parent["ts"])
    assert len(thread) == 2
    shared = thread[1]
    assert shared.text == "Here it is" and shared.files[0].data == MP4
    info = (await client.files_info(file=f["id"]))["file"]
    share = info["shares"]["public"][general.id][0]
    assert (share["ts"], share["thread_ts"]) == (shared.ts, parent["ts"])
    assert info["mimetype"] == "video/mp4" and info["size"] == len(MP4)


async def test_default_share_happens_right_after_the_response(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    general = slack.add_channel("general")
    done = await client.files_upload_v2(content=b"hello", filename="a.txt", channel=general.id)
    message = await slack.wait_for(lambda: slack.messages_in(general))
    assert message[0].files[0].id == done["file"]["id"]


async def test_sharing_needs_membership_even_with_chat_write_public(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    public = slack.add_channel("random", bot_member=False)
    with pytest.raises(SlackApiError) as caught:
        await client.files_upload_v2(content=b"x", filename="a.txt", channel=public.id)
    assert caught.value.response["error"] == "not_in_channel"
    alice = slack.add_user("alice")
    with pytest.raises(SlackApiError) as caught:
        await client.files_upload_v2(content=b"x", filename="a.txt", channel=alice.id)
    assert caught.value.response["error"] == "invalid_arguments"


async def test_completing_an_upload_twice_or_without_bytes_is_file_not_found(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    ticket = await client.files_getUploadURLExternal(filename="a.txt", length=3)
    files = [{"id": ticket["file_id"], "title": "a"}]
    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(files=files)
    assert caught.value.response["error"] == "file_not_found"
    async with aiohttp.ClientSession() as s, s.post(ticket["upload_url"], data=b"abc") as r:
        assert (r.status, await r.text()) == (200, "OK - 3")
        assert r.content_type == "text/plain"
    assert (await client.files_completeUploadExternal(files=files))["ok"]
    with pytest.raises(SlackApiError) as caught:
        await client.files_completeUploadExternal(files=files)
    assert caught.value.response["error"] == "file_not_found"


async def fetch(url: str, token: str | None) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, r.content_type, await r.read()


async def test_downloads_need_a_bot_token_with_files_read(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice])
    photo = slack.upload_file(alice, b"\xff\xd8\xff jpeg", "cat.jpg")
    await slack.post_message(alice, general, "my cat", files=[photo])
    url = (await client.files_info(file=photo.id))["file"]["url_private_download"]
    assert await fetch(url, slack.bot_token) == (200, "image/jpeg", photo.data)
    status, kind, body = await fetch(url, None)
    assert (status, kind) == (200, "text/html") and b"Sign in" in body
    slack.bot_scopes.discard("files:read")
    assert (await fetch(url, slack.bot_token))[1] == "text/html"
    assert [o for _, o in slack.hooks.downloads] == ["bytes", "login_page", "login_page"]


async def test_files_in_conversations_the_bot_cannot_see_stay_hidden(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice = slack.add_user("alice")
    hidden = slack.add_channel(
        "secret", kind=ChannelKind.PRIVATE, members=[alice], bot_member=False
    )
    photo = slack.upload_file(alice, b"png", "p.png")
    await slack.post_message(alice, hidden, "", files=[photo])
    with pytest.raises(SlackApiError) as caught:
        await client.files_info(file=photo.id)
    assert caught.value.response["error"] == "file_not_found"
