"""Ports the core needs from the outside: a clock, and a chat front-end to deliver to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from core.jobs import JobView


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class DeliveryError(Exception):
    """Posting to the chat failed. ``permanent`` ends the job (thread gone, no permission)."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class DeliveryPort(Protocol):
    """What a chat front-end (Discord now, Slack later) implements for the engine.

    The engine calls these with retries and backoff; a ``DeliveryError(permanent=True)`` ends
    the job as ``delivery_failed`` with the reason logged. Posting is exactly-once: the engine
    records the intent before calling ``post_result`` / ``post_failure`` and, after a crash,
    asks ``find_posted`` before posting again.
    """

    async def post_progress(self, job: JobView) -> None:
        """Update the public status message (called on state changes, rate-limited)."""
        ...

    async def upload_limit(self, job: JobView) -> int:
        """The largest file in bytes ``post_result`` can attach for ``job`` (0: no file at all).

        The engine re-encodes a bigger video to fit before posting (off the pass, once), or
        posts without a file when it cannot.
        """
        ...

    async def post_result(self, job: JobView) -> str:
        """Post the finished video and return the message id: the file ``job.video_path`` when
        set (it fits ``upload_limit``), else the link ``job.video_url`` with its expiry."""
        ...

    async def post_failure(self, job: JobView) -> str:
        """Tell the requester it failed / was canceled / expired; return the message id."""
        ...

    async def find_posted(self, job: JobView) -> str | None:
        """After a crash: the id of a message already posted for this job, if any."""
        ...
