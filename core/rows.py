"""The checked save: a change written on the row it was computed from, re-applied on conflict.

Every store write compares the row's ``version`` (optimistic concurrency). A writer holding a
stale copy is refused; ``update`` re-reads the row and re-applies the change, or gives up when the
job moved on to another status meanwhile. The engine's steps and the facade both write this way.
"""

from __future__ import annotations

import logging

from core.domain.records import Change, JobRecord
from core.ports import JobStore, TaskTakenError

log = logging.getLogger(__name__)


async def update(
    store: JobStore, job: JobRecord, change: Change, *, tries: int = 5, durable: bool = False
) -> JobRecord | None:
    """Write ``change(job)``; when another writer got there first, re-read and re-apply it.

    ``change`` computes the new row from the row it is given (so derived fields such as
    ``deliver_at`` are recomputed from the fresh copy), or returns None to give up. A change is
    re-applied only while the row is still in the status the writer started from: a step that
    finds its job moved on (canceled, failed, already downloaded) gives up rather than act on
    a state it did not see. Returns the row as written, or None (also when the change would
    give the job a task another job holds). ``durable``: see ``JobStore.save``.
    """
    expected = job.status
    for _ in range(tries):
        new = change(job)
        if new is None:
            return None
        try:
            saved = await store.save(job, new, durable=durable)
        except TaskTakenError as exc:
            # two jobs can never share a task (the key refused it): this change cannot be made
            log.error("job %d: %s; change dropped", job.id, exc)
            return None
        if saved is not None:
            return saved
        fresh = await store.get_job(job.id)
        if fresh is None or fresh.status is not expected:
            log.info(
                "job %d moved on (%s -> %s) meanwhile; change dropped",
                job.id,
                expected.value,
                "gone" if fresh is None else fresh.status.value,
            )
            return None
        job = fresh
    log.warning("job %d: gave up writing after %d conflicting writers", job.id, tries)
    return None
