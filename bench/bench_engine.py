"""Job-engine benchmarks: ``python -m bench.bench_engine [--burst 500] [--isolated 20]``.

Everything runs against the emulator on 127.0.0.1 through the real DashScope client, on one
simulated clock shared by the emulator and the engine, so hours of DashScope time take seconds.
Task durations are log-normal around the model's median (σ = 0.25). Each figure is printed next
to a baseline measured in the same run:

1. status queries per finished task and completion→detection lag, against the official SDK's
   ``wait()`` schedule (sleeps 1,1,2,2,2,4,4,4,5,5,… s) on the very same task durations;
2. slot utilisation and 429s with a burst of jobs queued at once;
3. the due-job query with 10 000 jobs, against a full-table scan of the same table;
4. peak RSS while downloading a 100 MB result, against reading it into memory.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bench._support import CountingProvider, SimClock, png, tiny_mp4
from bot.builder import build
from bot.settings import DashScopeSettings, Settings
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.domain.records import JobRecord
from core.engine.config import EngineConfig
from core.ports import VideoProvider
from emulator import Emulator, EmulatorConfig
from providers.dashscope import DashScopeClient
from storage.sqlite import SqliteJobStore

KEY = "sk-bench"
MODEL = "wan2.6-i2v-flash"  # 5 concurrent tasks, median 90 s in the emulator
TICK = 1.0  # the delivery loop calls poll_once about once a second
ACTIVE = [s for s in JobStatus if s.active]


def sdk_schedule(seconds: float) -> tuple[int, float]:
    """(queries, lag) of SDK 2.0.2 ``wait()`` for a task finishing ``seconds`` after create."""
    t, wait, step, queries = 0.0, 1.0, 0, 0
    while True:
        step += 1
        if wait < 5 and step % 3 == 0:
            wait = min(wait * 2, 5.0)
        queries += 1  # the first GET happens immediately
        if t >= seconds:
            return queries, t - seconds
        t += wait


@dataclass
class RunResult:
    queries_per_task: float
    lags: list[float]
    sdk_queries: float
    sdk_lags: list[float]
    throttled: int
    max_window: int
    utilisation_queued: float
    utilisation_total: float
    sim_seconds: float


async def run_jobs(tmp: Path, jobs: int, *, sequential: bool) -> RunResult:
    clock = SimClock(datetime(2026, 3, 1, tzinfo=UTC))
    emu = Emulator(
        EmulatorConfig(api_key=KEY, clock=clock, seed=42, duration_sigma=0.25, render_max_side=32)
    )
    await emu.start()
    image = png(320, 240)
    spec = JobSpec(model=MODEL, prompt="a paper boat on a river", resolution="720P", duration=5)
    counting: list[CountingProvider] = []

    def count(inner: VideoProvider) -> VideoProvider:
        counting.append(CountingProvider(inner, clock, query_times=[]))
        return counting[0]

    settings = Settings(
        dashscope=DashScopeSettings(api_key=KEY, base_url_override=emu.base_url),
        database_path=tmp / f"bench-{jobs}-{sequential}.db",
        media_dir=tmp / "media",
        limit_user_active_jobs=0,
    )
    try:
        async with build(settings, clock=clock, config=EngineConfig(), wrap_provider=count) as rt:
            store, service, provider = rt.store, rt.service, counting[0]
            start = clock.now()
            pending = list(range(jobs))
            if not sequential:
                for i in pending:
                    chat = ChatRef("discord", f"user{i % 37}", "c", guild=f"g{i % 5}")
                    await service.submit(spec=spec, image=image, chat=chat)
                pending = []
            last_queued_at = start
            while True:
                if sequential and pending and not await store.in_flight_counts(ACTIVE):
                    pending.pop()
                    chat = ChatRef("discord", "solo", "c", guild="g")
                    await service.submit(spec=spec, image=image, chat=chat)
                report = await rt.engine.poll_once(clock.now())
                if await store.in_flight_counts([JobStatus.QUEUED]):
                    last_queued_at = clock.now()
                if not await store.in_flight_counts(ACTIVE) and not pending:
                    break
                ticks = 1
                if report.next_wakeup is not None and not (sequential and pending):
                    ahead = (report.next_wakeup - clock.now()).total_seconds()
                    ticks = max(1, math.ceil(ahead / TICK - 1e-9))
                clock.advance(ticks * TICK)
            done = await store.jobs_with_status([JobStatus.DOWNLOADED])
            return summarise(emu, provider, done, start, last_queued_at, clock.now())
    finally:
        await emu.close()


def summarise(
    emu: Emulator,
    provider: CountingProvider,
    done: list[JobRecord],
    start: datetime,
    last_queued_at: datetime,
    end: datetime,
) -> RunResult:
    tasks = emu.tasks
    lags, sdk_q, sdk_lags = [], [], []
    for job in done:
        task = tasks[job.task_id or ""]
        assert task.ended_at is not None and job.finished_at is not None  # noqa: S101
        lags.append(job.finished_at.timestamp() - task.ended_at)
        q, lag = sdk_schedule(task.ended_at - task.created)
        sdk_q.append(q)
        sdk_lags.append(lag)
    times = sorted(provider.query_times or [])
    window, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        window = max(window, hi - lo + 1)
    # slot-seconds used on the server while jobs waited locally, over what 5 slots offer
    t0, t1, t2 = start.timestamp(), last_queued_at.timestamp(), end.timestamp()

    def busy(a: float, b: float) -> float:
        return sum(max(0.0, min(b, v.ended_at or b) - max(a, v.created)) for v in tasks.values())

    util_q = busy(t0, t1) / (5 * (t1 - t0)) if t1 > t0 else float("nan")
    last_end = max((v.ended_at or t2) for v in tasks.values())
    return RunResult(
        queries_per_task=provider.queries / max(len(done), 1),
        lags=lags,
        sdk_queries=statistics.fmean(sdk_q),
        sdk_lags=sdk_lags,
        throttled=provider.throttled,
        max_window=window,
        utilisation_queued=util_q,
        utilisation_total=busy(t0, last_end) / (5 * (last_end - t0)),
        sim_seconds=t2 - t0,
    )


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, math.ceil(0.95 * len(values)) - 1)]


# ---------------------------------------------------------------------- due-job query
async def due_query(tmp: Path, total: int = 10_000) -> tuple[float, float, int]:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    async with SqliteJobStore.open(tmp / "due.db") as store:
        base = JobRecord(
            id=0,
            status=JobStatus.DELIVERED,
            spec=JobSpec(model=MODEL, prompt="p", resolution="720P", duration=5),
            chat=ChatRef("discord", "u", "c", guild="g"),
            region="cn-beijing",
            created_at=now,
            updated_at=now,
            currency="CNY",
        )
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
        rounds = 300
        # the store's query, timed as raw SQL with and without the index (same rows either way)
        where = (
            "WHERE next_at IS NOT NULL AND next_at <= ? AND status IN ('pending', 'running') "
            "ORDER BY next_at LIMIT 200"
        )
        timings = []
        for hint in ("", "NOT INDEXED"):
            sql = f"SELECT * FROM jobs {hint} {where}"  # noqa: S608 - constant text
            t = time.perf_counter()
            for _ in range(rounds):
                async with db.execute(sql, (probe.timestamp(),)) as cur:
                    rows = list(await cur.fetchall())
            timings.append((time.perf_counter() - t) / rounds)
        found = await store.due_jobs(probe, [JobStatus.PENDING, JobStatus.RUNNING], limit=200)
        assert len(rows) == len(found)  # noqa: S101 - both answer the same question
        indexed, scan = timings
        return indexed, scan, len(found)


# ---------------------------------------------------------------------- download memory
def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> PeakRss:
        self.peak = rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def download_memory(tmp: Path, size: int = 100 * 1024 * 1024) -> tuple[int, int, int]:
    blob = tmp / "result.mp4"
    head = tiny_mp4()
    with blob.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)  # sparse zeros after a real MP4 header

    async def serve(_: web.Request) -> web.FileResponse:
        return web.FileResponse(blob)

    app = web.Application()
    app.router.add_get("/result.mp4", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    origin = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            client = DashScopeClient(session, api_key=KEY, base_url=f"{origin}/api/v1")
            base = rss()
            with PeakRss() as streamed:
                got = await client.download(
                    f"{origin}/result.mp4", tmp / "out.mp4", max_bytes=2 * size
                )
            stream_peak = streamed.peak - base
            base = rss()
            with PeakRss() as naive:
                async with session.get(f"{origin}/result.mp4") as resp:
                    data = await resp.read()
            naive_peak = naive.peak - base
            assert len(data) == got == size  # noqa: S101 - both fetched the whole file
            del data
    finally:
        await runner.cleanup()
    return stream_peak, naive_peak, size


# ---------------------------------------------------------------------- main
def table(rows: list[tuple[str, str, str, str]]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        yield "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))


async def main_async(burst: int, isolated: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        t = time.perf_counter()
        queue = await run_jobs(tmp, burst, sequential=False)
        solo = await run_jobs(tmp, isolated, sequential=True)
        indexed, scan, due = await due_query(tmp)
        streamed, naive, size = await download_memory(tmp)
        wall = time.perf_counter() - t
    mb = 1024 * 1024
    rows = [
        ("figure", "engine", "baseline", "ratio"),
        (
            f"queries/task, {burst}-job queue",
            f"{queue.queries_per_task:.2f}",
            f"{queue.sdk_queries:.2f} (SDK wait)",
            f"{queue.queries_per_task / queue.sdk_queries:.2f}",
        ),
        (
            "  detection lag mean / p95 (s)",
            f"{statistics.fmean(queue.lags):.2f} / {p95(queue.lags):.2f}",
            f"{statistics.fmean(queue.sdk_lags):.2f} / {p95(queue.sdk_lags):.2f}",
            f"{statistics.fmean(queue.lags) / statistics.fmean(queue.sdk_lags):.2f}",
        ),
        (
            f"queries/task, {isolated} jobs one at a time",
            f"{solo.queries_per_task:.2f}",
            f"{solo.sdk_queries:.2f} (SDK wait)",
            f"{solo.queries_per_task / solo.sdk_queries:.2f}",
        ),
        (
            "  detection lag mean / p95 (s)",
            f"{statistics.fmean(solo.lags):.2f} / {p95(solo.lags):.2f}",
            f"{statistics.fmean(solo.sdk_lags):.2f} / {p95(solo.sdk_lags):.2f}",
            f"{statistics.fmean(solo.lags) / statistics.fmean(solo.sdk_lags):.2f}",
        ),
        (
            f"429s / max queries in 1 s ({burst} queued)",
            f"{queue.throttled} / {queue.max_window}",
            "limit 20 QPS",
            f"{queue.max_window / 20:.2f}",
        ),
        (
            "slot utilisation while jobs queued",
            f"{queue.utilisation_queued:.1%}",
            "5 slots",
            f"{queue.utilisation_queued:.3f}",
        ),
        (
            "  slot utilisation, whole burst",
            f"{queue.utilisation_total:.1%}",
            f"{queue.sim_seconds:.0f} s simulated",
            f"{queue.utilisation_total:.3f}",
        ),
        (
            f"due-job query, 10 000 jobs ({due} due)",
            f"{indexed * 1000:.3f} ms",
            f"{scan * 1000:.3f} ms (full scan)",
            f"{indexed / scan:.3f}",
        ),
        (
            f"peak RSS growth, {size // mb} MB download",
            f"{streamed / mb:.1f} MB (streamed)",
            f"{naive / mb:.1f} MB (read())",
            f"{streamed / max(naive, 1):.3f}",
        ),
    ]
    print("\n".join(table(rows)))
    print(f"(wall time {wall:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_engine")
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--isolated", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main_async(args.burst, args.isolated))


if __name__ == "__main__":
    main()
