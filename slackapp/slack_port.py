"""The Slack ``DeliveryPort``: status edits, the MP4 in the job's thread, failure notices.

Every job lives in one thread: its status message's (or, from a message shortcut, the thread
the status message was posted in). Results and notices go there with the bot token, whenever
the video is ready and after restarts.

Exactly once, with no idempotency key in Slack (§7.4). The engine records the intent before
``post_result`` / ``post_failure`` and, after a crash or a lost answer, asks ``find_posted``
first. What the chat itself must remember for that answer:

* text posts (failure notice, link result) carry ``metadata`` naming the job and their role;
* the MP4 is a file share, which takes no metadata and appears asynchronously. Before the
  upload is completed, the file id is written into the status message's metadata
  (``upload``); the share message itself is recognised by its bot author and file name
  (``animate-<job>.mp4``). ``find_posted`` reads the thread once (``conversations.replies``,
  Tier 3; one call per recovery, never on the normal path), and for a marked file asks
  ``files.info``: shared → that message; completed but not shown yet → posted (Slack shares
  it; sending it again would duplicate it); unknown to Slack → never completed, so the
  upload starts over. A reserved-but-uncompleted upload is discarded by Slack and never seen.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.jobs import JobStatus, JobView
from core.ports import DeliveryError
from slackapp import kit, thread_scan
from slackapp.api_errors import (
    AUTH_ERRORS,
    FILE_POLICY_ERRORS,
    TRANSIENT,
    Pace,
    delivery_error,
    error_of,
)
from slackapp.thread_scan import Identity
from slackapp.video_share import Shared, UploadRefused, VideoShare

log = logging.getLogger(__name__)

#: slack_sdk refuses bigger uploads (MAX_V2_FILE_SIZE); a workspace may allow less, which
#: files.getUploadURLExternal reports, and the link goes out instead (§7.1, §10)
MAX_UPLOAD = 1024 * 1024 * 1024
Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Place:
    channel: str
    thread: str  # the thread everything about the job goes into
    status: str | None  # the status message, where the upload marker lives


def video_name(job_id: int) -> str:
    return f"animate-{job_id}.mp4"


class SlackPort:
    """Implements ``core.ports.DeliveryPort`` for Slack."""

    def __init__(
        self,
        client: AsyncWebClient,
        share: VideoShare,
        *,
        upload_limit: int = MAX_UPLOAD,
        edits: Pace | None = None,
        history_pages: int = 5,
    ) -> None:
        #: no connection-error retries: a lost answer must reach find_posted, not be re-sent
        self.client = client
        self.share = share
        self.limit = upload_limit
        #: progress edits stay below chat.update's tier (results and notices are not paced)
        self.edits = edits or Pace(40)
        self.history_pages = history_pages
        self.identity: Identity | None = None
        self.revoked = False

    def ready(self) -> bool:
        """Deliver only with a token Slack accepted (``auth.test``) and has not revoked since."""
        return self.identity is not None and not self.revoked

    def _error(self, exc: BaseException, what: str) -> DeliveryError:
        if isinstance(exc, SlackApiError) and error_of(exc) in AUTH_ERRORS and not self.revoked:
            self.revoked = True
            log.error(
                "Slack refused the bot token (%s); Slack deliveries wait until the bot is "
                "restarted with a valid SLACK_BOT_TOKEN",
                error_of(exc),
            )
        return delivery_error(exc, what)

    # ------------------------------------------------------------------ DeliveryPort
    async def upload_limit(self, job: JobView) -> int:
        return self.limit

    async def post_progress(self, job: JobView) -> None:
        if not job.chat.status_message:
            return
        wait = self.edits.take()
        if wait > 0:
            raise DeliveryError(
                "status edits paced below chat.update's tier", permanent=False, retry_after=wait
            )
        try:
            await self._edit_status(job, job.chat.status_message)
        except (SlackApiError, *TRANSIENT) as exc:
            err = self._error(exc, "chat.update")
            if not err.permanent:
                raise err from exc
            # the status message is cosmetic: a deleted one must not fail the job
            log.info("job %s: status message not editable (%s)", job.id, err.reason)

    async def post_result(self, job: JobView) -> str:
        """The MP4 shared into the job's thread; the link with its expiry when there is no
        file, or the workspace refuses it (size, type or storage policy)."""
        try:
            place = await self._place(job)
            path = Path(job.video_path) if job.video_path else None
            if path is not None and path.is_file():
                try:
                    ts = await self._share_video(job, place, path)
                except SlackApiError as exc:
                    if error_of(exc) not in FILE_POLICY_ERRORS:
                        raise
                    log.info("job %s: file refused (%s), posting the link", job.id, error_of(exc))
                except UploadRefused as exc:
                    log.info("job %s: %s, posting the link", job.id, exc)
                else:
                    await self._finish_status(job, place, ok=True)
                    return ts
            text, blocks = kit.result_link(job, job.chat.locale)
            ts = await self._post(place, text, blocks, kit.metadata(job.id, "result"))
        except (SlackApiError, *TRANSIENT) as exc:
            raise self._error(exc, "result") from exc
        await self._finish_status(job, place, ok=True)
        return ts

    async def post_failure(self, job: JobView) -> str:
        try:
            place = await self._place(job)
            text, blocks = kit.failure_message(job, job.chat.locale)
            ts = await self._post(place, text, blocks, kit.metadata(job.id, "failure"))
        except (SlackApiError, *TRANSIENT) as exc:
            raise self._error(exc, "failure notice") from exc
        await self._finish_status(job, place, ok=False)
        return ts

    async def find_posted(self, job: JobView) -> str | None:
        try:
            place = await self._existing_place(job)
            found = await self._find(job, place) if place is not None else None
        except (SlackApiError, *TRANSIENT) as exc:
            raise self._error(exc, "find_posted") from exc
        if found is not None and place is not None:
            # the crash may have come before the status message showed the outcome
            await self._finish_status(job, place, ok=job.status is JobStatus.DOWNLOADED)
        return found

    # ------------------------------------------------------------------ the video
    async def _share_video(self, job: JobView, place: Place, path: Path) -> str:
        async def mark(file_id: str) -> None:
            await self._mark(job, place, file_id)

        file_id = await self.share.upload(path, video_name(job.id), mark=mark)
        comment = kit.result_comment(job, job.chat.locale)

        async def complete() -> None:
            await self.share.complete(
                file_id,
                title=video_name(job.id),
                channel=place.channel,
                thread_ts=place.thread,
                comment=comment,
            )

        try:
            # an error answer means Slack completed nothing: it propagates as it is
            await self._with_join(place.channel, complete)
        except TRANSIENT:
            # the answer was lost, maybe after Slack completed it: look before failing
            if (await self.share.state(file_id, place.channel, place.thread)).state is (
                Shared.MISSING
            ):
                raise
        seen = await self.share.settle(file_id, place.channel, place.thread)
        return seen.ts or f"file:{file_id}"

    async def _mark(self, job: JobView, place: Place, file_id: str) -> None:
        """Write the upload's file id into the status message before the upload can complete."""
        if place.status is None:
            return
        uploading = dataclasses.replace(job, status=JobStatus.DOWNLOADED)
        try:
            await self._edit_status(uploading, place.status, upload=file_id)
        except SlackApiError as exc:
            if error_of(exc) not in ("message_not_found", "cant_update_message"):
                raise
            # the status message is gone: the thread scan still recognises the share
            log.warning("job %s: no status message to mark the upload on", job.id)

    # ------------------------------------------------------------------ finding posts
    async def _find(self, job: JobView, place: Place) -> str | None:
        assert self.identity is not None  # noqa: S101 - the router asks only a ready port
        messages = await thread_scan.thread(
            self.client, place.channel, place.thread, pages=self.history_pages
        )
        found = thread_scan.find(messages, self.identity, job.id, video_name(job.id))
        if found.outcome or found.video:
            return found.outcome or found.video
        if found.upload is None:
            return None
        seen = await self.share.state(found.upload, place.channel, place.thread)
        if seen.state is Shared.PENDING:
            seen = await self.share.settle(found.upload, place.channel, place.thread)
        if seen.state is Shared.MISSING:
            return None  # reserved, never completed: Slack dropped it; upload again
        return seen.ts or f"file:{found.upload}"

    # ------------------------------------------------------------------ places and posts
    async def _existing_place(self, job: JobView) -> Place | None:
        chat = job.chat
        if chat.thread or chat.status_message:
            return Place(
                chat.channel, chat.thread or chat.status_message or "", chat.status_message
            )
        # no status message was recorded (stopped between submit and posting it): the job's
        # own status message, if an earlier attempt of the port posted one
        assert self.identity is not None  # noqa: S101 - the router asks only a ready port
        ts = await thread_scan.anchor(self.client, self.identity, chat.channel, job.id)
        return Place(chat.channel, ts, ts) if ts else None

    async def _place(self, job: JobView) -> Place:
        found = await self._existing_place(job)
        if found is not None:
            return found
        text, blocks = kit.status_message(job, job.chat.locale)
        top = Place(job.chat.channel, "", None)
        ts = await self._post(top, text, blocks, kit.metadata(job.id, "status"))
        return Place(job.chat.channel, ts, ts)

    async def _post(self, place: Place, text: str, blocks: list[Json], metadata: Json) -> str:
        async def post() -> Any:
            return await self.client.chat_postMessage(
                channel=place.channel,
                thread_ts=place.thread or None,
                text=text,
                blocks=blocks,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )

        answer = await self._with_join(place.channel, post)
        return str(answer["ts"])

    async def _with_join(self, channel: str, call: Any) -> Any:
        """``call()``; once more after joining a public channel it refused for not being in it
        (file shares need membership even with chat:write.public, §1.2). An error answer means
        Slack did nothing, so the second call cannot duplicate."""
        try:
            return await call()
        except SlackApiError as exc:
            if error_of(exc) != "not_in_channel":
                raise
            try:
                await self.client.conversations_join(channel=channel)
            except SlackApiError:
                raise exc from None
            return await call()

    async def _edit_status(self, job: JobView, ts: str, **marker: str) -> None:
        text, blocks = kit.status_message(job, job.chat.locale)
        extra: Json = {"metadata": kit.metadata(job.id, "status", **marker)} if marker else {}
        await self.client.chat_update(
            channel=job.chat.channel, ts=ts, text=text, blocks=blocks, **extra
        )

    async def _finish_status(self, job: JobView, place: Place, *, ok: bool) -> None:
        """Show the outcome on the status message (best effort: the post already happened)."""
        if place.status is None:
            return
        final = dataclasses.replace(job, status=JobStatus.DELIVERED) if ok else job
        try:
            await self._edit_status(final, place.status)
        except (SlackApiError, *TRANSIENT) as exc:
            log.info("job %s: final status edit skipped (%s)", job.id, type(exc).__name__)
