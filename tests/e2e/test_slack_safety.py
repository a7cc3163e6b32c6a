"""Slack safety end to end: duplicate deliveries, rate limits, missing scopes, slow pictures,
and tokens in logs."""

from __future__ import annotations

import logging

from core.domain.jobs import JobStatus
from tests.e2e.harness import captured_logs
from tests.e2e.slack_world import SlackWorld, job_of, status_messages, videos_in


async def test_a_submission_delivered_twice_makes_one_job(slack_world: SlackWorld) -> None:
    w = slack_world
    await w.start()
    await w.open_form()
    env = await w.submit(prompt="once", image=[w.picture()])
    await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    again = await w.slack.wait_acked(await w.slack.socket.redeliver(env))
    assert again.outcome == "acked" and again.retry_attempt == 1
    assert w.rt is not None
    assert len(await w.rt.service.recent(platform="slack", user=w.alice.id)) == 1
    assert len(status_messages(w.slack, w.general)) == 1


async def test_a_429_delays_delivery_by_at_least_retry_after(slack_world: SlackWorld) -> None:
    w = slack_world
    await w.start()
    status = await w.animate("patience")
    assert w.rt is not None
    w.slack.fail_next("files.completeUploadExternal", "ratelimited", retry_after=120)
    # run until the upload was refused once
    await w.drive(lambda: w.slack.requests("files.completeUploadExternal"))
    row = await w.rt.store.get_job(job_of(status))
    assert row is not None and row.status is JobStatus.DOWNLOADED
    assert row.deliver_at is not None
    assert (row.deliver_at - w.clock.now()).total_seconds() >= 119
    assert videos_in(w.slack, w.general, status.ts) == []
    # later it goes out, once: the failed completion shared nothing
    shared = await w.drive(lambda: videos_in(w.slack, w.general, status.ts), step=30)
    assert len(shared) == 1
    assert [r.status for r in w.slack.requests("files.completeUploadExternal")] == [429, 200]


async def test_without_files_read_the_user_is_told_which_permission_is_missing(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start()
    w.slack.bot_scopes.discard("files:read")
    await w.open_form()
    await w.submit(prompt="the cat waves", image=[w.picture()])
    modal = w.slack.open_view(w.alice)
    assert modal is not None and "files:read" in modal.errors["image"]
    assert "can't read" not in modal.errors["image"].lower()
    assert w.slack.hooks.downloads[-1][1] == "login_page"
    assert w.emu.tasks == {}


async def test_a_picture_slower_than_the_ack_window_answers_in_the_modal_later(
    slack_world: SlackWorld,
) -> None:
    w = slack_world
    await w.start(ack_budget=0.0)  # every submission misses the window
    await w.open_form()
    env = await w.submit(prompt="slow", image=[w.picture(b"%PDF-1.4 not a picture", "a.png")])
    assert env.ack_payload["response_action"] == "update"
    modal = w.slack.open_view(w.alice)
    assert modal is not None
    await w.slack.wait_for(lambda: modal.updates >= 2)  # "checking", then the form again
    assert "PDF" in modal.body["blocks"][0]["text"]["text"]
    assert modal.body["callback_id"] == "animate_modal", "the form is back, with the reason"

    await w.submit(image=[w.picture()], prompt="slow but fine")
    (status,) = await w.slack.wait_for(lambda: status_messages(w.slack, w.general))
    assert "slow but fine" in str(status.blocks)
    await w.slack.wait_for(lambda: modal.updates >= 4)
    assert "has started" in modal.body["blocks"][0]["elements"][0]["text"]


async def test_tokens_never_reach_the_logs(slack_world: SlackWorld) -> None:
    w = slack_world
    with captured_logs(secrets=()) as out:  # no configured secrets: redaction by shape alone
        for name in ("slack_bolt", "slack_sdk"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        try:
            await w.start()
            status = await w.animate("log me")
            await w.drive(lambda: videos_in(w.slack, w.general, status.ts))
        finally:
            for name in ("slack_bolt", "slack_sdk"):
                logging.getLogger(name).setLevel(logging.NOTSET)
    text = out.getvalue()
    assert "chat.postMessage" in text or "files.completeUploadExternal" in text, "DEBUG was on"
    assert w.slack.bot_token not in text and w.slack.app_token not in text
    assert w.slack.bot_token.split("-", 1)[1] not in text
