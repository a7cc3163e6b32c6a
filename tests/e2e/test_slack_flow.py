"""Slack end to end: the real Bolt app (Socket Mode) against the fake Slack and the emulator."""

from __future__ import annotations

from tests.e2e.harness import png
from tests.e2e.slack_world import (
    SlackWorld,
    creates,
    decode,
    job_of,
    status_messages,
    videos_in,
)
from tests.emulator.helpers import clip_bytes
from tests.fakeslack import pings


async def test_animate_modal_submit_status_then_mp4_in_its_thread(slack_world: SlackWorld) -> None:
    w = slack_world
    await w.start()
    status = await w.animate("the cat waves", fields={"resolution.wan2.6-i2v-flash": "720P"})
    job = job_of(status)
    assert w.slack.open_view(w.alice) is None, "a valid submission closes the modal"
    assert "Queued" in status.text or "⏳" in status.text

    shared = await w.drive(lambda: videos_in(w.slack, w.general, status.ts))
    assert len(shared) == 1
    video = shared[0].files[0]
    assert video.name == f"animate-{job}.mp4"
    assert decode(video.data) > 0, "PyAV decodes real frames from the shared MP4"
    assert f"<@{w.alice.id}>" in shared[0].text, "the requester is told in the thread"
    # the status message ends in its final state with Regenerate and Show again
    assert "✅" in status.text
    actions = [
        e["action_id"]
        for b in status.blocks
        for e in b.get("elements", [])
        if b["type"] == "actions"
    ]
    assert actions == ["animate:regen", "animate:show"]
    # uploaded with the three-step flow, never files.upload
    methods = [r.method for r in w.slack.requests()]
    assert "files.upload" not in methods
    assert methods.count("files.getUploadURLExternal") == 1
    assert methods.count("files.completeUploadExternal") == 1
    # nothing the bot posted pings anyone but the requester
    for m in w.slack.all_messages():
        assert pings(m.text, m.blocks) <= {f"<@{w.alice.id}>"}


async def test_message_shortcut_animates_the_picture_in_that_messages_thread(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    bob = w.slack.add_user("bob")
    photo = w.picture(name="IMG_0042.png", user=bob)
    root = await w.slack.post_message(bob, w.general, "look at this")
    post = await w.slack.post_message(bob, w.general, "my cat", files=[photo], thread_ts=root.ts)
    env = await w.slack.wait_acked(await w.slack.message_shortcut(w.alice, post))
    assert env.outcome == "acked"
    modal = await w.slack.wait_for(lambda: w.slack.open_view(w.alice))
    assert not any(b["type"] == "input" and b["block_id"] == "image" for b in modal.body["blocks"])
    await w.submit({"duration.wan2.6-i2v-flash": "2"}, prompt="the cat blinks")

    status = await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    assert status[0].thread_ts == root.ts, "the status message goes into the message's thread"
    shared = await w.drive(lambda: videos_in(w.slack, w.general, root.ts))
    assert len(shared) == 1 and decode(shared[0].files[0].data) > 0
    assert w.slack.hooks.downloads == [(photo.id, "bytes")], "read with the bot token"
    (job,) = await w.rt.service.recent(platform="slack", user=w.alice.id)  # type: ignore[union-attr]
    assert job.chat.thread == root.ts and job.chat.status_message == status[0].ts


async def test_a_pdf_named_png_is_refused_in_the_modal_and_nothing_is_spent(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    await w.open_form()
    fake_png = w.picture(b"%PDF-1.7\n" + b"0" * 2000, name="cat.png")
    assert fake_png.mimetype == "image/png", "Slack labels it by its name"
    await w.submit(prompt="the cat waves", image=[fake_png])

    modal = w.slack.open_view(w.alice)
    assert modal is not None, "the modal stays open"
    assert list(modal.errors) == ["image"] and "PDF" in modal.errors["image"]
    assert w.emu.tasks == {} and not [r for r in w.emu.request_log if r.method == "POST"]
    assert await w.rt.service.recent(platform="slack", user=w.alice.id) == []  # type: ignore[union-attr]
    assert status_messages(w.slack, w.general) == []


async def test_mention_laden_prompts_never_ping(slack_world: SlackWorld) -> None:
    w = slack_world
    await w.start()
    carol = w.slack.add_user("carol")
    nasty = (
        f"<!channel> <!here> <!everyone> <@{carol.id}> <!subteam^S0123ABCD|@team> "
        "@here @channel & <https://evil.example|click> *bold* `code`"
    )
    status = await w.animate(nasty)
    await w.drive(lambda: videos_in(w.slack, w.general, status.ts))
    for m in w.slack.all_messages():
        assert not m.parse_mentions
        assert pings(m.text, m.blocks) <= {f"<@{w.alice.id}>"}, (m.text, m.blocks)
    # the prompt is shown as the user wrote it, in plain text Slack does not parse
    shown = [b["text"] for b in status.blocks if b["type"] == "section"]
    assert {"type": "plain_text", "text": nasty, "emoji": False} in shown
    # and the private "Show again" copy neither
    await w.slack.wait_acked(await w.slack.click(w.alice, status, "animate:show"))
    (copy,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    assert pings(copy.text, copy.blocks) == set()


async def test_an_end_image_from_the_modal_is_the_videos_last_frame(
    slack_world: SlackWorld,
) -> None:
    """wan2.7 offers an optional end image; a model that cannot end on one shows no input."""
    w = slack_world
    await w.start()
    await w.open_form(text="day turns to night")
    modal = w.slack.open_view(w.alice)
    assert modal is not None
    assert not [b for b in modal.body["blocks"] if b.get("block_id", "").startswith("end_image")]
    modal = await w.choose_model("wan2.7-i2v")
    (end,) = [b for b in modal.body["blocks"] if b.get("block_id") == "end_image.wan2.7-i2v"]
    assert end["optional"] is True and end["element"]["type"] == "file_input"

    last = w.picture(png(320, 240, (0, 0, 255)), "night.png")
    await w.submit(
        {"end_image.wan2.7-i2v": [last], "duration.wan2.7-i2v": "3"}, image=[w.picture()]
    )
    (status,) = await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    await w.drive(lambda: videos_in(w.slack, w.general, status.ts))
    (body,) = creates(w.emu)
    assert [m["type"] for m in body["input"]["media"]] == ["first_frame", "last_frame"]
    assert body["parameters"]["duration"] == 3


async def test_a_video_from_the_form_is_continued_without_a_picture(
    slack_world: SlackWorld,
) -> None:
    """wan2.7 takes a clip to continue in place of the picture (then optional); the clip goes
    out as first_clip and the duration is the whole output's."""
    w = slack_world
    await w.start()
    await w.open_form(text="the walk goes on")
    modal = await w.choose_model("wan2.7-i2v")
    blocks = {b.get("block_id"): b for b in modal.body["blocks"]}
    assert blocks["image"]["optional"] is True, "a clip may stand in for the picture"
    assert blocks["clip.wan2.7-i2v"]["element"]["filetypes"] == ["mp4", "mov"]

    clip = w.slack.upload_file(w.alice, clip_bytes(3.0), "walk.mp4")
    await w.submit({"clip.wan2.7-i2v": [clip], "duration.wan2.7-i2v": "6"})
    (status,) = await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    await w.drive(lambda: videos_in(w.slack, w.general, status.ts))
    (body,) = creates(w.emu)
    (media,) = body["input"]["media"]
    assert media["type"] == "first_clip" and body["parameters"]["duration"] == 6
