"""Spending policy: how much one requester may have in flight, and how many intakes run at once.

A small piece for now (a per-user cap on unfinished jobs); daily and budget quotas with a ledger
belong here later. The cap is enforced twice: cheaply before a front-end reads any attachment
bytes (``Intake.enter``), and atomically with the insert of the job row
(``JobStore.insert_job_within``), so two requests at once cannot both pass when only one fits.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.errors import AnimateError, Kind
from core.jobs import ACTIVE, ChatRef
from core.store import ActiveCap, JobStore


@dataclass(frozen=True, slots=True)
class UserLimits:
    #: unfinished jobs (queued, being created, generating, being fetched) one user may have at
    #: once; 0 = no cap (``LIMIT_USER_ACTIVE_JOBS``, 3 in the bot's settings)
    active_jobs: int = 0

    def cap(self) -> ActiveCap | None:
        return ActiveCap(self.active_jobs, ACTIVE) if self.active_jobs > 0 else None


def too_many_active(limit: int) -> AnimateError:
    videos = "video" if limit == 1 else "videos"
    return AnimateError(
        f"You already have {limit} {videos} in progress, the most one person can have at once. "
        "Wait for one to finish (or cancel one that is still queued), then try again; "
        "nothing was spent.",
        key="limit.active_jobs",
        params={"limit": limit},
        kind=Kind.RATE_LIMITED,
        retryable=True,
    )


class Intake:
    """Front-ends enter ``intake(chat)`` before reading attachment bytes: it refuses a requester
    already at the cap (counting their intakes still in progress) and lets only ``concurrency``
    intakes hold bytes in memory at once, so a burst of uploads cannot exhaust memory."""

    def __init__(self, *, store: JobStore, limits: UserLimits, concurrency: int) -> None:
        self.store = store
        self.limits = limits
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._pending: Counter[tuple[str, str]] = Counter()

    async def check(self, chat: ChatRef) -> None:
        """Refuse when ``chat.user`` has no room for one more job (cheap; not atomic)."""
        cap = self.limits.cap()
        if cap is None:
            return
        key = (chat.platform, chat.user)
        active = await self.store.count_active(chat.platform, chat.user, cap.statuses)
        if active + self._pending[key] >= cap.limit:
            raise too_many_active(cap.limit)

    @asynccontextmanager
    async def enter(self, chat: ChatRef) -> AsyncIterator[None]:
        await self.check(chat)
        key = (chat.platform, chat.user)
        self._pending[key] += 1
        try:
            async with self._gate:
                yield
        finally:
            self._pending[key] -= 1
            if self._pending[key] <= 0:
                del self._pending[key]
