"""Spending policy, the pure part: how many unfinished jobs one requester may have.

A small piece for now (a per-user cap); daily and budget quotas belong here later. The cap is
enforced twice: cheaply before a front-end reads any attachment bytes (``core.app.intake``), and
atomically with the insert of the job row (``JobStore.insert_job_within``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.errors import AnimateError, Kind
from core.domain.jobs import ACTIVE, JobStatus


@dataclass(frozen=True, slots=True)
class ActiveCap:
    """At most ``limit`` jobs in ``statuses`` per requester (platform and user)."""

    limit: int
    statuses: frozenset[JobStatus]


@dataclass(frozen=True, slots=True)
class UserLimits:
    #: unfinished jobs (queued, being created, generating, being fetched) one user may have at
    #: once; 0 = no cap (``LIMIT_USER_ACTIVE_JOBS``, 3 in the bot's settings)
    active_jobs: int = 0

    def cap(self) -> ActiveCap | None:
        return ActiveCap(self.active_jobs, ACTIVE) if self.active_jobs > 0 else None


def too_many_active(limit: int) -> AnimateError:
    videos = "video" if limit == 1 else "videos"
    return AnimateError(
        f"You already have {limit} {videos} in progress, the most one person can have at once. "
        "Wait for one to finish (or cancel one that is still queued), then try again; "
        "nothing was spent.",
        key="limit.active_jobs",
        params={"limit": limit},
        kind=Kind.RATE_LIMITED,
        retryable=True,
    )
