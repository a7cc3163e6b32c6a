"""Engine configuration, the pass report, checked transitions and record → view mapping."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from core.errors import AnimateError, Kind
from core.jobs import ENDED_WITHOUT_VIDEO, JobStatus, JobView, can_transition
from core.store import JobRecord, JobStore

log = logging.getLogger(__name__)

#: statuses that hold one of the account's per-model slots (or might: unknown submits)
SLOT_STATUSES = frozenset(
    {JobStatus.SUBMITTING, JobStatus.SUBMIT_UNKNOWN, JobStatus.PENDING, JobStatus.RUNNING}
)
#: statuses whose outcome still has to be posted to the chat
OUTCOME_STATUSES = frozenset({JobStatus.DOWNLOADED, *ENDED_WITHOUT_VIDEO})

UNCONFIRMED_MESSAGE = (
    "We could not confirm whether DashScope created this job; nothing was resubmitted, "
    "press Regenerate to try again."
)
#: the create was proven never made twice (the second time after the automatic resubmit)
NOT_CREATED_MESSAGE = (
    "DashScope did not receive this job, not even when we sent it a second time; nothing "
    "was charged. Press Regenerate to try again in a few minutes."
)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Knobs of the engine. Defaults follow the reference (§8.3, §10)."""

    #: per-model overrides of ``Model.concurrency`` / ``Model.submit_rps``
    concurrency: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    submit_rps: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: task query/list/cancel budget shared by everything: at most ``query_limit`` calls in any
    #: ``rate_window`` seconds (DashScope allows 20 per second per account)
    query_limit: int = 15
    rate_window: float = 1.1
    #: detection tuning: interval = coefficient / sqrt(hazard), clamped to [floor, ceiling]
    poll_coefficient: float = 0.7
    poll_floor: float = 1.0
    poll_ceiling: float = 20.0
    #: use the task-list endpoint to watch all of a model's tasks with one query
    sweep: bool = True
    #: per-task safety check while sweeps watch it (seconds between checks past the expected end)
    safety_poll_seconds: float = 30.0
    #: minimum seconds between progress edits of one job
    progress_interval: float = 10.0
    #: DashScope keeps tasks and result URLs 24 h
    task_ttl: float = 86400.0
    result_ttl: float = 86400.0
    #: the longest a create request can take (bounds the reconciliation window after a crash)
    submit_timeout: float = 60.0
    #: clock skew tolerated when matching a lost create to a listed task
    reconcile_skew: float = 3.0
    #: seconds after a task's creation within which the task list may not show it yet; a list
    #: queried later that shows no candidate proves a lost create was never made
    list_settle: float = 10.0
    reconcile_delay: float = 5.0
    reconcile_attempts: int = 3
    submit_max_attempts: int = 12
    delivery_max_attempts: int = 10
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    max_video_bytes: int = 512 * 1024 * 1024
    parallel_downloads: int = 2
    #: how long a pass waits for the downloads and audio uploads it started; slower ones finish
    #: in the background so polls, submits and the delivery loop (and its heartbeat) keep running
    download_wait: float = 5.0
    #: audio uploads to DashScope's temporary storage: files live 48 h (reference §11); one
    #: that expires within ``upload_margin`` seconds is uploaded again before the create
    parallel_uploads: int = 2
    upload_ttl: float = 172800.0
    upload_margin: float = 3600.0
    #: how long a delivery pass waits for the re-encodes it started (the rest go on behind it)
    fit_wait: float = 5.0
    media_retention_days: float = 7.0
    retention_every: float = 3600.0
    batch: int = 200
    #: how far back submissions count as turns already taken in the fair queue
    fairness_window: float = 3600.0


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one ``poll_once`` pass did."""

    submitted: int = 0
    polled: int = 0
    swept: int = 0
    downloaded: int = 0
    uploaded: int = 0
    reconciled: int = 0
    purged: int = 0
    errors: int = 0
    #: the earliest time the engine has scheduled work for (None: nothing scheduled)
    next_wakeup: datetime | None = None


class TransitionError(RuntimeError):
    """A change the state machine forbids: a bug, never shown to users."""


def transition(job: JobRecord, status: JobStatus, now: datetime, **changes: Any) -> JobRecord:
    """``job`` moved to ``status`` with ``changes``, checked against ``core.jobs.TRANSITIONS``.

    A status change schedules delivery work (a progress edit or the outcome post).
    """
    if status is not job.status and not can_transition(job.status, status):
        raise TransitionError(f"job {job.id}: {job.status.value} -> {status.value} is not allowed")
    if status is not job.status and "deliver_at" not in changes:
        changes["deliver_at"] = now if job.deliver_at is None else min(job.deliver_at, now)
    if status.final:
        changes.setdefault("next_at", None)
    return dataclasses.replace(job, status=status, updated_at=now, **changes)


Change = Callable[[JobRecord], "JobRecord | None"]


async def update(
    store: JobStore, job: JobRecord, change: Change, *, tries: int = 5, durable: bool = False
) -> JobRecord | None:
    """Write ``change(job)``; when another writer got there first, re-read and re-apply it.

    ``change`` computes the new row from the row it is given (so derived fields such as
    ``deliver_at`` are recomputed from the fresh copy), or returns None to give up. A change is
    re-applied only while the row is still in the status the writer started from: a step that
    finds its job moved on (canceled, failed, already downloaded) gives up rather than act on
    a state it did not see. Returns the row as written, or None. ``durable``: see
    ``JobStore.save``.
    """
    expected = job.status
    for _ in range(tries):
        new = change(job)
        if new is None:
            return None
        saved = await store.save(job, new, durable=durable)
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


def failed(
    job: JobRecord, now: datetime, error: AnimateError, status: JobStatus = JobStatus.FAILED
) -> JobRecord:
    code = getattr(error, "code", None) or error.kind.value
    return transition(
        job,
        status,
        now,
        next_at=None,
        finished_at=job.finished_at or now,
        error_code=code,
        error_message=error.message,
        error_subject=error.subject.value if error.subject else None,
    )


def failing(now: datetime, error: AnimateError, status: JobStatus = JobStatus.FAILED) -> Change:
    """The change that ends a job with ``error`` (see ``failed``), for ``update``."""
    return lambda j: failed(j, now, error, status)


def expired(job: JobRecord, now: datetime, message: str) -> JobRecord:
    return failed(job, now, AnimateError(message, kind=Kind.EXPIRED), JobStatus.EXPIRED)


def to_view(job: JobRecord, *, position: int | None = None, eta: datetime | None = None) -> JobView:
    return JobView(
        id=job.id,
        status=job.status,
        spec=job.spec,
        chat=job.chat,
        created_at=job.created_at,
        updated_at=job.updated_at,
        region=job.region,
        task_id=job.task_id,
        queue_position=position,
        eta=eta,
        cost_estimate=job.cost_estimate,
        currency=job.currency,
        cost=job.cost,
        orig_prompt=job.orig_prompt,
        actual_prompt=job.actual_prompt,
        seed_used=job.seed_used,
        error_code=job.error_code,
        error_message=job.error_message,
        error_subject=job.error_subject,
        video_path=job.video_path,
        video_url=job.video_url,
        video_url_expires_at=job.video_url_expires_at,
        posted_message_id=job.posted_message_id,
        parent_job_id=job.parent_job_id,
    )


def estimate_eta(
    job: JobRecord, now: datetime, *, position: int | None, slots: int, mean_seconds: float
) -> datetime | None:
    """Expected finish: learned generation time after submit, or queue rounds ahead of it."""
    expected = job.expected_seconds or mean_seconds
    if job.status is JobStatus.QUEUED:
        rounds = math.ceil((position or 1) / max(slots, 1))
        return now + timedelta(seconds=rounds * mean_seconds)
    if job.status in SLOT_STATUSES:
        start = job.submit_ended_at or job.submit_started_at or now
        return max(now, start + timedelta(seconds=expected))
    if job.status is JobStatus.SUCCEEDED:
        return now
    return None
