"""Intake: the bound on requests holding attachment bytes, and the count of those in flight.

A front-end enters ``intake`` after the facade's ``check`` (every policy and quota, cheaply, before
any byte is read) and stays inside until ``submit`` returns. Inside, at most ``concurrency``
requests hold attachment bytes at once, so a burst of uploads cannot exhaust memory; a
requester's requests still inside count against their active-jobs cap, so one user cannot slip
several requests past it while the first is being read. The limits are checked again,
atomically, when the row is inserted (``JobStore.insert_job_within``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from core.domain.jobs import ChatRef

#: the facade's cheap quota check, told how many of the requester's requests are inside
Check = Callable[[int], Awaitable[None]]


class Intake:
    def __init__(self, *, concurrency: int) -> None:
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._pending: Counter[tuple[str, str]] = Counter()

    def pending(self, chat: ChatRef) -> int:
        """The requester's requests inside the intake right now."""
        return self._pending[(chat.platform, chat.user)]

    @asynccontextmanager
    async def enter(self, chat: ChatRef, check: Check | None = None) -> AsyncIterator[None]:
        key = (chat.platform, chat.user)
        if check is not None:
            await check(self._pending[key])
        self._pending[key] += 1
        try:
            async with self._gate:
                yield
        finally:
            self._pending[key] -= 1
            if self._pending[key] <= 0:
                del self._pending[key]
