from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from slackapp.slack_port import SlackPort
from slackapp.thread_scan import Identity
from slackapp.video_share import VideoShare
from tests.fakeslack import FakeChannel, FakeSlack, FakeUser

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16
WHEN = datetime(2026, 9, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
async def slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    # slack_sdk hands $HTTP(S)_PROXY to aiohttp itself: loopback traffic must not go there
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def client(slack: FakeSlack, session: aiohttp.ClientSession) -> AsyncWebClient:
    """What the port gets: the real client on the fake, no retries at all."""
    return AsyncWebClient(
        token=slack.bot_token, base_url=slack.api_url, session=session, retry_handlers=[]
    )


@pytest.fixture
def alice(slack: FakeSlack) -> FakeUser:
    return slack.add_user("alice")


@pytest.fixture
def general(slack: FakeSlack, alice: FakeUser) -> FakeChannel:
    return slack.add_channel("general", members=[alice])


@pytest.fixture
def port(slack: FakeSlack, client: AsyncWebClient, session: aiohttp.ClientSession) -> SlackPort:
    out = SlackPort(client, VideoShare(client, session, waits=(0.0,)))
    out.identity = Identity(slack.team_id, slack.bot_user.id, slack.bot_id)
    return out


def view(
    status: JobStatus = JobStatus.DOWNLOADED,
    *,
    job_id: int = 7,
    user: str = "U1",
    channel: str = "C1",
    team: str = "T1",
    status_message: str | None = None,
    thread: str | None = None,
    video: Path | None = None,
    locale: str = "en-US",
    **fields: Any,
) -> JobView:
    chat = ChatRef(
        "slack",
        user,
        channel,
        guild=team,
        thread=thread or status_message,
        status_message=status_message,
        locale=locale,
    )
    spec = JobSpec(model="wan2.6-i2v-flash", prompt="the cat waves", resolution="720P", duration=2)
    fields.setdefault("video_url", "https://dashscope-result.example/v.mp4?Expires=1&Signature=a")
    fields.setdefault("video_url_expires_at", WHEN + timedelta(hours=24))
    return JobView(
        id=job_id,
        status=status,
        spec=spec,
        chat=chat,
        created_at=WHEN,
        updated_at=WHEN,
        video_path=str(video) if video else None,
        **fields,
    )


@pytest.fixture
def make_job(
    slack: FakeSlack, alice: FakeUser, general: FakeChannel, tmp_path: Path
) -> Callable[..., JobView]:
    """A Slack job of alice's in #general whose status message exists (posted by the bot)."""
    counter = iter(range(100, 10_000))

    def make(
        status: JobStatus = JobStatus.DOWNLOADED, *, with_status: bool = True, **fields: Any
    ) -> JobView:
        job_id = next(counter)
        video = tmp_path / f"{job_id}.mp4"
        video.write_bytes(MP4)
        ts = None
        if with_status:
            from tests.fakeslack import FakeMessage

            message = FakeMessage(general.id, slack.new_ts(), slack.bot_user.id, "⏳ Queued")
            message.metadata = {
                "event_type": "animate_job",
                "event_payload": {"job_id": job_id, "role": "status"},
            }
            message.bot_id, message.app_id = slack.bot_id, slack.app_id
            slack.add_message(general, message)
            ts = message.ts
        fields.setdefault("video", video)
        return view(
            status,
            job_id=job_id,
            user=alice.id,
            channel=general.id,
            team=slack.team_id,
            status_message=ts,
            **fields,
        )

    return make
