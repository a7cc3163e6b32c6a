"""What a Slack user is told when something cannot be done, in their language, with nothing
spent."""

from __future__ import annotations

from core.domain.quota import Limits
from tests.e2e.slack_world import SlackWorld, status_messages
from tests.fakeslack import ChannelKind


async def test_a_private_channel_without_the_bot_is_refused_before_anything_is_read(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    secret = w.slack.add_channel(
        "secret", kind=ChannelKind.PRIVATE, members=[w.alice], bot_member=False
    )
    await w.open_form(channel=secret)
    await w.submit(prompt="hidden", image=[w.picture()])
    modal = w.slack.open_view(w.alice)
    assert modal is not None and "/invite" in modal.errors["image"]
    assert w.slack.hooks.downloads == [], "the picture was not even read"
    assert w.emu.tasks == {}


async def test_the_per_user_cap_refuses_in_the_modal(slack_world: SlackWorld) -> None:
    w = slack_world
    w.limits = Limits(active_jobs=1)
    await w.start()
    await w.animate("first")
    await w.open_form()
    await w.submit(prompt="second", image=[w.picture()])
    modal = w.slack.open_view(w.alice)
    assert modal is not None and "unfinished videos per person (1)" in modal.errors["image"]
    assert len(status_messages(w.slack, w.general)) == 1
    assert len(w.slack.hooks.downloads) == 1, "the second picture was never downloaded"


async def test_a_message_without_a_picture_and_a_late_modal_are_explained(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    words = await w.slack.post_message(w.alice, w.general, "no picture here")
    await w.slack.wait_acked(await w.slack.message_shortcut(w.alice, words))
    (note,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    assert "no picture" in note.text and w.slack.open_view(w.alice) is None

    w.slack.fail_next("views.open", "expired_trigger_id")
    await w.slack.wait_acked(await w.slack.command(w.alice, w.general))
    await w.slack.wait_for(lambda: len(w.slack.ephemerals_for(w.alice)) == 2)
    assert "run /animate again" in w.slack.ephemerals_for(w.alice)[1].text


async def test_a_chinese_speaking_user_gets_the_modal_and_the_refusal_in_chinese(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    li = w.slack.add_user("li", locale="zh-CN")
    w.general.members.add(li.id)
    await w.open_form(user=li)
    modal = w.slack.open_view(li)
    assert modal is not None and modal.body["title"]["text"] == "图生视频"
    await w.submit(
        user=li, prompt="小猫", image=[w.picture(user=li, name="a.png", data=b"not a picture")]
    )
    assert modal.errors and "image" in modal.errors
    status = await w.animate("小猫挥手", user=li)
    assert "排队中" in status.text
    await w.slack.wait_acked(await w.slack.command(li, w.general, "jobs"))
    listing = await w.slack.wait_for(lambda: w.slack.ephemerals_for(li))
    assert "你最近的视频" in listing[-1].text
