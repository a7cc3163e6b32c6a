"""Restart at scale: ``python -m bench.bench_restart [--jobs 10000]`` (≈ 30 s).

A database holding ``--jobs`` non-final jobs (a deep queue behind five running tasks, plus
outcomes waiting to be fetched or posted, each with its input file on disk) is opened by a fresh
runtime, as after a restart: open and migrate, recover (the startup sweep of leftover files and
``core.engine.recovery.resume``), then the worker's first tick (one engine pass, one delivery
pass). Measured, each against a baseline in the same run:

1. wall time from opening the database to the end of the first tick, against reading every
   non-final row once (what recovery did before issue 12, and what any scan-based pass would);
2. job rows the recovery and the first tick read from the store, against that full scan;
3. the due-job query on 10 000 rows, with and without its index.

The running tasks live in the emulator (real client, loopback), on a simulated clock that does
not move: the restart is measured, not the tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._support import SimClock, png
from bot.builder import Runtime, build
from bot.settings import DashScopeSettings, Settings
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.records import JobRecord
from emulator import Emulator, EmulatorConfig
from storage._sqliterows import to_row
from storage.sqlite import SqliteJobStore

KEY = "sk-bench-restart"
MODEL = "wan2.6-i2v-flash"
SPEC = JobSpec(model=MODEL, prompt="a paper boat", resolution="720P", duration=5)
NON_FINAL = [s for s in JobStatus if not s.final]


class QuietPort:
    """A chat that takes every post (the bench measures the engine, not a front-end)."""

    async def post_progress(self, job: JobView) -> None:
        return None

    async def upload_limit(self, job: JobView) -> int:
        return 1 << 40

    async def post_result(self, job: JobView) -> str:
        return f"m{job.id}"

    async def post_failure(self, job: JobView) -> str:
        return f"m{job.id}"

    async def find_posted(self, job: JobView) -> str | None:
        return None


class Counted:
    """The store, counting the job rows handed to its callers."""

    def __init__(self, inner: SqliteJobStore) -> None:
        self.inner = inner
        self.rows = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def counted(*args: Any, **kw: Any) -> Any:
            got = await method(*args, **kw)
            if isinstance(got, list):
                self.rows += sum(isinstance(r, JobRecord) for r in got)
            elif isinstance(got, JobRecord):
                self.rows += 1
            return got

        return counted


def settings(root: Path, emu: Emulator) -> Settings:
    return Settings(
        dashscope=DashScopeSettings(api_key=KEY, base_url_override=emu.base_url),
        database_path=root / "animate.db",
        media_dir=root / "media",
        limit_user_active_jobs=0,
    )


@asynccontextmanager
async def runtime(root: Path, emu: Emulator, clock: SimClock, **kw: Any) -> AsyncIterator[Runtime]:
    async with build(settings(root, emu), clock=clock, media_workers=1, **kw) as rt:
        rt.router.register("discord", QuietPort())
        yield rt


async def fill(root: Path, emu: Emulator, clock: SimClock, jobs: int) -> int:
    """Five running tasks (made through the engine), then ``jobs - 5`` more non-final rows
    written in bulk; returns the number of non-final rows."""
    async with runtime(root, emu, clock) as rt:
        for i in range(5):
            chat = ChatRef("discord", f"runner{i}", "c", guild="g0")
            await rt.service.submit(spec=SPEC, image=png(64, 48), chat=chat)
        await rt.engine.poll_once(clock.now())
        running = await rt.store.jobs_with_status([JobStatus.PENDING, JobStatus.RUNNING])
        assert len(running) == 5  # noqa: S101 - the five slots hold the running tasks
        template = running[0]
    now = clock.now()
    inputs = root / "media" / "inputs"
    rows: list[dict[str, Any]] = []
    for i in range(jobs - 5):
        image = inputs / f"bulk{i:06d}.png"
        image.write_bytes(b"\x89PNG")  # a stand-in input file per job (the sweep sees them)
        kind = i % 100
        status = JobStatus.QUEUED
        changes: dict[str, Any] = {}
        if kind == 0:  # an outcome waiting for its post, scheduled later
            status, changes = JobStatus.FAILED, {"deliver_at": now + timedelta(minutes=5)}
        elif kind == 1:  # a video waiting for its download, backing off
            status = JobStatus.SUCCEEDED
            changes = {"next_at": now + timedelta(minutes=2), "video_url": "https://x/v.mp4"}
        job = dataclasses.replace(
            template,
            id=0,
            status=status,
            task_id=None if status is JobStatus.QUEUED else f"bulk-task-{i}",
            chat=ChatRef("discord", f"user{i % 400}", "c", guild=f"g{i % 40}"),
            image_path=str(image),
            next_at=changes.get("next_at", now if status is JobStatus.QUEUED else None),
            deliver_at=changes.get("deliver_at"),
            submit_started_at=None if status is JobStatus.QUEUED else now,
            submit_ended_at=None if status is JobStatus.QUEUED else now,
            version=1,
            **{k: v for k, v in changes.items() if k not in ("next_at", "deliver_at")},
        )
        rows.append(to_row(job))
    async with SqliteJobStore.open(root / "animate.db") as store:
        names = list(rows[0])
        sql = f"INSERT INTO jobs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"  # noqa: S608 - column names from the store's own mapping
        await store.connection.execute("BEGIN")
        await store.connection.executemany(sql, [list(r.values()) for r in rows])
        await store.connection.execute("COMMIT")
        return len(await store.jobs_with_status(NON_FINAL))


async def restart(root: Path, emu: Emulator, clock: SimClock) -> tuple[float, int, int, float]:
    """(seconds to the end of the first tick, rows read, queries of the first tick, simulated
    seconds until the first planned look at the running tasks)."""
    t = time.perf_counter()
    async with SqliteJobStore.open(root / "animate.db") as inner:
        store = Counted(inner)
        async with runtime(root, emu, clock, store=store) as rt:
            before = len(emu.request_log)
            await rt.worker.recover()
            tick = await rt.worker.tick()
            seconds = time.perf_counter() - t
            queries = len(emu.request_log) - before
            assert tick.ok and tick.report is not None  # noqa: S101 - the pass worked
            look = rt.engine.sweeper.next_sweep()
            assert look is not None  # noqa: S101 - five running tasks: a list look is planned
    return seconds, store.rows, queries, (look - clock.now()).total_seconds()


async def full_scan(root: Path) -> tuple[float, int]:
    t = time.perf_counter()
    async with SqliteJobStore.open(root / "animate.db") as store:
        rows = len(await store.jobs_with_status(NON_FINAL))
    return time.perf_counter() - t, rows


async def due_query(tmp: Path, total: int = 10_000) -> tuple[float, float, int]:
    """The due-job query over ``total`` rows (1 % in flight), with and without its index."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    async with SqliteJobStore.open(tmp / "due.db") as store:
        base = JobRecord(0, JobStatus.DELIVERED, SPEC, ChatRef("discord", "u", "c", guild="g"),
                         "cn-beijing", now, now, "CNY")  # fmt: skip
        db = store.connection
        await db.execute("BEGIN")
        for i in range(total):
            active = i % 100 == 0  # 1 % of the table is in flight, the rest is history
            job = dataclasses.replace(
                base,
                status=JobStatus.RUNNING if active else JobStatus.DELIVERED,
                task_id=f"t{i}",
                next_at=now + timedelta(seconds=i % 600) if active else None,
            )
            await store.insert_job(job)
        await db.execute("COMMIT")
        probe = now + timedelta(seconds=300)
        where = (
            "WHERE next_at IS NOT NULL AND next_at <= ? AND status IN ('pending', 'running') "
            "ORDER BY next_at LIMIT 200"
        )
        timings = []
        for hint in ("", "NOT INDEXED"):
            sql = f"SELECT * FROM jobs {hint} {where}"  # noqa: S608 - constant text
            t = time.perf_counter()
            for _ in range(300):
                async with db.execute(sql, (probe.timestamp(),)) as cur:
                    rows = list(await cur.fetchall())
            timings.append((time.perf_counter() - t) / 300)
        found = await store.due_jobs(probe, [JobStatus.PENDING, JobStatus.RUNNING], limit=200)
        assert len(rows) == len(found)  # noqa: S101 - both answer the same question
        return timings[0], timings[1], len(found)


