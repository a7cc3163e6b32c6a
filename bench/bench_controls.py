"""Controls benchmark: ``python -m bench.bench_controls`` (about half a minute).

What the quotas and the live queue cost on a store with history (SQLite, a temporary file):

1. Recording a job within all four limits (one ``INSERT … SELECT … WHERE`` that sums the
   requester's day and the server's month) against a plain insert, with 20 000 jobs of
   200 users in 20 servers over 60 days already in the table.
2. The facade's pre-check read (``quota_usage``: four subqueries) against the old per-user
   count (``count_active``).
3. The places of 500 waiting jobs at once (``Views.queue``, run by every delivery pass) against
   reading them (``jobs_with_status``).

Each figure is the median of alternating rounds, printed with its baseline from the same run.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.app.views import Views
from core.domain.jobs import ACTIVE, ChatRef, JobSpec, JobStatus
from core.domain.quota import Limits, Quota
from core.domain.records import JobRecord
from core.estimates import Durations
from storage.sqlite import SqliteJobStore

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
HISTORY = 20_000
WAITING = 500
ROUNDS = 7
PER_ROUND = 200
LIMITS = Limits(active_jobs=1000, daily_seconds=10_000, cooldown_seconds=1, monthly_budget=1e6)
_ENDINGS = (JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.EXPIRED)


def job(rng: random.Random, i: int, *, status: JobStatus, at: datetime) -> JobRecord:
    user, guild = f"u{i % 200}", f"g{i % 20}"
    billed = status is JobStatus.DELIVERED and rng.random() < 0.8
    return JobRecord(
        id=0,
        status=status,
        spec=JobSpec("wan2.6-i2v-flash", "p", "720P", 5),
        chat=ChatRef("discord", user, "c", guild),
        region="cn-beijing",
        created_at=at,
        updated_at=at,
        currency="CNY",
        cost_estimate=1.5,
        cost=1.5 if billed else None,
        usage_seconds=5.0 if billed else None,
        video_url="https://x" if billed else None,
    )


async def fill(store: SqliteJobStore) -> None:
    rng = random.Random(7)
    for i in range(HISTORY):
        at = NOW - timedelta(seconds=rng.uniform(60, 60 * 86400))
        await store.insert_job(job(rng, i, status=rng.choice(_ENDINGS), at=at))


async def timed(action: Callable[[int], Awaitable[object]], n: int) -> float:
    """Mean µs per call of ``n`` calls."""
    start = time.perf_counter()
    for i in range(n):
        await action(i)
    return (time.perf_counter() - start) / n * 1e6  # µs per call


async def alternate(
    name: str,
    ours: Callable[[int], Awaitable[object]],
    base: Callable[[int], Awaitable[object]],
    per_round: int = PER_ROUND,
) -> None:
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(ROUNDS):
        theirs.append(await timed(base, per_round))
        mine.append(await timed(ours, per_round))
    m, b = statistics.median(mine), statistics.median(theirs)
    print(f"{name}: {m:8.0f} µs, baseline {b:8.0f} µs, ratio {m / b:5.2f}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with SqliteJobStore.open(Path(tmp) / "bench.db") as store:
            await fill(store)
            rng = random.Random(1)
            fresh = job(rng, 0, status=JobStatus.QUEUED, at=NOW)

            async def within(i: int) -> object:
                mine = dataclasses.replace(
                    fresh, chat=dataclasses.replace(fresh.chat, user=f"n{i}-{time.monotonic_ns()}")
                )
                quota = Quota.of(mine.chat, LIMITS, NOW, "CNY")
                return await store.insert_job_within(mine, quota)

            async def plain(i: int) -> object:
                return await store.insert_job(fresh)

            await alternate("record a job within 4 limits vs plain insert", within, plain)

            quota = Quota.of(fresh.chat, LIMITS, NOW, "CNY")

            async def usage(i: int) -> object:
                return await store.quota_usage(quota)

            async def count(i: int) -> object:
                return await store.count_active("discord", "u1", ACTIVE)

            await alternate("pre-check usage (4 sums) vs active count", usage, count)

        # the queue on a store of its own: the jobs recorded above would all be waiting too
        async with SqliteJobStore.open(Path(tmp) / "queue.db") as store:
            await fill(store)
            for i in range(WAITING):
                await store.insert_job(job(rng, i, status=JobStatus.QUEUED, at=NOW))
            views = Views(
                store=store,
                durations=Durations(store),
                slots=lambda m: m.concurrency,
                fairness_window=3600.0,
            )

            async def places(i: int) -> object:
                return await views.queue(NOW)

            async def read(i: int) -> object:
                return await store.jobs_with_status([JobStatus.QUEUED])

            name = f"places of {WAITING} waiting jobs (one delivery pass) vs reading them"
            await alternate(name, places, read, per_round=5)


if __name__ == "__main__":
    asyncio.run(main())
