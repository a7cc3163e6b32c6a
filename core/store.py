"""The job store the engine needs: the ``JobStore`` protocol and its frozen row types.

``storage.sqlite.SqliteJobStore`` implements it; rows never leave ``storage/`` as anything but
these dataclasses. The database is the source of truth: the engine keeps no queue in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.jobs import ChatRef, JobSpec, JobStatus


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


@dataclass(frozen=True, slots=True)
class ActiveCap:
    """At most ``limit`` jobs in ``statuses`` per requester (platform and user)."""

    limit: int
    statuses: frozenset[JobStatus]


@dataclass(frozen=True, slots=True)
class DurationKey:
    model: str
    resolution: str
    duration: int


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Learned generation time of one key: EWMA mean and variance of log(seconds)."""

    samples: int
    log_mean: float
    log_var: float


class JobStore(Protocol):
    """Persistence for jobs. Every method is one transaction."""

    async def insert_job(self, job: JobRecord) -> JobRecord:
        """Insert ``job`` (its ``id`` is ignored) and return it with the assigned id."""
        ...

    async def insert_job_within(self, job: JobRecord, cap: ActiveCap) -> JobRecord | None:
        """Insert ``job`` unless its requester already has ``cap.limit`` jobs in
        ``cap.statuses``: the count and the insert are one atomic step, so two requests at
        once cannot both pass when only one fits. None when refused."""
        ...

    async def count_active(self, platform: str, user: str, statuses: Iterable[JobStatus]) -> int:
        """How many jobs of this requester are in ``statuses`` (indexed)."""
        ...

    async def get_job(self, job_id: int) -> JobRecord | None: ...

    async def save(
        self, old: JobRecord, new: JobRecord, *, durable: bool = False
    ) -> JobRecord | None:
        """Write the fields that differ between ``old`` and ``new`` if the row is still at
        ``old.version``, and bump the version; return the row as written, or None (nothing
        written) when someone else wrote it first. Use ``core.lifecycle.update`` to re-read
        and re-apply a change instead of losing it. ``durable``: the write survives a power
        cut once this returns (used for the marker written before a create leaves)."""
        ...

    async def due_jobs(
        self, now: datetime, statuses: Iterable[JobStatus], *, limit: int
    ) -> list[JobRecord]:
        """Jobs in ``statuses`` whose ``next_at`` is due, oldest first (indexed)."""
        ...

    async def next_due(self, statuses: Iterable[JobStatus]) -> datetime | None:
        """The earliest ``next_at`` among jobs in ``statuses``."""
        ...

    async def submitted_since(self, since: datetime) -> list[JobRecord]:
        """Jobs whose create was sent at or after ``since`` (fair-queue history)."""
        ...

    async def deliverable_jobs(self, now: datetime, *, limit: int) -> list[JobRecord]:
        """Jobs whose ``deliver_at`` is due, oldest first (indexed)."""
        ...

    async def jobs_with_status(self, statuses: Iterable[JobStatus]) -> list[JobRecord]: ...

    async def uploads_due(
        self, now: datetime, *, fresh_until: datetime, limit: int
    ) -> list[JobRecord]:
        """Queued jobs with an audio file whose upload is missing or expires before
        ``fresh_until``, and whose ``next_at`` is due."""
        ...

    async def referenced_files(self) -> set[str]:
        """Every media path any job row names (inputs, videos, fitted copies)."""
        ...

    async def in_flight_counts(self, statuses: Iterable[JobStatus]) -> dict[str, int]:
        """Number of jobs per model in ``statuses``."""
        ...

    async def claimed_task_ids(self, task_ids: Sequence[str]) -> set[str]:
        """Which of ``task_ids`` already belong to a job."""
        ...

    async def recent_jobs(self, platform: str, user: str, limit: int) -> list[JobRecord]: ...

    async def purgeable_jobs(self, before: datetime, *, limit: int) -> list[JobRecord]:
        """Delivered (or delivery-failed) before ``before`` with media still on disk."""
        ...

    async def get_duration_stats(self, key: DurationKey) -> DurationStats | None: ...

    async def save_duration_stats(
        self, key: DurationKey, stats: DurationStats, now: datetime
    ) -> None: ...
