"""The Slack delivery port without Socket Mode, for ``animate-bot worker``.

A worker posts results, progress and failures through the Web API with the bot token alone; it
never opens a Socket Mode connection (the front-ends do that). Its identity (which thread
replies are its own) comes from ``auth.test``, as the front-end's does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slackapp.api_errors import TRANSIENT, error_of
from slackapp.frontend import SlackStartError
from slackapp.slack_port import SlackPort
from slackapp.thread_scan import Identity
from slackapp.video_share import VideoShare


@asynccontextmanager
async def rest_port(bot_token: str, api_url: str) -> AsyncIterator[SlackPort]:
    """The Slack port on its own HTTP session, checked with ``auth.test``; closed on exit.
    A refused token or an unreachable API raises ``SlackStartError``."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = AsyncWebClient(
            token=bot_token, base_url=api_url, session=session, retry_handlers=[]
        )
        port = SlackPort(client, VideoShare(client, session))
        try:
            me = await client.auth_test()
        except SlackApiError as exc:
            raise SlackStartError(f"Slack refused SLACK_BOT_TOKEN ({error_of(exc)}).") from None
        except TRANSIENT as exc:
            raise SlackStartError(
                f"Slack's Web API at {client.base_url} did not answer ({type(exc).__name__})."
            ) from None
        port.identity = Identity(str(me["team_id"]), str(me["user_id"]), str(me["bot_id"]))
        yield port
