"""Putting an MP4 into a thread: ``files.getUploadURLExternal`` → POST → ``completeUploadExternal``
(``files.upload`` is retired, §7.1), and telling afterwards whether a file was shared.

The share is asynchronous: ``completeUploadExternal`` answers before the file message exists
and never names its ts (§7.3). ``files.info`` shows it once it exists
(``shares.public|private[channel][i].ts``); until then a completed file is "pending", and a file
whose upload was never completed is unknown to ``files.info`` (``file_not_found``): that is how
a restarted bot tells "already sent" from "never sent" (§7.4).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.ports import DeliveryError
from slackapp.api_errors import error_of

log = logging.getLogger(__name__)


class UploadRefused(Exception):
    """Slack's file host refused the bytes themselves (4xx: too large, not allowed): posting
    the link is the answer, not a retry."""


class Shared(enum.Enum):
    MISSING = "missing"  # files.info does not know it: its upload was never completed
    PENDING = "pending"  # completed; the file message has not appeared (yet)
    POSTED = "posted"


@dataclass(frozen=True, slots=True)
class ShareState:
    state: Shared
    ts: str | None = None


class VideoShare:
    def __init__(
        self,
        client: AsyncWebClient,
        session: aiohttp.ClientSession,
        *,
        waits: Sequence[float] = (0.0, 0.5, 1.0),
    ) -> None:
        self.client = client
        self.session = session
        #: pauses before each files.info poll for a fresh share (≤ 1 poll/s per file, §9)
        self.waits = tuple(waits)

    async def upload(
        self, path: Path, filename: str, *, mark: Callable[[str], Awaitable[None]]
    ) -> str:
        """Steps 1-2: reserve a file id, let ``mark`` record it in the chat, send the bytes.
        Raises ``SlackApiError`` (a workspace file policy shows up here), ``UploadRefused`` or
        ``DeliveryError``."""
        size = (await asyncio.to_thread(path.stat)).st_size
        ticket = await self.client.files_getUploadURLExternal(filename=filename, length=size)
        file_id, url = str(ticket["file_id"]), str(ticket["upload_url"])
        await mark(file_id)
        with path.open("rb") as body:  # streamed: aiohttp reads the file in its executor
            async with self.session.post(url, data=body) as answer:
                if 400 <= answer.status < 500:
                    raise UploadRefused(f"upload of {filename} answered {answer.status}")
                if answer.status != 200:
                    raise DeliveryError(
                        f"upload of {filename} answered {answer.status}", permanent=False
                    )
        return file_id

    async def complete(
        self, file_id: str, *, title: str, channel: str, thread_ts: str, comment: str
    ) -> None:
        """Step 3: share the file into the thread (asynchronously, on Slack's side)."""
        await self.client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}],
            channel_id=channel,
            thread_ts=thread_ts,
            initial_comment=comment,
        )

    async def state(self, file_id: str, channel: str, thread_ts: str) -> ShareState:
        try:
            info = await self.client.files_info(file=file_id)
        except SlackApiError as exc:
            if error_of(exc) in ("file_not_found", "file_deleted"):
                return ShareState(Shared.MISSING)
            raise
        shares = (info.get("file") or {}).get("shares") or {}
        for kind in ("public", "private"):
            for share in (shares.get(kind) or {}).get(channel) or []:
                if share.get("thread_ts") == thread_ts or share.get("ts") == thread_ts:
                    return ShareState(Shared.POSTED, str(share["ts"]))
        return ShareState(Shared.PENDING)

    async def settle(self, file_id: str, channel: str, thread_ts: str) -> ShareState:
        """Poll a completed file until its message shows (a few times, briefly)."""
        seen = ShareState(Shared.PENDING)
        for pause in self.waits:
            if pause:
                await asyncio.sleep(pause)
            seen = await self.state(file_id, channel, thread_ts)
            if seen.state is not Shared.PENDING:
                return seen
        log.info("file %s: completed, its message has not appeared yet", file_id)
        return seen
