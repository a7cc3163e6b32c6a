"""The worker's Slack port (``slackapp.rest``): the Web API with the bot token, no Socket Mode."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.domain.jobs import JobView
from slackapp.frontend import SlackStartError
from slackapp.rest import rest_port
from tests.fakeslack import FakeChannel, FakeSlack
from tests.slackapp.conftest import MP4


async def test_a_worker_shares_the_video_into_the_thread_without_socket_mode(
    slack: FakeSlack, general: FakeChannel, make_job: Callable[..., JobView]
) -> None:
    job = make_job()
    async with rest_port(slack.bot_token, slack.api_url) as port:
        assert port.identity is not None and port.identity.bot == slack.bot_id
        ts = await port.post_result(job)
        assert await port.find_posted(job) == ts  # its own reply, known by the identity
    assert job.chat.thread is not None
    (shared,) = [m for m in slack.thread(general, job.chat.thread) if m.files]
    assert shared.ts == ts and shared.files[0].data == MP4
    assert slack.socket.connections == []  # REST only: Socket Mode was never opened


async def test_a_refused_bot_token_is_one_start_up_error(slack: FakeSlack) -> None:
    slack.revoke(slack.bot_token)
    with pytest.raises(SlackStartError, match="token_revoked"):
        async with rest_port(slack.bot_token, slack.api_url):
            pass
