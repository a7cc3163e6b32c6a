"""This worker's leases on jobs: taken by claims, renewed while it works, released after a tick.

Several workers may share one store. A worker touches a job only after a claim gave it the
job's lease (``core.ports.Lease``: its owner id and an expiry on the engine's clock); the store
hands a job to one claimer at a time. While the worker works (a create waiting for its answer,
a download, a re-encode) ``keep_alive`` renews its leases every third of their life; after each
tick it lets go of every job it is not still working on (``release_idle``), so the next due
step of a job can go to whichever worker is free. A worker that dies stops renewing: once its
leases expire (``seconds``, 20 by default) the others claim its jobs, and the existing rules
(reconciliation of a create cut short, ``find_posted`` before a post) finish them without a
second task or a second post.

Roles work the same way: one worker at a time holds ``leader`` (the task-list sweeps and media
retention, which would only repeat each other's queries and deletes on several workers).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from core.domain.jobs import JobStatus
from core.domain.records import JobRecord
from core.ports import Clock, JobStore, Lease

log = logging.getLogger(__name__)

#: the role of the worker that sweeps the task list and runs retention
LEADER = "leader"


def _nothing_busy() -> set[int]:
    return set()


class Leases:
    def __init__(
        self,
        store: JobStore,
        clock: Clock,
        *,
        owner: str | None = None,
        seconds: float = 20.0,
        busy: Callable[[], set[int]] = _nothing_busy,
        deliveries: int = 3,
    ) -> None:
        if seconds <= 0:
            raise ValueError("a lease must last a positive number of seconds")
        self.store = store
        self.clock = clock
        #: unique per process (the builder adds host and pid, so an operator can tell who)
        self.owner = owner or uuid.uuid4().hex
        self.seconds = seconds
        #: jobs with work still running in the background (kept at release)
        self.busy = busy
        #: deliveries claimed at most per pass: posting is slow (uploads to the chat), so one
        #: worker takes a few at a time and the others take the rest meanwhile
        self.deliveries = deliveries
        #: the last delivery claim was full: more are waiting, the worker should come back soon
        self.backlog = False
        #: role → (held, when last asked): asked again every quarter of a lease's life only
        self._roles: dict[str, tuple[bool, datetime]] = {}
        #: periodic work → when it last ran (``due_every_quarter``)
        self._ran: dict[str, datetime] = {}

    def lease(self, now: datetime) -> Lease:
        return Lease(self.owner, now + timedelta(seconds=self.seconds))

    async def claim_due(
        self, now: datetime, statuses: Iterable[JobStatus], *, limit: int
    ) -> list[JobRecord]:
        if limit <= 0:
            return []
        return await self.store.claim_due(now, statuses, lease=self.lease(now), limit=limit)

    async def claim_deliverable(self, now: datetime, limit: int) -> list[JobRecord]:
        limit = min(limit, self.deliveries)
        jobs = await self.store.claim_deliverable(now, lease=self.lease(now), limit=limit)
        self.backlog = len(jobs) >= limit
        return jobs

    async def claim_uploads(
        self, now: datetime, *, fresh_until: datetime, limit: int
    ) -> list[JobRecord]:
        if limit <= 0:
            return []
        return await self.store.claim_uploads(
            now, fresh_until=fresh_until, lease=self.lease(now), limit=limit
        )

    async def claim_stale(
        self, now: datetime, statuses: Iterable[JobStatus], *, limit: int
    ) -> list[JobRecord]:
        return await self.store.claim_stale(now, statuses, lease=self.lease(now), limit=limit)

    async def leads(self, now: datetime, role: str = LEADER) -> bool:
        """Whether this worker holds ``role`` now (taking or renewing it). The store is asked
        every quarter of a lease's life, which renews a held role well before it ends."""
        known = self._roles.get(role)
        if known is not None and timedelta(0) <= now - known[1] < self._quarter:
            return known[0]
        held = await self.store.take_role(role, self.lease(now), now)
        self._roles[role] = (held, now)
        return held

    def due_every_quarter(self, key: str, now: datetime) -> bool:
        """True at most once per quarter of a lease's life for ``key`` (work that only matters
        once a lease may have expired: taking over what a dead worker left)."""
        last = self._ran.get(key)
        if last is not None and timedelta(0) <= now - last < self._quarter:
            return False
        self._ran[key] = now
        return True

    @property
    def _quarter(self) -> timedelta:
        return timedelta(seconds=self.seconds / 4)

    async def renew(self, now: datetime | None = None) -> int:
        now = now or self.clock.now()
        return await self.store.renew_leases(self.owner, now + timedelta(seconds=self.seconds))

    async def release_idle(self) -> int:
        """Let go of every job this worker is not working on any more."""
        return await self.store.release_leases(self.owner, keep=self.busy())

    async def keep_alive(self) -> None:
        """Renew this worker's leases every third of their life until canceled. Real time: a
        lease must outlive a create or a download that blocks the loop's next tick."""
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                await self.renew()
            except Exception:
                log.exception("could not renew the leases of %s", self.owner)
