"""The ports of the core, in one place: what it needs from the outside world.

``VideoProvider`` (``providers.dashscope`` implements it), ``JobStore`` (``storage.sqlite`` and
``storage.postgres``), ``AccountLimits`` (the account's rate windows, shared by every process
that calls DashScope), ``DeliveryPort`` (one per chat front-end, registered in the engine's
``DeliveryRouter`` under its ``ChatRef.platform``) and ``Clock``.

Several worker processes may share one store (PostgreSQL): a worker advances a job only while it
holds the job's *lease* (``Lease``: an owner and an expiry on the engine's clock), taken by the
``claim_*`` methods, renewed while it works and released after its tick. A worker that dies
simply stops renewing: its jobs are claimable again once the lease expires.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from core.domain.catalog import Model
from core.domain.durations import DurationKey, DurationStats
from core.domain.guild_settings import StoredSetting
from core.domain.jobs import JobStatus, JobView
from core.domain.ledger import Scope, Spend
from core.domain.quota import Quota, QuotaUsage
from core.domain.records import JobRecord
from core.domain.tasks import MediaFile, TaskInfo, TaskRequest, TaskStatus, TaskSummary


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class DeliveryError(Exception):
    """Posting to the chat failed. ``permanent`` ends the job (thread gone, no permission)."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class TaskTakenError(Exception):
    """A write would give a job a task id another job already holds (``task_id`` is unique):
    nothing was written. Both stores raise this one type, whatever their driver raised."""

    def __init__(self, task_id: str | None) -> None:
        super().__init__(f"task {task_id} already belongs to another job")
        self.task_id = task_id


@dataclass(frozen=True, slots=True)
class Lease:
    """One worker's claim on the jobs it works on: ``owner`` (unique per process) until
    ``until`` (the engine's clock, never the database server's, so fake clocks work)."""

    owner: str
    until: datetime


@dataclass(frozen=True, slots=True)
class SlotCap:
    """At most ``limit`` jobs of ``model`` in ``statuses``: the account's concurrent tasks."""

    model: str
    limit: int
    statuses: frozenset[JobStatus]


class DeliveryPort(Protocol):
    """What a chat front-end (Discord now, Slack later) implements for the engine.

    The engine calls these with retries and backoff; a ``DeliveryError(permanent=True)`` ends
    the job as ``delivery_failed`` with the reason logged. Posting is exactly-once: the engine
    records the intent before calling ``post_result`` / ``post_failure`` and, after a crash,
    asks ``find_posted`` before posting again.
    """

    async def post_progress(self, job: JobView) -> None:
        """Update the public status message (called on state changes, rate-limited)."""
        ...

    async def upload_limit(self, job: JobView) -> int:
        """The largest file in bytes ``post_result`` can attach for ``job`` (0: no file at all).

        The engine re-encodes a bigger video to fit before posting (off the pass, once), or
        posts without a file when it cannot.
        """
        ...

    async def post_result(self, job: JobView) -> str:
        """Post the finished video and return the message id: the file ``job.video_path`` when
        set (it fits ``upload_limit``), else the link ``job.video_url`` with its expiry."""
        ...

    async def post_failure(self, job: JobView) -> str:
        """Tell the requester it failed / was canceled / expired; return the message id."""
        ...

    async def find_posted(self, job: JobView) -> str | None:
        """After a crash: the id of a message already posted for this job, if any."""
        ...


