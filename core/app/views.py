"""The one record → view mapping: what a front-end shows about a job.

State, queue position (the same fair order admission uses), expected start and finish (learned
generation times) and cost. ``queue`` gives every waiting job its place at once, for the live
queue edits of the deliverer. The facade returns these views; the engine's deliverer receives
``Views.view`` and ``Views.queue`` from the builder, so a progress edit never goes through
admission or the facade.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from core.domain.catalog import Model, find_model
from core.domain.fairness import fair_order
from core.domain.jobs import SLOT_STATUSES, JobStatus, JobView
from core.domain.records import JobRecord
from core.estimates import Durations
from core.ports import JobStore

_S = JobStatus


class Views:
    def __init__(
        self,
        *,
        store: JobStore,
        durations: Durations,
        slots: Callable[[Model], int],
        fairness_window: float,
    ) -> None:
        self.store = store
        self.durations = durations
        #: the account's concurrent tasks per model (the engine's setting)
        self.slots = slots
        self.fairness_window = fairness_window

    async def view(self, job: JobRecord, now: datetime) -> JobView:
        model = find_model(job.spec.model)
        slots = self.slots(model) if model else 1
        position = await self.position(job, now)
        position_for_eta: int | None = None
        if job.status is _S.QUEUED:
            position_for_eta = 1
            if position is not None:
                # the slots busy right now delay the queue by about one more round
                busy = (await self.store.in_flight_counts(SLOT_STATUSES)).get(job.spec.model, 0)
                position_for_eta = position + min(busy, slots)
        mean = await self.durations.expected_seconds(job)
        eta = estimate_eta(job, now, position=position_for_eta, slots=slots, mean_seconds=mean)
        starts = None  # unknown, or about to start: "starts a few seconds ago" helps nobody
        if job.status is _S.QUEUED and eta is not None and eta - timedelta(seconds=mean) > now:
            starts = eta - timedelta(seconds=mean)
        return to_view(job, position=position, eta=eta, starts_at=starts)

    async def position(self, job: JobRecord, now: datetime) -> int | None:
        """1 = next of its model to get a slot; None when not queued locally."""
        if job.status is not _S.QUEUED:
            return None
        order = [j.id for j, _ in await self.queue(now, model=job.spec.model)]
        return order.index(job.id) + 1 if job.id in order else None

    async def queue(
        self, now: datetime, *, model: str | None = None
    ) -> list[tuple[JobRecord, int]]:
        """Every queued job (of ``model``) with its place in its model's queue, in the fair
        order admission serves them (``core.domain.fairness``)."""
        queued = await self.store.jobs_with_status([_S.QUEUED])
        if model is not None:
            queued = [j for j in queued if j.spec.model == model]
        if not queued:
            return []
        since = now - timedelta(seconds=self.fairness_window)
        served = await self.store.submitted_since(since)
        out: list[tuple[JobRecord, int]] = []
        for name in sorted({j.spec.model for j in queued}):
            mine = [j for j in queued if j.spec.model == name]
            theirs = [j for j in served if j.spec.model == name]
            out.extend((j, i) for i, j in enumerate(fair_order(mine, theirs), start=1))
        return out


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


def to_view(
    job: JobRecord,
    *,
    position: int | None = None,
    eta: datetime | None = None,
    starts_at: datetime | None = None,
) -> JobView:
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
        starts_at=starts_at,
        cost_estimate=job.cost_estimate,
        currency=job.currency,
        cost=job.cost,
        usage_seconds=job.usage_seconds,
        orig_prompt=job.orig_prompt,
        actual_prompt=job.actual_prompt,
        seed_used=job.seed_used,
        error_code=job.error_code,
        error_message=job.error_message,
        error_subject=job.error_subject,
        error_key=job.error_key,
        error_params=job.error_params,
        video_path=job.video_path,
        video_url=job.video_url,
        video_url_expires_at=job.video_url_expires_at,
        posted_message_id=job.posted_message_id,
        parent_job_id=job.parent_job_id,
        unit_price=job.unit_price,
        clip_seconds=job.clip_seconds if job.clip_path is not None else None,
        last_frame=job.last_frame_path is not None,
    )
