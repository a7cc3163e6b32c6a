"""The Slack DeliveryPort against the fake Slack: exactly once at every point a post can break.

Each case stops where a crash or a lost answer can leave it (the engine then calls
``find_posted`` before posting again), and checks that the thread ends with exactly one
outcome."""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.jobs import JobStatus, JobView
from core.ports import DeliveryError
from slackapp.api_errors import Pace
from slackapp.slack_port import SlackPort
from slackapp.thread_scan import Identity
from slackapp.video_share import VideoShare
from tests.fakeslack import FakeChannel, FakeMessage, FakeSlack, pings
from tests.slackapp.conftest import MP4

MakeJob = Callable[..., JobView]


def videos(slack: FakeSlack, general: FakeChannel, job: JobView) -> list[FakeMessage]:
    assert job.chat.thread is not None
    return [m for m in slack.thread(general, job.chat.thread) if m.files]


async def test_the_mp4_is_shared_into_the_thread_and_found_again(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job()
    ts = await port.post_result(job)
    (shared,) = videos(slack, general, job)
    assert ts == shared.ts and shared.files[0].data == MP4
    assert shared.files[0].name == f"animate-{job.id}.mp4"
    assert await port.find_posted(job) == ts
    status = general.messages[job.chat.status_message or ""]
    assert status.metadata is not None
    assert status.metadata["event_payload"]["upload"] == shared.files[0].id, "the intent marker"
    assert "✅" in status.text, "the status message shows the outcome"


async def test_an_upload_reserved_but_never_completed_is_sent_again_once(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job()
    # the crash came after the marker and the bytes, before files.completeUploadExternal
    slack.fail_next("files.completeUploadExternal", "internal_error")
    with pytest.raises(DeliveryError):
        await port.post_result(job)
    assert videos(slack, general, job) == []
    assert await port.find_posted(job) is None, "Slack never completed it: not posted"
    ts = await port.post_result(job)
    assert [m.ts for m in videos(slack, general, job)] == [ts]


async def test_a_completed_upload_whose_message_is_late_is_not_sent_twice(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job()
    slack.share_delay = math.inf  # Slack accepted the file; its message has not appeared
    first = await port.post_result(job)
    assert first.startswith("file:")
    assert videos(slack, general, job) == []
    assert await port.find_posted(job) == first, "completed: it counts as posted"
    slack.share_delay = 0.0
    slack.pending_shares[:] = [(0.0, share) for _, share in slack.pending_shares]
    await slack.tick()
    assert len(videos(slack, general, job)) == 1
    assert await port.find_posted(job) == videos(slack, general, job)[0].ts


async def test_a_lost_answer_to_the_completion_is_looked_up_not_resent(
    slack: FakeSlack, general: FakeChannel, make_job: MakeJob
) -> None:
    """Slack completed the share, the answer never arrived: the port asks files.info."""

    async def lose_it(_: object, __: object, params: aiohttp.TraceRequestEndParams) -> None:
        if params.url.path.endswith("files.completeUploadExternal"):
            raise aiohttp.ServerDisconnectedError()

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(lose_it)
    async with aiohttp.ClientSession(trace_configs=[trace]) as lossy:
        client = AsyncWebClient(
            token=slack.bot_token, base_url=slack.api_url, session=lossy, retry_handlers=[]
        )
        port = SlackPort(client, VideoShare(client, lossy, waits=(0.0,)))
        port.identity = Identity(slack.team_id, slack.bot_user.id, slack.bot_id)
        job = make_job()
        ts = await port.post_result(job)
    (shared,) = videos(slack, general, job)
    assert ts == shared.ts
    assert len(slack.requests("files.completeUploadExternal")) == 1
    # the answer was lost (one files.info to learn the outcome) before the usual one
    assert len(slack.requests("files.info")) == 2


async def test_a_failure_notice_is_tagged_and_found_after_a_crash(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job(
        JobStatus.FAILED,
        error_message="The content check said no <!channel>.",
        error_code="DataInspectionFailed",
        error_subject="prompt",
    )
    ts = await port.post_failure(job)
    assert await port.find_posted(job) == ts
    notice = general.messages[ts]
    assert notice.metadata == {
        "event_type": "animate_job",
        "event_payload": {"job_id": job.id, "role": "failure"},
    }
    assert pings(notice.text, notice.blocks) == {f"<@{job.chat.user}>"}
    assert "content check" in str(notice.blocks)
    # a later job in the same thread is not confused with it
    other = make_job()
    assert await port.find_posted(other) is None


async def test_a_workspace_that_refuses_the_file_gets_the_link(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job()
    slack.hooks.max_upload_size = 10  # an admin limited uploads (file_upload_size_restricted)
    ts = await port.post_result(job)
    assert videos(slack, general, job) == []
    link = general.messages[ts]
    button = link.blocks[-1]["elements"][0]
    assert button["url"] == job.video_url, "the signed URL rides in a button, never in mrkdwn"
    assert "expires" in str(link.blocks)
    assert await port.find_posted(job) == ts


async def test_without_a_status_message_one_is_made_once_and_found_again(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job(with_status=False)
    assert await port.find_posted(job) is None
    ts = await port.post_result(job)
    anchors = [m for m in general.top_level() if m.metadata]
    assert len(anchors) == 1
    assert slack.thread(general, anchors[0].ts)[1].ts == ts
    assert await port.find_posted(job) == ts


async def test_status_edits_are_paced_and_a_429_carries_retry_after(
    slack: FakeSlack, client: AsyncWebClient, session: aiohttp.ClientSession, make_job: MakeJob
) -> None:
    clock = SimpleNamespace(t=0.0)
    port = SlackPort(client, VideoShare(client, session), edits=Pace(2, 60.0, now=lambda: clock.t))
    job = make_job(JobStatus.RUNNING)
    await port.post_progress(job)
    await port.post_progress(job)
    with pytest.raises(DeliveryError) as paced:
        await port.post_progress(job)
    assert paced.value.retry_after == 60.0 and not paced.value.permanent
    clock.t = 61.0
    slack.fail_next("chat.update", "ratelimited", retry_after=17)
    with pytest.raises(DeliveryError) as limited:
        await port.post_progress(job)
    assert limited.value.retry_after == 17.0 and not limited.value.permanent


async def test_a_revoked_token_makes_the_port_unready(
    slack: FakeSlack, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job()
    assert port.ready()
    slack.revoke(slack.bot_token)
    with pytest.raises(DeliveryError):
        await port.post_result(job)
    assert not port.ready(), "jobs stay due until the bot has a token Slack accepts"


async def test_a_vanished_channel_fails_the_delivery_for_good(
    slack: FakeSlack, general: FakeChannel, port: SlackPort, make_job: MakeJob
) -> None:
    job = make_job(JobStatus.FAILED, error_message="nope")
    general.archived = True
    with pytest.raises(DeliveryError) as failed:
        await port.post_failure(job)
    assert failed.value.permanent


async def test_bytes_the_file_host_refuses_go_out_as_the_link(
    slack: FakeSlack, general: FakeChannel, make_job: MakeJob
) -> None:
    async def expire(_: object, __: object, params: aiohttp.TraceRequestStartParams) -> None:
        if "/upload/" in params.url.path:
            slack.hooks.upload_tickets.clear()  # the ticket is gone: the host answers 404

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(expire)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = AsyncWebClient(
            token=slack.bot_token, base_url=slack.api_url, session=session, retry_handlers=[]
        )
        port = SlackPort(client, VideoShare(client, session, waits=(0.0,)))
        port.identity = Identity(slack.team_id, slack.bot_user.id, slack.bot_id)
        job = make_job()
        ts = await port.post_result(job)
        assert videos(slack, general, job) == []
        assert general.messages[ts].blocks[-1]["elements"][0]["url"] == job.video_url
        assert await port.find_posted(job) == ts
