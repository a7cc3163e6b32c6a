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


async def resume(store: JobStore, config: EngineConfig, now: datetime) -> None:
    for job in await store.jobs_with_status([s for s in _S if not s.final]):
        changes: dict[str, object] = {}
        status = job.status
        if job.status is _S.SUBMITTING:
            # crashed between recording the create and its answer: never resend blindly
            started = job.submit_started_at or job.created_at
            ended = min(now, started + timedelta(seconds=config.submit_timeout))
            status = _S.SUBMIT_UNKNOWN
            changes.update(submit_ended_at=ended, attempts=0, next_at=now)
            log.warning("job %d was submitting at shutdown; reconciling", job.id)
        elif job.status.active and job.next_at is None:
            changes["next_at"] = now
        elif not job.status.active and job.deliver_at is None:
            changes["deliver_at"] = now
        if status is not job.status or changes:
            await update(store, job, _recovered(status, now, changes))


def _recovered(status: JobStatus, now: datetime, changes: dict[str, object]) -> Change:
    return lambda j: transition(j, status, now, **changes)
