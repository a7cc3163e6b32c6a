"""Canceling a job that has not started generating: queued here, or pending at DashScope.

Only the requester or a moderator may; a job DashScope is generating can no longer be canceled
(it will be billed), and a create in flight is waited for. A canceled job is refunded by the
ledger (``core.domain.ledger``) in the same write that cancels it.
"""

from __future__ import annotations

from core.domain.errors import AnimateError, Kind, ProviderError
from core.domain.jobs import JobStatus, require_requester
from core.domain.records import failed
from core.ports import Clock, JobStore, VideoProvider
from core.rows import update

_S = JobStatus


async def cancel_job(
    store: JobStore,
    provider: VideoProvider,
    clock: Clock,
    job_id: int,
    *,
    user: str,
    moderator: bool,
) -> None:
    job = await store.get_job(job_id)
    if job is None:
        raise no_such_job(job_id)
    require_requester(job.chat, user, moderator=moderator, action="cancel")
    now = clock.now()
    cancel = AnimateError("The job was canceled.", key="job.canceled", kind=Kind.CANCELED)
    if job.status is _S.QUEUED:
        if not await store.save(job, failed(job, now, cancel, _S.CANCELED)):
            # the engine took it meanwhile: answer from its new state
            await cancel_job(store, provider, clock, job_id, user=user, moderator=moderator)
            return
    elif job.status is _S.PENDING and job.task_id is not None:
        try:
            await provider.cancel_task(job.task_id)
        except ProviderError as exc:
            if exc.retryable:
                raise AnimateError(
                    "The video service is busy; try canceling again in a moment.",
                    key="cancel.busy",
                    kind=Kind.BUSY,
                    retryable=True,
                ) from exc
            raise AnimateError(
                "DashScope has already started this video; it can no longer be canceled.",
                key="cancel.started",
                kind=Kind.INVALID_INPUT,
            ) from exc
        fresh = await store.get_job(job_id)
        if fresh is not None and fresh.status in (_S.PENDING, _S.RUNNING):
            await update(store, fresh, lambda j: failed(j, now, cancel, _S.CANCELED))
    elif job.status in (_S.SUBMITTING, _S.SUBMIT_UNKNOWN):
        raise AnimateError(
            "The job is being handed to DashScope right now; try again in a few seconds.",
            key="cancel.submitting",
            kind=Kind.BUSY,
            retryable=True,
        )
    elif job.status is _S.RUNNING:
        raise AnimateError(
            "DashScope is already generating this video; only waiting jobs can be canceled.",
            key="cancel.running",
            kind=Kind.INVALID_INPUT,
        )
    else:
        raise AnimateError(
            "This job has already finished.", key="cancel.finished", kind=Kind.INVALID_INPUT
        )


def no_such_job(job_id: int) -> AnimateError:
    return AnimateError(
        f"There is no job #{job_id}.",
        key="job.not_found",
        params={"job": job_id},
        kind=Kind.NOT_FOUND,
    )
