"""A job's row and the one way it changes: ``transition``, checked against ``TRANSITIONS``.

``JobRecord`` is everything the engine knows about a job; stores keep it (``core.ports.JobStore``)
and nothing outside ``storage/`` sees it as anything but this frozen dataclass. The database is the
source of truth: the engine keeps no queue in memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from core.domain.errors import AnimateError, Kind
from core.domain.jobs import ChatRef, JobSpec, JobStatus, can_transition

_NO_PARAMS: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job row, everything the engine knows about a job."""

    id: int
    status: JobStatus
    spec: JobSpec
    chat: ChatRef
    region: str
    created_at: datetime
    updated_at: datetime
    currency: str
    image_path: str | None = None
    image_mime: str | None = None
    audio_path: str | None = None
    audio_mime: str | None = None
    audio_filename: str | None = None
    #: the audio in DashScope's temporary storage (``oss://``, valid 48 h): uploaded by its own
    #: background step before the create, which then only sends this URL
    audio_url: str | None = None
    audio_url_expires_at: datetime | None = None
    #: the end image (``last_frame`` / ``last_frame_url``), normalised like the first frame
    last_frame_path: str | None = None
    last_frame_mime: str | None = None
    #: a video to continue (wan2.7 ``first_clip``) instead of the image; like the audio it goes
    #: to DashScope's temporary storage first (``clip_url``, valid 48 h)
    clip_path: str | None = None
    clip_mime: str | None = None
    clip_seconds: float | None = None
    clip_url: str | None = None
    clip_url_expires_at: datetime | None = None
    task_id: str | None = None
    #: consecutive failed attempts of the current step (submit, poll, download); reset on progress
    attempts: int = 0
    #: when the engine should look at this job next (submit, poll, download); None = nothing to do
    next_at: datetime | None = None
    #: the create request's window: recorded before the call and after its answer (reconciliation)
    submit_started_at: datetime | None = None
    submit_ended_at: datetime | None = None
    #: when the engine saw the task finish (success or failure)
    finished_at: datetime | None = None
    #: the expected generation time used for the ETA (learned per model/resolution/duration)
    expected_seconds: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_subject: str | None = None
    #: the error's stable key and the values its message names (``AnimateError.key/params``)
    error_key: str | None = None
    error_params: Mapping[str, object] = field(default_factory=lambda: _NO_PARAMS)
    video_path: str | None = None
    video_url: str | None = None
    video_url_expires_at: datetime | None = None
    #: the upload limit a re-encode was started for, written *before* it starts so the same
    #: file is never re-encoded twice; ``fit_path`` is the copy that fits (None: post the link)
    fit_limit: int | None = None
    fit_path: str | None = None
    usage_seconds: float | None = None
    cost: float | None = None
    cost_estimate: float = 0.0
    #: the price per output second the job was quoted at (published or the operator's);
    #: None when none was known: then neither the estimate nor the cost is known
    unit_price: float | None = None
    orig_prompt: str | None = None
    actual_prompt: str | None = None
    seed_used: int | None = None
    #: when deliver_once should look at this job (progress edit, result or failure notice)
    deliver_at: datetime | None = None
    #: "result" / "failure" once we are about to post; survives a crash so we ask find_posted
    delivery_intent: str | None = None
    delivery_attempts: int = 0
    posted_message_id: str | None = None
    #: the last status shown through post_progress, and when
    progress_status: str | None = None
    progress_at: datetime | None = None
    delivered_at: datetime | None = None
    media_purged: bool = False
    parent_job_id: int | None = None
    #: creates sent again because the task list proved the earlier one was never made (max 1)
    resubmits: int = 0
    #: bumped by every write; a save from a stale copy is refused (optimistic concurrency)
    version: int = 0


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


def failed(
    job: JobRecord, now: datetime, error: AnimateError, status: JobStatus = JobStatus.FAILED
) -> JobRecord:
    """``job`` ended with ``error``: its English text, and its key and parameters so that a
    front-end can say it in the user's language."""
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
        error_key=error.key,
        error_params=MappingProxyType(dict(error.params)),
    )


def failing(now: datetime, error: AnimateError, status: JobStatus = JobStatus.FAILED) -> Change:
    """The change that ends a job with ``error`` (see ``failed``), for ``update``."""
    return lambda j: failed(j, now, error, status)


def expired(job: JobRecord, now: datetime, message: str, *, key: str) -> JobRecord:
    error = AnimateError(message, key=key, kind=Kind.EXPIRED)
    return failed(job, now, error, JobStatus.EXPIRED)
