"""Intake: the cheap gate a request passes before a front-end reads its attachment bytes.

It refuses a requester already at the per-user cap (``core.domain.policy``) before any byte is
read, and bounds how many requests hold attachment bytes in memory at once. The cap is checked
again, atomically, when the row is inserted (``JobStore.insert_job_within``), so two requests at
once cannot both pass when only one fits.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.domain.jobs import ChatRef
from core.domain.policy import UserLimits, too_many_active
from core.ports import JobStore


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
