"""After a start: every non-final job is picked up again, and a create cut short is reconciled.

The database is the source of truth, so a restart changes nothing: jobs whose schedule was lost
are made due, outcomes not yet posted are made deliverable, and a row still saying SUBMITTING
(the process died between recording the create and its answer) goes to reconciliation — never
resent blindly, since the create may have reached DashScope.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from core.domain.jobs import JobStatus
from core.domain.records import Change, transition
from core.engine.config import EngineConfig
from core.ports import JobStore
from core.rows import update

log = logging.getLogger(__name__)

_S = JobStatus


async def resume(store: JobStore, config: EngineConfig, now: datetime) -> int:
    """Pick every unfinished job up again; returns the number of rows that needed it.

    Scales with what needs recovering, not with the table: a crash leaves at most one
    SUBMITTING row per process (read one by one), and the rows whose schedule was lost are
    found and fixed by one bulk statement; a queue of thousands is never read into memory.
    """
    fixed = 0
    for job in await store.jobs_with_status([_S.SUBMITTING]):
        # crashed between recording the create and its answer: never resend blindly
        started = job.submit_started_at or job.created_at
        ended = min(now, started + timedelta(seconds=config.submit_timeout))
        changes = {"submit_ended_at": ended, "attempts": 0, "next_at": now}
        log.warning("job %d was submitting at shutdown; reconciling", job.id)
        if await update(store, job, _recovered(_S.SUBMIT_UNKNOWN, now, changes)) is not None:
            fixed += 1
    return fixed + await store.schedule_unscheduled(
        now,
        due=[s for s in _S if s.active and s is not _S.SUBMITTING],
        deliverable=[s for s in _S if not s.active and not s.final],
    )


def _recovered(status: JobStatus, now: datetime, changes: dict[str, object]) -> Change:
    return lambda j: transition(j, status, now, **changes)