class VideoProvider(Protocol):
    """What the engine needs from a video service. ``providers.dashscope`` implements it."""

    async def create_task(self, request: TaskRequest) -> TaskInfo:
        """Create a task; raise ``OutcomeUnknownError`` when the answer was lost."""
        ...

    async def upload_file(self, model: Model, media: MediaFile) -> str:
        """Put ``media`` in the provider's temporary storage for ``model`` (DashScope: 48 h,
        Beijing only); return the URL a create names it by (``oss://…``)."""
        ...

    async def get_task(self, task_id: str) -> TaskInfo: ...

    async def cancel_task(self, task_id: str) -> None: ...

    async def list_tasks(
        self,
        *,
        start: datetime,
        end: datetime,
        model: str | None = None,
        status: TaskStatus | None = None,
    ) -> list[TaskSummary]: ...

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Stream ``url`` to ``dest`` (allow-listed hosts only); return the byte count."""
        ...


class JobStore(Protocol):
    """Persistence for jobs. Every method is one transaction."""

    async def insert_job(self, job: JobRecord) -> JobRecord:
        """Insert ``job`` (its ``id`` is ignored) and return it with the assigned id."""
        ...

    async def insert_job_within(self, job: JobRecord, quota: Quota) -> JobRecord | None:
        """Insert ``job`` (made by ``quota``'s requester) only if it fits every limit of
        ``quota`` (``core.domain.quota``), counting the job rows' charges
        (``core.domain.ledger.charge_of``): the check and the insert are one atomic step, so
        two requests at once cannot both take the last place, second or yuan (any number of
        processes). None when refused."""
        ...

    async def quota_usage(self, quota: Quota) -> QuotaUsage:
        """Where ``quota``'s requester and server stand (what ``insert_job_within`` counts)."""
        ...

    async def spend(self, scope: Scope, since: datetime) -> Spend:
        """The charges of ``scope``'s jobs created at or after ``since`` (indexed)."""
        ...

    async def spend_by(
        self, scope: Scope, since: datetime, *, by: Literal["user", "model"], limit: int
    ) -> list[tuple[str, Spend]]:
        """The same, per user or per model, the biggest spenders first."""
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
        written) when someone else wrote it first. Use ``core.rows.update`` to re-read
        and re-apply a change instead of losing it. ``durable``: the write survives a power
        cut once this returns (used for the marker written before a create leaves).
        ``TaskTakenError`` when ``new.task_id`` belongs to another job."""
        ...

    async def due_jobs(
        self, now: datetime, statuses: Iterable[JobStatus], *, limit: int
    ) -> list[JobRecord]:
        """Jobs in ``statuses`` whose ``next_at`` is due, oldest first (indexed)."""
        ...

    async def next_due(
        self, statuses: Iterable[JobStatus], *, owner: str | None = None
    ) -> datetime | None:
        """The earliest ``next_at`` among jobs in ``statuses``; given ``owner``, a job another
        owner holds counts from when its lease ends (``owner`` cannot claim it before)."""
        ...

    # ------------------------------------------------------------------ leases (issue 13)
    async def claim_due(
        self, now: datetime, statuses: Iterable[JobStatus], *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        """``due_jobs``, taking the lease of every row returned: only rows nobody else holds
        (no lease, an expired one, or ``lease.owner``'s own), oldest first. Rows another
        transaction is claiming at this very moment are skipped, never waited for."""
        ...

    async def claim_deliverable(
        self, now: datetime, *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        """``deliverable_jobs``, claimed the same way."""
        ...

    async def claim_uploads(
        self, now: datetime, *, fresh_until: datetime, lease: Lease, limit: int
    ) -> list[JobRecord]:
        """``uploads_due``, claimed the same way."""
        ...

    async def claim_stale(
        self, now: datetime, statuses: Iterable[JobStatus], *, lease: Lease, limit: int
    ) -> list[JobRecord]:
        """Jobs in ``statuses`` whose lease is missing or expired (due or not): work a dead
        worker left half done (a create it was sending). Never ``lease.owner``'s live ones."""
        ...

    async def renew_leases(self, owner: str, until: datetime) -> int:
        """Extend every lease ``owner`` holds to ``until``; how many."""
        ...

    async def release_leases(self, owner: str, *, keep: Collection[int] = ()) -> int:
        """Let go of every lease ``owner`` holds except on ``keep``; how many."""
        ...

    async def clear_leases(self) -> int:
        """Drop every lease and role; how many leases (only when every other holder is known
        dead: SQLite's one process at startup, under its instance lock)."""
        ...

    async def save_within(
        self,
        old: JobRecord,
        new: JobRecord,
        cap: SlotCap,
        *,
        lease: Lease,
        now: datetime,
        durable: bool = False,
    ) -> JobRecord | None:
        """``save`` taking one of ``cap``'s slots and the row's lease, as one atomic step:
        written only if the row is still at ``old.version``, nobody else holds its lease at
        ``now`` and
        fewer than ``cap.limit`` jobs of ``cap.model`` are in ``cap.statuses`` (counted under a
        lock every process takes, so two workers cannot both take the last slot). None when
        refused; the caller re-reads the row to tell a conflict from full slots."""
        ...

    async def take_role(self, role: str, lease: Lease, now: datetime) -> bool:
        """Hold ``role`` (e.g. the one worker that sweeps the task list) until
        ``lease.until``: True when ``lease.owner`` holds it now (taken, or renewed)."""
        ...

    async def submitted_since(self, since: datetime) -> list[JobRecord]:
        """Jobs whose create was sent at or after ``since`` (fair-queue history)."""
        ...

    async def deliverable_jobs(self, now: datetime, *, limit: int) -> list[JobRecord]:
        """Jobs whose ``deliver_at`` is due, oldest first (indexed)."""
        ...

    async def jobs_with_status(self, statuses: Iterable[JobStatus]) -> list[JobRecord]: ...

    async def job_for_task(self, task_id: str) -> JobRecord | None:
        """The job whose DashScope task is ``task_id``, if any (the unique index on task ids)."""
        ...

    async def schedule_unscheduled(
        self,
        now: datetime,
        *,
        due: Iterable[JobStatus],
        deliverable: Iterable[JobStatus],
    ) -> int:
        """In one statement: every job in ``due`` without a ``next_at`` gets ``now``, every
        job in ``deliverable`` without a ``deliver_at`` gets ``now`` (each such row's version
        bumped); returns the number of rows written. For a restart: no row is read."""
        ...

    async def uploads_due(
        self, now: datetime, *, fresh_until: datetime, limit: int
    ) -> list[JobRecord]:
        """Queued jobs with an audio file or a clip whose upload is missing or expires before
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

    # ---- server settings (per platform and guild / team) -------------------------------------
    async def load_settings(self, platform: str, guild: str) -> list[StoredSetting]:
        """Every stored setting of one server (its own and its roles' overrides)."""
        ...

    async def put_setting(
        self,
        platform: str,
        guild: str,
        scope: str,
        name: str,
        value: object | None,
        *,
        expected: object | None,
        by: str,
        now: datetime,
    ) -> bool:
        """Compare and set one setting: write ``value`` (JSON; None deletes it) only if the
        stored value is still ``expected`` (None: not set). False when someone changed it
        first (the caller re-reads and re-applies its edit)."""
        ...


class AccountLimits(Protocol):
    """The account's rolling rate windows (task queries, submits per model) and throttling
    pauses, shared by every process that talks to DashScope for the account.

    One process alone keeps them in memory (``core.engine.limits.LocalLimits``); several keep
    them in the database (``storage.postgres``). Times are the engine's clock.
    """

    async def take(self, key: str, now: datetime, *, limit: int, window: float) -> datetime | None:
        """Count one event in ``key``'s window if fewer than ``limit`` happened in the last
        ``window`` seconds: None when counted, else the earliest time one would be."""
        ...

    async def pause(self, key: str, until: datetime) -> None:
        """Hold ``key`` until ``until`` (DashScope throttled it); a later pause never shortens
        an earlier one."""
        ...

    async def pauses(self, now: datetime) -> dict[str, datetime]:
        """Every key held beyond ``now``, with the end of its pause."""
        ...


#: ``listen(wake)`` calls ``wake()`` whenever another process records new work, until canceled
Listen = Callable[[Callable[[], None]], Coroutine[Any, Any, None]]
