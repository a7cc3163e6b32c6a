"""After a start, and in every pass: unfinished work is picked up again, by whoever is alive.

The database is the source of truth, so a restart changes nothing: jobs whose schedule was lost
are made due and outcomes not yet posted are made deliverable (``resume``, at startup; it only
fills in what is missing, so it cannot disturb a job another live worker is on).

A row still saying SUBMITTING whose lease nobody holds any more (``take_over``, every pass: the
worker that wrote it died between recording the create and its answer) goes to reconciliation —
never resent blindly, since the create may have reached DashScope. When another process may
still be alive (a shared store) its create may still be on the wire until the create timeout,
so the window reconciliation searches stays open that long; a process alone on its store
(``exclusive``) knows the create died with the old process, at the latest when it restarted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.domain.jobs import JobStatus
from core.domain.records import Change, transition
from core.engine.context import EngineContext
from core.ports import JobStore

log = logging.getLogger(__name__)

_S = JobStatus


async def resume(store: JobStore, now: datetime) -> int:
    """Pick every unfinished job up again; returns the number of rows that needed it.

    Scales with what needs recovering, not with the table: the rows whose schedule was lost
    are found and fixed by one bulk statement; a queue of thousands is never read into memory.
    A row left SUBMITTING is not touched here: ``take_over`` sends it to reconciliation once
    nobody holds its lease.
    """
    return await store.schedule_unscheduled(
        now,
        due=[s for s in _S if s.active and s is not _S.SUBMITTING],
        deliverable=[s for s in _S if not s.active and not s.final],
    )


async def take_over(ctx: EngineContext, now: datetime, *, always: bool = False) -> int:
    """Send every create a dead worker left half done to reconciliation; how many. Looked
    for every quarter of a lease's life (a lease expires no sooner), or now when ``always``."""
    if not always and not ctx.leases.due_every_quarter("take-over", now):
        return 0
    config = ctx.config
    taken = 0
    for job in await ctx.leases.claim_stale(now, [_S.SUBMITTING], limit=config.batch):
        started = job.submit_started_at or job.created_at
        latest = started + timedelta(seconds=config.submit_timeout)
        ended = min(now, latest) if ctx.exclusive else latest
        log.warning("job %d was left submitting (its worker stopped); reconciling", job.id)
        changes = {"submit_ended_at": ended, "attempts": 0, "next_at": now}
        if await ctx.save(job, _recovered(_S.SUBMIT_UNKNOWN, now, changes)) is not None:
            taken += 1
    return taken


def _recovered(status: JobStatus, now: datetime, changes: dict[str, object]) -> Change:
    return lambda j: transition(j, status, now, **changes)
