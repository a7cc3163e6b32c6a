"""Socket Mode details seen from a bare WebSocket client: hello, acks, deadlines, redelivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import FakeSlack


@pytest.fixture
async def ws(slack: FakeSlack) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    app_client = AsyncWebClient(base_url=slack.api_url)
    url = (await app_client.apps_connections_open(app_token=slack.app_token))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as sock:
        yield sock


async def frame(sock: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    data: dict[str, Any] = await sock.receive_json(timeout=5)
    return data


async def test_hello_then_envelopes_and_the_3_second_ack_window(
    slack: FakeSlack, ws: aiohttp.ClientWebSocketResponse
) -> None:
    hello = await frame(ws)
    assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == slack.app_id
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice])
    env = await slack.command(alice, general, "a cat")
    sent = await frame(ws)
    assert (sent["type"], sent["accepts_response_payload"]) == ("slash_commands", True)
    assert sent["payload"]["trigger_id"] and sent["payload"]["command"] == "/animate"
    await slack.advance(3.5)
    assert env.outcome == "operation_timeout"
    await ws.send_json({"envelope_id": env.id, "payload": {"text": "too late"}})
    await slack.wait_for(lambda: env.extra_acks == 1)
    assert slack.ephemerals_for(alice) == []
    assert len(slack.socket.envelopes) == 1  # interactive payloads are not redelivered


async def test_redelivery_duplicates_the_payload(
    slack: FakeSlack, ws: aiohttp.ClientWebSocketResponse
) -> None:
    await frame(ws)
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice])
    env = await slack.command(alice, general, "a cat")
    first = await frame(ws)
    again = await slack.socket.redeliver(env)
    second = await frame(ws)
    assert second["payload"] == first["payload"] and second["envelope_id"] != env.id
    assert (second["retry_attempt"], second["retry_reason"]) == (1, "timeout")
    for e in (env, again):
        await ws.send_json({"envelope_id": e.id})
    await slack.wait_for(lambda: again.outcome == "acked" and env.outcome == "acked")


async def test_ack_payloads_reach_the_user(
    slack: FakeSlack, ws: aiohttp.ClientWebSocketResponse
) -> None:
    await frame(ws)
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice])
    quiet = await slack.command(alice, general, "x")
    await frame(ws)
    await ws.send_json({"envelope_id": quiet.id, "payload": {"text": "Only you see this"}})
    loud = await slack.command(alice, general, "y")
    sent = await frame(ws)
    reply = {"response_type": "in_channel", "text": "Everyone sees this"}
    await ws.send_json({"envelope_id": loud.id, "payload": reply})
    await slack.wait_for(lambda: loud.outcome and slack.messages_in(general))
    assert [e.text for e in slack.ephemerals_for(alice)] == ["Only you see this"]
    assert slack.messages_in(general)[0].text == "Everyone sees this"
    async with aiohttp.ClientSession() as s:
        url = sent["payload"]["response_url"]
        async with s.post(url, json={"text": "later, privately"}) as r:
            assert r.status == 200
    assert slack.ephemerals_for(alice)[-1].source == "response_url"


async def test_view_errors_must_name_input_blocks(
    slack: FakeSlack, ws: aiohttp.ClientWebSocketResponse, client: AsyncWebClient
) -> None:
    await frame(ws)
    alice = slack.add_user("alice")
    view = {
        "type": "modal",
        "callback_id": "m",
        "title": {"type": "plain_text", "text": "T"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "prompt",
                "label": {"type": "plain_text", "text": "Prompt"},
                "element": {"type": "plain_text_input", "action_id": "p"},
            }
        ],
    }
    await client.views_open(trigger_id=slack.trigger_for(alice), view=view)
    env = await slack.submit_view(alice, {"p": "hi"})
    sent = await frame(ws)
    assert sent["payload"]["view"]["state"]["values"] == {
        "prompt": {"p": {"type": "plain_text_input", "value": "hi"}}
    }
    bad = {"response_action": "errors", "errors": {"image": "wrong block"}}
    await ws.send_json({"envelope_id": env.id, "payload": bad})
    await slack.wait_acked(env)
    open_view = slack.open_view(alice)
    assert env.problem and open_view is not None and open_view.errors == {}


async def test_no_connection_is_dispatch_failed_and_bad_tickets_are_refused(
    slack: FakeSlack,
) -> None:
    alice = slack.add_user("alice")
    env = await slack.command(alice, slack.add_channel("general"), "x")
    assert env.outcome == "dispatch_failed"
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await s.ws_connect(f"ws://127.0.0.1:{slack.port}/link/?ticket=forged")
    assert caught.value.status == 401


async def test_response_action_update_and_view_closed(
    slack: FakeSlack, ws: aiohttp.ClientWebSocketResponse, client: AsyncWebClient
) -> None:
    await frame(ws)
    alice = slack.add_user("alice")
    view = {
        "type": "modal",
        "callback_id": "m",
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": "Step 1"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    await client.views_open(trigger_id=slack.trigger_for(alice), view=view)
    env = await slack.submit_view(alice)
    await frame(ws)
    step2 = {**view, "title": {"type": "plain_text", "text": "Step 2"}}
    await ws.send_json(
        {"envelope_id": env.id, "payload": {"response_action": "update", "view": step2}}
    )
    await slack.wait_acked(env)
    top = slack.open_view(alice)
    assert top is not None and top.body["title"]["text"] == "Step 2" and top.updates == 1
    closed = await slack.close_view(alice)
    sent = await frame(ws)
    assert closed is not None and sent["payload"]["type"] == "view_closed"
    assert slack.open_view(alice) is None
