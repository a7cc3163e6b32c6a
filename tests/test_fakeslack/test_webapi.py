"""Web API rules of the fake, judged through the real slack_sdk AsyncWebClient."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import BOT_SCOPES, ChannelKind, FakeSlack, pings


async def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        await call
    data: dict[str, Any] = caught.value.response.data
    return data


async def test_tokens_are_checked_by_type(slack: FakeSlack) -> None:
    general = slack.add_channel("general")
    anonymous = AsyncWebClient(base_url=slack.api_url)
    assert (await error_of(anonymous.auth_test()))["error"] == "not_authed"
    stranger = AsyncWebClient(token="xoxb-0-0-nope", base_url=slack.api_url)
    assert (await error_of(stranger.auth_test()))["error"] == "invalid_auth"
    app_level = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    post = app_level.chat_postMessage(channel=general.id, text="x")
    assert (await error_of(post))["error"] == "not_allowed_token_type"
    bot = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    opened = bot.apps_connections_open(app_token=slack.bot_token)
    assert (await error_of(opened))["error"] == "not_allowed_token_type"
    url = (await bot.apps_connections_open(app_token=slack.app_token))["url"]
    assert url.startswith(f"ws://127.0.0.1:{slack.port}/link/?ticket=")
    slack.revoke(slack.bot_token)
    assert (await error_of(bot.auth_test()))["error"] == "token_revoked"


async def test_missing_scope_names_needed_and_provided(client: AsyncWebClient) -> None:
    slack_scopes = set(BOT_SCOPES) - {"users:read"}
    async with FakeSlack(bot_scopes=slack_scopes) as narrow:
        user = narrow.add_user("dan")
        c = AsyncWebClient(token=narrow.bot_token, base_url=narrow.api_url)
        data = await error_of(c.users_info(user=user.id))
        assert (data["error"], data["needed"]) == ("missing_scope", "users:read")
        assert "users:read" not in data["provided"].split(",")
        assert "chat:write" in data["provided"].split(",")


async def test_channel_visibility_and_membership(slack: FakeSlack, client: AsyncWebClient) -> None:
    secret = slack.add_channel("secret", kind=ChannelKind.PRIVATE, bot_member=False)
    public = slack.add_channel("random", bot_member=False)
    post = client.chat_postMessage(channel=secret.id, text="x")
    assert (await error_of(post))["error"] == "channel_not_found"
    assert (await client.chat_postMessage(channel=public.id, text="x"))["ok"]  # chat:write.public
    history = client.conversations_history(channel=public.id)
    assert (await error_of(history))["error"] == "not_in_channel"
    await client.conversations_join(channel=public.id)
    assert len((await client.conversations_history(channel=public.id))["messages"]) == 1
    slack.bot_scopes.discard("chat:write.public")
    other = slack.add_channel("other", bot_member=False)
    post = client.chat_postMessage(channel=other.id, text="x")
    assert (await error_of(post))["error"] == "not_in_channel"


async def test_messages_are_stored_raw_and_pings_are_visible(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    general = slack.add_channel("general")
    alice = slack.add_user("alice")
    text = f"<@{alice.id}> done; prompt was &lt;!channel&gt; @here"
    r = await client.chat_postMessage(channel=general.id, text=text, unfurl_links=False)
    message = general.messages[r["ts"]]
    assert message.text == text and message.unfurl_links is False
    assert pings(message.text, message.blocks) == {f"<@{alice.id}>"}
    loud = await client.chat_postMessage(channel=general.id, text="@here look", link_names=True)
    assert pings(general.messages[loud["ts"]].text, parse_mentions=True) == {"<!here>"}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "<!everyone>"}}]
    plain = [{"type": "section", "text": {"type": "plain_text", "text": "<!everyone>"}}]
    assert pings("", blocks) == {"<!everyone>"} and pings("", plain) == set()


async def test_threads_metadata_and_permalinks(slack: FakeSlack, client: AsyncWebClient) -> None:
    general = slack.add_channel("general")
    parent = await client.chat_postMessage(channel=general.id, text="job")
    meta = {"event_type": "animate_result", "event_payload": {"job_id": "j1"}}
    reply = await client.chat_postMessage(
        channel=general.id, text="result", thread_ts=parent["ts"], metadata=meta
    )
    plain = await client.conversations_replies(channel=general.id, ts=parent["ts"])
    assert [m["ts"] for m in plain["messages"]] == [parent["ts"], reply["ts"]]
    assert "metadata" not in plain["messages"][1]
    full = await client.conversations_replies(
        channel=general.id, ts=parent["ts"], include_all_metadata=True
    )
    assert full["messages"][1]["metadata"] == meta
    assert full["messages"][0]["reply_count"] == 1
    link = await client.chat_getPermalink(channel=general.id, message_ts=reply["ts"])
    assert link["permalink"].endswith(f"?thread_ts={parent['ts']}&cid={general.id}")
    assert [m.ts for m in slack.messages_in(general)] == [parent["ts"]]


async def test_message_limits(slack: FakeSlack, client: AsyncWebClient) -> None:
    general = slack.add_channel("general")
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        assert (await error_of(client.chat_postMessage(channel=general.id)))["error"] == "no_text"
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    data = await error_of(
        client.chat_postMessage(channel=general.id, text="x", blocks=long_section)
    )
    assert data["error"] == "invalid_blocks"
    assert "3001" in data["response_metadata"]["messages"][0]
    r = await client.chat_postMessage(channel=general.id, text="ok")
    update = client.chat_update(channel=general.id, ts=r["ts"], text="y" * 4001)
    assert (await error_of(update))["error"] == "msg_too_long"
    alice = slack.add_user("alice")
    theirs = await slack.post_message(alice, general, "mine")
    update = client.chat_update(channel=general.id, ts=theirs.ts, text="edit")
    assert (await error_of(update))["error"] == "cant_update_message"


async def test_tier_limits_answer_429_until_the_window_moves(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    general = slack.add_channel("general")
    r = await client.chat_postMessage(channel=general.id, text="0")
    for i in range(50):  # chat.update is Tier 3: 50+/min
        await client.chat_update(channel=general.id, ts=r["ts"], text=str(i))
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=general.id, ts=r["ts"], text="one too many")
    assert caught.value.response.status_code == 429
    assert int(caught.value.response.headers["Retry-After"]) == 60
    await slack.advance(60)
    assert (await client.chat_update(channel=general.id, ts=r["ts"], text="later"))["ok"]


async def test_commercial_apps_get_one_replies_call_a_minute(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.limiter.commercial = True  # non-Marketplace commercial distribution (2025 change)
    general = slack.add_channel("general")
    parent = await client.chat_postMessage(channel=general.id, text="p")
    for i in range(20):
        await slack.advance(1.1)  # chat.postMessage: about 1/s per channel
        await client.chat_postMessage(channel=general.id, text=str(i), thread_ts=parent["ts"])
    page = await client.conversations_replies(channel=general.id, ts=parent["ts"], limit=100)
    assert len(page["messages"]) == 15 and page["has_more"]
    again = client.conversations_replies(channel=general.id, ts=parent["ts"])
    assert (await error_of(again))["error"] == "ratelimited"


async def test_users_info_admin_and_locale(slack: FakeSlack, client: AsyncWebClient) -> None:
    li = slack.add_user("li", locale="zh-CN", admin=True)
    info = await client.users_info(user=li.id, include_locale=True)
    assert (info["user"]["locale"], info["user"]["is_admin"]) == ("zh-CN", True)
    assert "locale" not in (await client.users_info(user=li.id))["user"]
    assert (await error_of(client.users_info(user="U0NOBODY00")))["error"] == "user_not_found"


async def test_ephemerals_need_the_user_in_the_channel(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    general = slack.add_channel("general", members=[alice])
    r = await client.chat_postEphemeral(channel=general.id, user=alice.id, text="only you")
    assert r["message_ts"] and slack.ephemerals_for(alice)[0].text == "only you"
    post = client.chat_postEphemeral(channel=general.id, user=bob.id, text="x")
    assert (await error_of(post))["error"] == "user_not_in_channel"
    assert slack.messages_in(general) == []
