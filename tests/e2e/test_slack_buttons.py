"""Slack buttons, /animate jobs and the modal's model choice, end to end."""

from __future__ import annotations

import asyncio
import sqlite3

from core.domain.jobs import JobStatus
from tests.e2e.slack_world import SlackWorld, creates, job_of, status_messages, videos_in


async def test_cancel_by_a_stranger_is_refused_by_the_requester_or_an_admin_it_works(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    stranger = w.slack.add_user("mallory")
    admin = w.slack.add_user("root", admin=True)
    first = await w.animate("first")
    second = await w.animate("second")
    assert w.rt is not None

    await w.slack.wait_acked(await w.slack.click(stranger, first, "animate:cancel"))
    (refusal,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(stranger))
    assert "Only the person who started this job" in refusal.text
    assert (await w.rt.service.get(job_of(first))).status is JobStatus.QUEUED  # type: ignore[union-attr]

    await w.slack.wait_acked(await w.slack.click(w.alice, first, "animate:cancel"))
    await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    await w.slack.wait_acked(await w.slack.click(admin, second, "animate:cancel"))
    await w.slack.wait_for(lambda: w.slack.ephemerals_for(admin))
    for status in (first, second):
        job = await w.rt.service.get(job_of(status))
        assert job is not None and job.status is JobStatus.CANCELED
    assert w.emu.tasks == {}, "canceled while queued: nothing reached DashScope"
    # the notices go into each job's thread, and the status messages say so
    await w.drive(lambda: all("🚫" in s.text for s in (first, second)))
    for status in (first, second):
        notice = w.slack.thread(w.general, status.ts)[1:]
        assert len(notice) == 1 and "Canceled" in notice[0].text


async def test_a_click_before_the_status_message_is_recorded_is_refused_for_the_right_reason(
    slack_world: SlackWorld,
) -> None:
    """The status message is posted before its ts is recorded: in between, the requester is
    asked to try again, and a stranger is told the job is not theirs (CI caught the stranger
    told to wait, a race the restart test lost)."""
    w = slack_world
    await w.start()
    stranger = w.slack.add_user("mallory")
    status = await w.animate("first")
    assert w.rt is not None
    for _ in range(1000):  # the front-end records the ts it was given after the post
        job = await w.rt.service.get(job_of(status))
        if job is not None and job.chat.status_message == status.ts:
            break
        await asyncio.sleep(0)  # a turn of the loop for the handler, not a timer
    else:
        raise AssertionError("the status message was never recorded")
    with sqlite3.connect(w.settings.database_path) as db:  # reopen the window on purpose
        db.execute("UPDATE jobs SET status_message_id = NULL WHERE id = ?", (job_of(status),))

    await w.slack.wait_acked(await w.slack.click(stranger, status, "animate:cancel"))
    (refusal,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(stranger))
    assert "Only the person who started this job" in refusal.text
    await w.slack.wait_acked(await w.slack.click(w.alice, status, "animate:cancel"))
    (wait,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    assert "still being set up" in wait.text
    job = await w.rt.service.get(job_of(status))
    assert job is not None and job.status is JobStatus.QUEUED


async def test_buttons_work_after_a_restart_and_regenerate_makes_a_new_job(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    status = await w.animate("the cat waves")
    await w.drive(lambda: videos_in(w.slack, w.general, status.ts))
    await w.stop()
    await w.start()  # a new process: nothing about the old buttons lives in memory

    await w.slack.wait_acked(await w.slack.click(w.alice, status, "animate:regen"))
    statuses = await w.slack.wait_for(
        lambda: s if len(s := status_messages(w.slack, w.general)) == 2 else None
    )
    new = statuses[1]
    assert job_of(new) != job_of(status) and new.thread_ts is None
    assert w.rt is not None
    child = await w.rt.service.get(job_of(new))
    assert child is not None and child.parent_job_id == job_of(status)
    shared = await w.drive(lambda: videos_in(w.slack, w.general, new.ts))
    assert len(shared) == 1

    await w.slack.wait_acked(await w.slack.click(w.alice, status, "animate:show"))
    (copy,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    assert f"job #{job_of(status)}" in copy.blocks[0]["text"]["text"]


async def test_a_button_copied_onto_another_message_does_nothing(slack_world: SlackWorld) -> None:
    w = slack_world
    await w.start()
    status = await w.animate("mine")
    # a message of the bot that is not one of the job's own (an older job's, say)
    other = await w.animate("another")
    other.blocks = status.blocks  # the same job id in the buttons, on a different message
    await w.slack.wait_acked(await w.slack.click(w.alice, other, "animate:cancel"))
    (note,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    assert "not on job" in note.text
    assert w.rt is not None
    assert (await w.rt.service.get(job_of(status))).status is JobStatus.QUEUED  # type: ignore[union-attr]


async def test_animate_jobs_lists_recent_jobs_privately(slack_world: SlackWorld) -> None:
    w = slack_world
    await w.start()
    await w.animate("a <!here> cat")
    env = await w.slack.wait_acked(await w.slack.command(w.alice, w.general, "jobs"))
    assert env.outcome == "acked"
    (listing,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(w.alice))
    assert listing.source == "response_url"
    body = "\n".join(b["text"]["text"] for b in listing.blocks if b["type"] == "section")
    assert "Your recent animations" in body and "a &lt;!here&gt; cat" in body
    assert w.slack.open_view(w.alice) is None, "no modal for a subcommand"
    help_ = await w.slack.wait_acked(await w.slack.command(w.alice, w.general, "help"))
    assert help_.ack_payload is not None and "/animate jobs" in help_.ack_payload["text"]
    assert w.slack.ephemerals_for(w.alice)[-1].source == "ack", "only the asker sees it"


async def test_choosing_another_model_rebuilds_the_modal_with_what_it_allows(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    await w.open_form(text="a cat in the rain")
    modal = w.slack.open_view(w.alice)
    assert modal is not None
    env = await w.slack.choose(w.alice, "animate:model", "wan2.5-i2v-preview")
    assert env is not None
    await w.slack.wait_acked(env)
    await w.slack.wait_for(lambda: modal.updates == 1)
    blocks = {b["block_id"]: b for b in modal.body["blocks"] if b["type"] == "input"}
    options = [o["value"] for o in blocks["resolution.wan2.5-i2v-preview"]["element"]["options"]]
    assert options == ["480P", "720P", "1080P"]
    durations = [o["value"] for o in blocks["duration.wan2.5-i2v-preview"]["element"]["options"]]
    assert durations == ["5", "10"]
    assert "sound.wan2.5-i2v-preview" not in blocks, "this model always has sound"
    assert blocks["prompt"]["element"]["initial_value"] == "a cat in the rain"
    await w.submit({"resolution.wan2.5-i2v-preview": "480P"}, image=[w.picture()])
    status = await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    assert w.rt is not None
    job = await w.rt.service.get(job_of(status[0]))
    assert job is not None
    assert (job.spec.model, job.spec.resolution, job.spec.duration) == (
        "wan2.5-i2v-preview",
        "480P",
        5,
    )


async def test_extend_continues_a_wan27_video_in_its_thread_after_a_restart(
    slack_world: SlackWorld,
) -> None:
    """Extend on Slack: the button on a delivered wan2.7 result, a stranger refused, a form
    with the totals the clip allows (opened after a restart), the clip sent as first_clip
    with the total as the duration, the continuation posted in the same thread."""
    w = slack_world
    await w.start()
    stranger = w.slack.add_user("mallory")
    await w.open_form(text="day")
    await w.choose_model("wan2.7-i2v")
    await w.submit({"duration.wan2.7-i2v": "3"}, image=[w.picture()])
    (status,) = await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    await w.drive(lambda: videos_in(w.slack, w.general, status.ts) and "✅" in status.text)
    actions = [
        e["action_id"] for b in status.blocks if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == ["animate:regen", "animate:show", "animate:extend"]

    await w.stop()  # the button and the form are rebuilt from the click alone
    await w.start()
    await w.slack.wait_acked(await w.slack.click(stranger, status, "animate:extend"))
    (refusal,) = await w.slack.wait_for(lambda: w.slack.ephemerals_for(stranger))
    assert "can extend its video" in refusal.text
    assert w.slack.open_view(stranger) is None

    await w.slack.wait_acked(await w.slack.click(w.alice, status, "animate:extend"))
    form = await w.slack.wait_for(lambda: w.slack.open_view(w.alice))
    assert form.body["callback_id"] == "animate_extend"
    (total,) = [b for b in form.body["blocks"] if b.get("block_id") == "duration"]
    offered = [int(o["value"]) for o in total["element"]["options"]]
    assert offered and min(offered) > 3, "a total longer than the 3 s clip it continues"
    await w.submit(prompt="night falls", duration=str(offered[0]))
    assert w.slack.open_view(w.alice) is None, "the form closes at once"

    (_, again) = await w.slack.wait_for(
        lambda: s if len(s := status_messages(w.slack, w.general)) == 2 else None
    )
    assert again.thread_ts == status.ts, "the continuation's status is in the same thread"
    await w.drive(lambda: len(videos_in(w.slack, w.general, status.ts)) == 2)
    _, second = creates(w.emu)
    (clip,) = second["input"]["media"]
    assert clip["type"] == "first_clip" and second["parameters"]["duration"] == offered[0]
    assert w.rt is not None
    new = await w.rt.service.get(job_of(again))
    assert new is not None and new.clip_seconds is not None and new.spec.prompt == "night falls"
