"""Scale-out benchmarks: ``python -m bench.bench_scale [--jobs 36] [--post 1.25] [--rows 100000]``.

Needs a PostgreSQL server it may create databases on: ``BENCH_DATABASE_URL`` (a superuser URL;
``make bench`` starts a throwaway cluster and sets it). Every figure is a ratio against a
baseline measured in the same run:

1. **Jobs completed per minute through 1, 2 and 4 worker processes** (``bench._scale_worker``:
   the real worker loop on the system clock, one PostgreSQL database), against the emulator
   with the real account limits (four models of 5 submits per second and 5 tasks at once: 20
   tasks at a time; 20 task queries per second; a create beyond a model's slots is refused
   with 429) and short tasks (8 s, against 60-180 s for real ones). Posting a result takes
   each worker ``--post`` seconds (an upload to the chat), which caps what one worker
   delivers. A run starts the workers, then a front-end queues ``--jobs`` jobs at once (LISTEN/
   NOTIFY wakes the workers); it counts from the first create to the last post. Baseline: the
   account's own ceiling, measured as one worker whose posts take no time. Throughput should
   rise with workers until the account caps it, then stay flat, with no 429 at all (the
   workers count the 429s they meet).
2. **The due-job claim at 100 000 rows** (1 % in flight, the rest history) on SQLite and on
   PostgreSQL, each against a full scan of the same table on the same backend (the claim with
   the indexes on the status dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench._pg import admin_url, fresh_database
from bench._scale_due import due_claims
from bench._scale_worker import KEY, settings
from bench._support import png
from bot.builder import build
from core.domain.catalog import find_model
from core.domain.durations import DurationKey, DurationStats
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from emulator import Emulator, EmulatorConfig
from storage.postgres import PostgresJobStore

#: 5 submits per second and 5 tasks at once each (reference §10): 20 tasks at a time
MODELS = ("wan2.6-i2v-flash", "wan2.6-i2v", "wan2.5-i2v-preview", "wan2.7-i2v")
TASK_SECONDS = 8.0


@dataclass
class Throughput:
    workers: int
    post_seconds: float
    per_minute: float
    throttled: int
    creates: int


async def throughput(
    admin: str, tmp: Path, *, workers: int, post: float, jobs: int, limit: float
) -> Throughput:
    name = f"bench_scale_{workers}_{int(post * 1000)}"
    emu = Emulator(
        EmulatorConfig(
            api_key=KEY,
            seed=11,
            durations=dict.fromkeys(MODELS, TASK_SECONDS),
            duration_sigma=0.1,
            queue_delay=0.3,
            render_max_side=32,
            # a create beyond a model's concurrent tasks is refused with 429 (not queued), so
            # any overshoot of the account's limits by the workers together shows in the count
            concurrency_mode="reject",
        )
    )
    await emu.start()
    try:
        async with fresh_database(admin, name) as url:
            env = {
                "DATABASE_URL": url,
                "BASE_URL": emu.base_url,
                "STATE_DIR": str(tmp / name / "state"),
                "MEDIA_DIR": str(tmp / name / "media"),
                "POST_SECONDS": str(post),
            }
            procs = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench._scale_worker",
                    env={**os.environ, **env},
                    stdout=asyncio.subprocess.PIPE,
                )
                for _ in range(workers)
            ]
            try:
                for proc in procs:  # every worker up (and listening) before the jobs arrive
                    assert proc.stdout is not None  # noqa: S101 - PIPE above
                    line = await asyncio.wait_for(proc.stdout.readline(), limit)
                    if line.strip() != b"ready":
                        raise SystemExit(f"a worker failed to start: {line!r}")
                await queue_jobs(env, jobs)
                async with PostgresJobStore.open(url) as store:
                    deadline = time.monotonic() + limit
                    while time.monotonic() < deadline:
                        # a benchmark measures wall time: it waits for the work to be done
                        await asyncio.sleep(1.0)
                        done = await store.jobs_with_status([JobStatus.DELIVERED])
                        if len(done) == jobs:
                            break
            finally:
                for proc in procs:
                    proc.terminate()
                outs = [
                    json.loads((await proc.communicate())[0].splitlines()[-1]) for proc in procs
                ]
    finally:
        await emu.close()
    if len(done) < jobs:
        raise SystemExit(f"{workers} worker(s) delivered {len(done)} of {jobs} jobs in {limit} s")
    # from the first create to the last post: every job, every cycle of the slots
    start = min(j.submit_started_at for j in done if j.submit_started_at is not None)
    end = max(j.delivered_at for j in done if j.delivered_at is not None)
    return Throughput(
        workers=workers,
        post_seconds=post,
        per_minute=jobs * 60.0 / (end - start).total_seconds(),
        throttled=sum(o["throttled"] for o in outs),
        creates=sum(o["creates"] for o in outs),
    )


async def queue_jobs(env: dict[str, str], jobs: int) -> None:
    """A front-end records ``jobs`` jobs at once; the account has learned the task times."""
    async with build(settings(env)) as rt:
        for name in MODELS:
            model = find_model(name)
            assert model is not None  # noqa: S101 - catalog models
            key = DurationKey(name, model.default_resolution, model.default_duration)
            stats = DurationStats(20, math.log(TASK_SECONDS + 0.3), 0.01)
            await rt.store.save_duration_stats(key, stats, datetime.now(UTC))
        image = png(320, 240)
        for i in range(jobs):
            spec = JobSpec(model=MODELS[i % 4], prompt="a paper boat", resolution="", duration=0)
            chat = ChatRef("discord", f"user{i % 37}", "c", guild=f"g{i % 5}")
            await rt.service.submit(spec=spec, image=image, chat=chat)


def table(rows: Sequence[tuple[str, ...]]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        yield "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))


async def main_async(args: argparse.Namespace) -> None:
    admin = admin_url()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        run = {"jobs": args.jobs, "limit": args.timeout}
        ceiling = await throughput(admin, tmp, workers=1, post=0.0, **run)
        runs = [await throughput(admin, tmp, workers=n, post=args.post, **run) for n in (1, 2, 4)]
        sqlite, postgres = await due_claims(admin, tmp, rows=args.rows)
    rows = [("figure", "result", "baseline (same run)", "ratio")]
    rows.append(
        (
            "account ceiling: 1 worker, instant posts",
            f"{ceiling.per_minute:.1f} jobs/min, {ceiling.throttled} × 429",
            "-",
            "1.00",
        )
    )
    for r in runs:
        rows.append(
            (
                f"{r.workers} worker{'s' if r.workers > 1 else ''}, posts of {r.post_seconds:g} s",
                f"{r.per_minute:.1f} jobs/min, {r.throttled} × 429",
                f"{ceiling.per_minute:.1f} jobs/min (ceiling)",
                f"{r.per_minute / ceiling.per_minute:.2f}",
            )
        )
    for due in (sqlite, postgres):
        rows.append(
            (
                f"due-job claim, {args.rows:,} rows, {due.backend}",
                f"{due.claim * 1000:.2f} ms",
                f"{due.scan * 1000:.2f} ms (full scan)",
                f"{due.claim / due.scan:.3f}",
            )
        )
    rows.append(
        (
            "due-job claim, PostgreSQL vs SQLite",
            f"{postgres.claim * 1000:.2f} ms",
            f"{sqlite.claim * 1000:.2f} ms (SQLite)",
            f"{postgres.claim / sqlite.claim:.2f}",
        )
    )
    print("\n".join(table(rows)))
    print(f"({time.perf_counter() - t0:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=36, help="jobs per run (20 run at once)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a run may take")
    parser.add_argument("--post", type=float, default=1.25, help="seconds one result post takes")
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the due-job claim")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
