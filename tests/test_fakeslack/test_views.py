"""Modal rules: the 3 s single-use trigger, view validation, updates and submit-side checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import FakeSlack
from tests.test_fakeslack.conftest import Bolt

VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "animate_modal",
    "title": {"type": "plain_text", "text": "Animate"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Prompt"},
            "element": {"type": "plain_text_input"},
        }
    ],
}


async def test_trigger_expires_after_3_seconds_and_is_single_use(
    slack: FakeSlack, make_bolt: Callable[..., Bolt]
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice])
    bolt = make_bolt()
    slow, errors = asyncio.Event(), asyncio.Queue[str]()

    @bolt.app.command("/animate")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if body["text"] == "slow":
            await slow.wait()  # e.g. database work before the modal: the trap of §4
        for _ in range(2):
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=VIEW)
            except SlackApiError as exc:
                errors.put_nowait(exc.response["error"])

    await bolt.start()
    await slack.wait_acked(await slack.command(alice, general, "fast"))
    assert await asyncio.wait_for(errors.get(), 5) == "exchanged_trigger_id"
    assert slack.open_view(alice) is not None

    await slack.wait_acked(await slack.command(alice, general, "slow"))
    await slack.advance(3.5)
    slow.set()
    assert await asyncio.wait_for(errors.get(), 5) == "expired_trigger_id"


async def test_views_are_validated_like_slack(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = slack.add_user("alice")
    bad_trigger = client.views_open(trigger_id="1.2.3", view=VIEW)
    with pytest.raises(SlackApiError) as caught:
        await bad_trigger
    assert caught.value.response["error"] == "invalid_trigger_id"
    no_submit = {k: v for k, v in VIEW.items() if k != "submit"}
    trigger = slack.trigger_for(alice)
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=no_submit)
    data = caught.value.response
    assert data["error"] == "invalid_arguments"
    assert "must define `submit` to use input block" in data["response_metadata"]["messages"][0]
    long_title = {**VIEW, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=long_title)
    assert caught.value.response["error"] == "invalid_arguments"
    opened = await client.views_open(trigger_id=trigger, view=VIEW)
    view = opened["view"]
    # Slack fills in missing ids; the app must read them from the payload
    assert view["blocks"][0]["block_id"] and view["blocks"][0]["element"]["action_id"]
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id=view["id"], hash="stale.hash", view=VIEW)
    assert caught.value.response["error"] == "hash_conflict"
    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=VIEW)
    assert updated["view"]["hash"] != view["hash"]


async def test_submit_refuses_what_the_slack_client_would(slack: FakeSlack) -> None:
    alice, bob = slack.add_user("alice"), slack.add_user("bob")
    slack.add_channel("general", members=[alice])
    c = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    with_file = {
        **VIEW,
        "blocks": [
            *VIEW["blocks"],
            {
                "type": "input",
                "block_id": "image",
                "label": {"type": "plain_text", "text": "Image"},
                "element": {"type": "file_input", "action_id": "f", "max_files": 1},
            },
        ],
    }
    view = (await c.views_open(trigger_id=slack.trigger_for(alice), view=with_file))["view"]
    prompt_block = view["blocks"][0]["block_id"]
    with pytest.raises(ValueError, match="required input"):
        await slack.submit_view(alice, {prompt_block: "a cat"})
    not_hers = slack.upload_file(bob, b"x", "b.png")
    with pytest.raises(ValueError, match="own uploads"):
        await slack.submit_view(alice, {prompt_block: "a cat", "image": [not_hers]})
    huge = slack.upload_file(alice, b"\0" * (10 * 1024 * 1024 + 1), "big.png")
    with pytest.raises(ValueError, match="10 MB"):
        await slack.submit_view(alice, {prompt_block: "a cat", "image": [huge]})


async def test_push_stacks_at_most_three_views(slack: FakeSlack, client: AsyncWebClient) -> None:
    alice = slack.add_user("alice")
    root = (await client.views_open(trigger_id=slack.trigger_for(alice), view=VIEW))["view"]
    for _ in range(2):
        pushed = await client.views_push(trigger_id=slack.trigger_for(alice), view=VIEW)
        assert pushed["view"]["root_view_id"] == root["id"]
    with pytest.raises(SlackApiError) as caught:
        await client.views_push(trigger_id=slack.trigger_for(alice), view=VIEW)
    assert caught.value.response["error"] == "push_limit_reached"
    assert len(slack.view_stacks[alice.id]) == 3


SELECTS: dict[str, Any] = {
    **VIEW,
    "blocks": [
        {
            "type": "input",
            "block_id": "model",
            "dispatch_action": True,
            "label": {"type": "plain_text", "text": "Model"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": v}, "value": v} for v in ("a", "b")
                ],
                "initial_option": {"text": {"type": "plain_text", "text": "a"}, "value": "a"},
            },
        },
        {
            "type": "input",
            "block_id": "size",
            "label": {"type": "plain_text", "text": "Size"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": v}, "value": v} for v in ("s", "m")
                ],
            },
        },
        {
            "type": "input",
            "block_id": "prompt",
            "label": {"type": "plain_text", "text": "Prompt"},
            "element": {"type": "plain_text_input", "action_id": "text", "initial_value": "hi"},
        },
    ],
}


async def test_picks_in_a_modal_dispatch_only_with_dispatch_action_and_reach_the_submit(
    slack: FakeSlack, make_bolt: Callable[..., Bolt]
) -> None:
    alice = slack.add_user("alice")
    general = slack.add_channel("general", members=[alice])
    bolt = make_bolt()
    picked: list[dict[str, Any]] = []
    submitted: list[dict[str, Any]] = []

    @bolt.app.command("/animate")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=SELECTS)

    @bolt.app.action("pick")
    async def on_pick(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        picked.append(body)
        size_b = {**SELECTS["blocks"][1], "block_id": "size.b"}
        rebuilt = {**SELECTS, "blocks": [SELECTS["blocks"][0], size_b, SELECTS["blocks"][2]]}
        view = body["view"]
        await client.views_update(view_id=view["id"], hash=view["hash"], view=rebuilt)

    @bolt.app.view("animate_modal")
    async def on_submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        submitted.append(view["state"]["values"])
        await ack()

    await bolt.start()
    await slack.wait_acked(await slack.command(alice, general))
    modal = await slack.wait_for(lambda: slack.open_view(alice))
    # no dispatch_action: the app hears nothing
    assert await slack.choose(alice, "pick", "s", block_id="size") is None
    env = await slack.choose(alice, "pick", "b", block_id="model")  # dispatched
    assert env is not None
    await slack.wait_acked(env)
    await slack.wait_for(lambda: modal.updates == 1)
    body = picked[0]
    assert body["container"] == {"type": "view", "view_id": modal.id}
    assert body["actions"][0]["selected_option"]["value"] == "b"
    state = body["view"]["state"]["values"]
    assert state["size"]["pick"]["selected_option"]["value"] == "s"
    assert state["prompt"]["text"]["value"] == "hi"  # the initial value is the state
    # "size" became "size.b": Slack drops the pick made in the old block
    with pytest.raises(ValueError, match=r"size\.b"):
        await slack.submit_view(alice)
    await slack.wait_acked(await slack.submit_view(alice, {"size.b": "m"}))
    values = submitted[0]
    assert values["model"]["pick"]["selected_option"]["value"] == "b"
    assert values["size.b"]["pick"]["selected_option"]["value"] == "m"
