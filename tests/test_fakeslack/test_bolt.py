"""The fake's contract with the real clients: a real Bolt AsyncApp over Socket Mode drives it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import FakeSlack
from tests.test_fakeslack.conftest import Bolt

MakeBolt = Callable[..., Bolt]

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "animate_modal",
    "title": {"type": "plain_text", "text": "Animate"},
    "submit": {"type": "plain_text", "text": "Animate"},
    "blocks": [
        {
            "type": "input",
            "block_id": "prompt",
            "label": {"type": "plain_text", "text": "Prompt"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "image",
            "label": {"type": "plain_text", "text": "Image"},
            "element": {"type": "file_input", "action_id": "file", "max_files": 1},
        },
        {
            "type": "input",
            "block_id": "model",
            "label": {"type": "plain_text", "text": "Model"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": n}, "value": n}
                    for n in ("wan2.6-i2v-flash", "wanx2.1-i2v-plus")
                ],
            },
        },
    ],
}


async def test_command_modal_submit_errors_then_close(
    slack: FakeSlack, make_bolt: MakeBolt
) -> None:
    alice = slack.add_user("alice", locale="zh-CN")
    general = slack.add_channel("general", members=[alice])
    bolt = make_bolt()
    seen: list[dict[str, Any]] = []

    @bolt.app.command("/animate")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = {**MODAL, "private_metadata": body["channel_id"]}
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @bolt.app.view("animate_modal")
    async def on_submit(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        seen.append(values)
        if len(values["prompt"]["text"]["value"]) < 3:
            await ack(response_action="errors", errors={"prompt": "Too short"})
            return
        await ack()
        f = values["image"]["file"]["files"][0]
        headers = {"Authorization": f"Bearer {client.token}"}
        async with (
            aiohttp.ClientSession() as s,
            s.get(f["url_private_download"], headers=headers) as r,
        ):
            data = await r.read()
        await client.chat_postMessage(channel=view["private_metadata"], text=f"{len(data)} bytes")

    await bolt.start()
    env = await slack.wait_acked(await slack.command(alice, general, "a cat"))
    assert env.outcome == "acked" and env.payload["text"] == "a cat"
    modal = await slack.wait_for(lambda: slack.open_view(alice))
    assert modal.body["callback_id"] == "animate_modal"

    image = slack.upload_file(alice, b"\x89PNG fake", "cat.png")
    first = await slack.wait_acked(
        await slack.submit_view(
            alice, {"prompt": "a", "image": [image], "model": "wan2.6-i2v-flash"}
        )
    )
    assert first.ack_payload == {"response_action": "errors", "errors": {"prompt": "Too short"}}
    assert slack.open_view(alice) is modal and modal.errors == {"prompt": "Too short"}

    second = await slack.submit_view(
        alice, {"text": "a cat", "file": [image], "pick": "wanx2.1-i2v-plus"}
    )
    await slack.wait_acked(second)
    assert slack.open_view(alice) is None and modal.closed
    posted = await slack.wait_for(lambda: slack.messages_in(general))
    assert posted[0].text == f"{len(image.data)} bytes"
    assert seen[1]["model"]["pick"]["selected_option"]["value"] == "wanx2.1-i2v-plus"
    assert seen[1]["image"]["file"]["files"][0]["id"] == image.id
    # Bolt authorised itself once, with auth.test, on the first request
    assert len(slack.requests("auth.test")) == 1


async def test_button_click_and_message_shortcut(
    slack: FakeSlack, make_bolt: MakeBolt, client: AsyncWebClient
) -> None:
    bob = slack.add_user("bob")
    general = slack.add_channel("general", members=[bob])
    bolt = make_bolt()
    clicks: list[dict[str, Any]] = []
    shortcuts: list[dict[str, Any]] = []

    @bolt.app.action("animate:cancel")
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        clicks.append(body)
        c = body["container"]
        await client.chat_update(channel=c["channel_id"], ts=c["message_ts"], text="Cancelled")

    @bolt.app.message_shortcut("animate_image")
    async def on_shortcut(ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        shortcuts.append(shortcut)

    await bolt.start()
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Working…"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "action_id": "animate:cancel",
                    "value": "job-42",
                }
            ],
        },
    ]
    r = await client.chat_postMessage(channel=general.id, text="Working…", blocks=blocks)
    message = general.messages[r["ts"]]
    await slack.wait_acked(await slack.click(bob, message, "animate:cancel"))
    await slack.wait_for(lambda: message.edits)
    assert message.text == "Cancelled"
    action = clicks[0]["actions"][0]
    assert (action["value"], action["block_id"]) == ("job-42", message.blocks[1]["block_id"])
    assert clicks[0]["message"]["ts"] == message.ts

    photo = slack.upload_file(bob, b"img", "dog.jpg")
    post = await slack.post_message(bob, general, "look", files=[photo])
    env = await slack.wait_acked(await slack.message_shortcut(bob, post))
    assert env.outcome == "acked"
    assert shortcuts[0]["message"]["files"][0]["id"] == photo.id
    assert shortcuts[0]["callback_id"] == "animate_image"


async def test_unacked_event_is_redelivered_with_retry_headers(
    slack: FakeSlack, make_bolt: MakeBolt
) -> None:
    # process_before_response: Bolt acks only after the listener, so the fake can time it out
    bolt = make_bolt(process_before_response=True)
    gate, entered = asyncio.Event(), asyncio.Queue[tuple[Any, Any]]()

    @bolt.app.event("app_mention")
    async def on_mention(request: AsyncBoltRequest) -> None:
        headers = request.headers  # Bolt mirrors retry_attempt/retry_reason as HTTP headers
        num, reason = headers.get("x-slack-retry-num"), headers.get("x-slack-retry-reason")
        entered.put_nowait((num and num[0], reason and reason[0]))
        await gate.wait()

    await bolt.start()
    first = await slack.send_event({"type": "app_mention", "text": "hi", "ts": slack.new_ts()})
    assert await asyncio.wait_for(entered.get(), 5) == ("0", "")
    await slack.advance(3.5)  # past Slack's 3 s ack window
    assert first.outcome == "operation_timeout"
    assert await asyncio.wait_for(entered.get(), 5) == ("1", "timeout")
    gate.set()
    retry = next(e for e in slack.socket.envelopes.values() if e.retry_attempt == 1)
    await slack.wait_acked(retry)
    assert retry.outcome == "acked" and retry.payload == first.payload
    await slack.wait_for(lambda: first.extra_acks == 1)  # the late ack is ignored


async def test_disconnect_refresh_reconnects(slack: FakeSlack, make_bolt: MakeBolt) -> None:
    carol = slack.add_user("carol")
    general = slack.add_channel("general", members=[carol])
    bolt = make_bolt()

    @bolt.app.command("/animate")
    async def on_command(ack: AsyncAck) -> None:
        await ack("ok")

    await bolt.start()
    old = slack.socket.live[0]
    await slack.socket.disconnect("refresh_requested")
    await slack.wait_for(lambda: len(slack.socket.connections) == 2 and not old.live)
    assert len(slack.requests("apps.connections.open")) == 2
    env = await slack.wait_acked(await slack.command(carol, general, "again"))
    assert env.connection == 1 and env.outcome == "acked"
    assert slack.ephemerals_for(carol)[-1].text == "ok"


async def test_rate_limit_429_is_honoured_by_the_retry_handler(slack: FakeSlack) -> None:
    general = slack.add_channel("general")
    plain = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    slack.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    with pytest.raises(SlackApiError) as caught:
        await plain.chat_postMessage(channel=general.id, text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"

    patient = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    patient.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    slack.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    started = time.monotonic()
    r = await patient.chat_postMessage(channel=general.id, text="y")
    assert r["ok"] and time.monotonic() - started >= 1.0
    assert [x.status for x in slack.requests("chat.postMessage")] == [429, 429, 200]