async def main_async(jobs: int) -> None:
    clock = SimClock()
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "media" / "inputs").mkdir(parents=True)
        async with Emulator(EmulatorConfig(api_key=KEY, clock=clock, render_max_side=32)) as emu:
            t = time.perf_counter()
            non_final = await fill(root, emu, clock, jobs)
            made = time.perf_counter() - t
            clock.advance(30)  # the process was down for half a minute
            scan_s, scan_rows = await full_scan(root)
            seconds, rows, queries, look = await restart(root, emu, clock)
        indexed, scanned, due_found = await due_query(root)
    print(f"{non_final} non-final jobs (made in {made:.1f} s): 5 running, {non_final - 5} "
          f"queued or waiting; the first look at the running tasks is planned {look:.1f} s "
          f"after the restart; {queries} status queries in the first tick")  # fmt: skip
    table = [
        ("figure", "restart", "baseline", "ratio"),
        ("open + recover + first tick (s)", f"{seconds:.2f}",
         f"{scan_s:.2f} (open + read every non-final row)", f"{seconds / scan_s:.2f}"),
        ("job rows read by recovery + first tick", f"{rows}", f"{scan_rows} (full scan)",
         f"{rows / scan_rows:.4f}"),
        (f"due-job query, 10 000 jobs ({due_found} due)", f"{indexed * 1000:.3f} ms",
         f"{scanned * 1000:.3f} ms (full scan)", f"{indexed / scanned:.3f}"),
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_restart")
    parser.add_argument("--jobs", type=int, default=10_000, help="non-final jobs in the database")
    args = parser.parse_args()
    asyncio.run(main_async(args.jobs))


if __name__ == "__main__":
    main()
