"""Reading back what the bot already posted about a job (only after a crash or a lost answer).

``conversations.replies`` is Tier 3 (and 1/min for commercially distributed non-Marketplace
apps since 2025, §9), so it is read once per recovery, never on the normal path; metadata comes
only with ``include_all_metadata`` (§7.4). Messages count as the bot's own by author (its user
id or bot id from ``auth.test``): a user cannot fake them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slackapp import kit
from slackapp.api_errors import error_of

Json = dict[str, Any]
PAGE = 200


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the bot is in its workspace (``auth.test``)."""

    team: str
    user: str
    bot: str

    def wrote(self, message: Json) -> bool:
        bot_id = message.get("bot_id")
        return message.get("user") == self.user or (bot_id is not None and bot_id == self.bot)


@dataclass(frozen=True, slots=True)
class Found:
    """What a thread holds about one job."""

    outcome: str | None  # ts of a result / failure text post
    video: str | None  # ts of the MP4's file message
    upload: str | None  # the file id the status message marked before completing an upload


async def thread(client: AsyncWebClient, channel: str, ts: str, *, pages: int) -> list[Json]:
    out: list[Json] = []
    cursor: str | None = None
    for _ in range(pages):
        try:
            page = await client.conversations_replies(
                channel=channel, ts=ts, include_all_metadata=True, limit=PAGE, cursor=cursor
            )
        except SlackApiError as exc:
            if error_of(exc) == "thread_not_found":
                return out
            raise
        out += page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return out


def find(messages: list[Json], me: Identity, job_id: int, video_name: str) -> Found:
    outcome = video = upload = None
    mine = [m for m in messages if me.wrote(m)]
    for m in mine:
        tagged = kit.job_of(m)
        if tagged is None or tagged[0] != job_id:
            continue
        role, marker = tagged[1].get("role"), tagged[1].get("upload")
        if role in ("result", "failure") and outcome is None:
            outcome = str(m["ts"])
        if role == "status" and isinstance(marker, str):
            upload = marker
    for m in mine:
        files = m.get("files") or []
        if any(f.get("name") == video_name or (upload and f.get("id") == upload) for f in files):
            video = str(m["ts"])
            break
    return Found(outcome, video, upload)


async def anchor(client: AsyncWebClient, me: Identity, channel: str, job_id: int) -> str | None:
    """The job's own status message among the channel's latest 100, if an attempt posted one."""
    try:
        page = await client.conversations_history(
            channel=channel, include_all_metadata=True, limit=100
        )
    except SlackApiError as exc:
        if error_of(exc) in ("channel_not_found", "not_in_channel"):
            return None
        raise
    for m in page.get("messages") or []:
        tagged = kit.job_of(m)
        if me.wrote(m) and tagged and tagged[0] == job_id and tagged[1].get("role") == "status":
            return str(m["ts"])
    return None
