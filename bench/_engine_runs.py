"""One engine run against the emulator on a simulated clock, for ``bench.bench_engine``.

The real engine (``bot.builder``) and the real DashScope client talk to the emulator on
127.0.0.1; both read one simulated clock, so hours of DashScope time take seconds. Passes run as
the worker runs them: after each, the clock jumps to the pass's ``next_wakeup`` on a whole
``TICK`` (the emulator's task ends are wakeups too when push is on: the event wakes the worker).
With push, the bot's real HTTP endpoint (``bot.web`` + ``bot.webhooks``) receives the emulator's
EventBridge events over loopback.

Every task's duration is known afterwards (the emulator's record), so the SDK's ``wait()``
schedule is replayed on the very same durations as the baseline.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._support import CountingProvider, SimClock, png, sdk_schedule
from bot.builder import Runtime, build
from bot.settings import DashScopeSettings, Settings
from bot.web import serve
from bot.webhooks import PATH, events_route
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.engine.config import EngineConfig
from core.ports import VideoProvider
from emulator import Emulator, EmulatorConfig, PushConfig

KEY = "sk-bench"
MODEL = "wan2.6-i2v-flash"  # 5 concurrent tasks; the catalog expects 90 s at 1080P, 5 s
TOKEN = "bench-events-token-0123"  # noqa: S105 - a made-up secret for a loopback endpoint
QUEUE_DELAY = 2.0  # the emulator's PENDING time before a task runs (part of every duration)
TICK = 1.0  # passes land on whole simulated seconds unless push wakes the worker
ACTIVE = [s for s in JobStatus if s.active]


@dataclass(frozen=True)
class Scenario:
    title: str
    jobs: int  # measured jobs per run
    sequential: bool  # one at a time (the next once the previous is seen finished)
    median: float | None = None  # the emulator's median for MODEL (None: its own, 90 s)
    resolution: str = "1080P"  # 1080P: the catalog's prior is 90 s; 720P: 67.5 s
    learned: int = 0  # jobs run (one at a time) before measuring, to learn from
    push: dict[str, Any] | None = None  # PushConfig options: the emulator pushes events
    endpoint: bool = True  # with push: the bot listens for them (False: polling only)
    runs: int = 1  # independent runs (fresh database each), seeds 1..runs
    isolated: bool = False  # one task at a time: the bound applies


@dataclass
class Result:
    queries: int = 0
    tasks: int = 0
    lags: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    #: with push: the lags of tasks whose event reached the bot, and of those whose event was lost
    pushed_lags: list[float] = field(default_factory=list)
    lost_lags: list[float] = field(default_factory=list)
    throttled: int = 0
    max_window: int = 0
    util_queued: float = math.nan
    util_total: float = math.nan
    sim_seconds: float = 0.0

    def merge(self, other: Result) -> None:
        self.queries += other.queries
        self.tasks += other.tasks
        self.lags += other.lags
        self.durations += other.durations
        self.pushed_lags += other.pushed_lags
        self.lost_lags += other.lost_lags
        self.throttled += other.throttled
        self.max_window = max(self.max_window, other.max_window)
        for name in ("util_queued", "util_total"):
            if math.isnan(getattr(self, name)):
                setattr(self, name, getattr(other, name))
        self.sim_seconds += other.sim_seconds

    @property
    def q(self) -> float:
        return self.queries / max(self.tasks, 1)

    @property
    def lag(self) -> float:
        return statistics.fmean(self.lags)

    @property
    def p95(self) -> float:
        return p95(self.lags)

    def sdk(self) -> tuple[float, list[float]]:
        got = [sdk_schedule(d) for d in self.durations]
        return statistics.fmean(q for q, _ in got), [lag for _, lag in got]


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, math.ceil(0.95 * len(values)) - 1)]


@asynccontextmanager
async def _runtime(
    tmp: Path, sc: Scenario, seed: int, clock: SimClock
) -> AsyncIterator[tuple[Emulator, Runtime, CountingProvider]]:
    async with AsyncExitStack() as stack:
        counting: list[CountingProvider] = []

        def count(inner: VideoProvider) -> VideoProvider:
            counting.append(CountingProvider(inner, clock, query_times=[]))
            return counting[0]

        push_url = "http://127.0.0.1:9/nobody-listens" if sc.push is not None else None
        hand: dict[str, Runtime] = {}
        listening = sc.push is not None and sc.endpoint
        if listening:
            # the endpoint exists before the emulator that posts to it, the runtime after it
            route = events_route(
                TOKEN,
                lambda e: hand["rt"].engine.pushes.offer(e),
                lambda: hand["rt"].worker.wake(),
            )
            web = await stack.enter_async_context(serve("127.0.0.1", 0, [route]))
            push_url = web.url + PATH
        push = None
        if push_url is not None:
            push = PushConfig(url=push_url, auth="api-key", token=TOKEN, **(sc.push or {}))
        emu = Emulator(
            EmulatorConfig(
                api_key=KEY,
                clock=clock,
                seed=seed,
                queue_delay=QUEUE_DELAY,
                duration_sigma=0.25,
                render_max_side=32,
                durations={MODEL: sc.median} if sc.median else None,
                push=push,
            )
        )
        await emu.start()
        stack.push_async_callback(emu.close)
        settings = Settings(
            dashscope=DashScopeSettings(api_key=KEY, base_url_override=emu.base_url),
            database_path=Path(tempfile.mkdtemp(dir=tmp)) / "bench.db",  # a fresh one each run
            media_dir=tmp / "media",
            limit_user_active_jobs=0,
            events_token=TOKEN if listening else None,
        )
        rt = await stack.enter_async_context(
            build(settings, clock=clock, config=EngineConfig(), wrap_provider=count)
        )
        hand["rt"] = rt
        yield emu, rt, counting[0]


def _next_event(emu: Emulator, now: float) -> float:
    """Simulated time of the emulator's next task end (what it announces) or start (after
    which that task's end is known); inf when nothing is running or waiting."""
    events = [math.inf]
    for t in emu.tasks.values():
        if t.status == "RUNNING" and t.started_at is not None:
            events.append(t.started_at + t.run_seconds)
        elif t.status == "PENDING" and t.created + QUEUE_DELAY > now:
            events.append(t.created + QUEUE_DELAY)  # waiting for a slot: starts at an end
    return min(events)


async def run(tmp: Path, sc: Scenario, seed: int) -> Result:
    clock = SimClock(datetime(2026, 3, 1, tzinfo=UTC))
    spec = JobSpec(model=MODEL, prompt="a paper boat", resolution=sc.resolution, duration=5)
    async with _runtime(tmp, sc, seed, clock) as (emu, rt, provider):
        store, service = rt.store, rt.service
        measured: set[str] = set()
        base_queries, start, last_queued = 0, clock.now(), clock.now()
        pending = sc.learned + (sc.jobs if sc.sequential else 0)
        if not sc.sequential:
            for i in range(sc.jobs):
                chat = ChatRef("discord", f"user{i % 37}", "c", guild=f"g{i % 5}")
                await service.submit(spec=spec, image=png(), chat=chat)
        while True:
            if sc.sequential and pending and not await store.in_flight_counts(ACTIVE):
                if pending == sc.jobs:  # the learning jobs are done: measure from here
                    base_queries, start = provider.queries, clock.now()
                pending -= 1
                await service.submit(spec=spec, image=png(), chat=ChatRef("discord", "u", "c"))
            report = await rt.engine.poll_once(clock.now())
            if await store.in_flight_counts([JobStatus.QUEUED]):
                last_queued = clock.now()
            if not pending and not await store.in_flight_counts(ACTIVE):
                break
            ahead = TICK
            if report.next_wakeup is not None and not (sc.sequential and pending):
                ahead = (report.next_wakeup - clock.now()).total_seconds()
            ticks = max(1, math.ceil(ahead / TICK - 1e-9)) * TICK
            if sc.push is not None and sc.endpoint:  # an event wakes the worker at once
                ticks = min(ticks, max(0.001, _next_event(emu, clock()) - clock()))
            clock.advance(ticks)
            if sc.push is not None:
                await emu.settle_push()
        for job in await store.jobs_with_status([JobStatus.DOWNLOADED]):
            if job.submit_started_at is not None and job.submit_started_at >= start:
                measured.add(job.task_id or "")
        return _summarise(emu, provider, store_jobs=await store.jobs_with_status(list(JobStatus)),
                          measured=measured, queries=provider.queries - base_queries,
                          start=start, last_queued=last_queued, end=clock.now())  # fmt: skip


def _summarise(
    emu: Emulator,
    provider: CountingProvider,
    *,
    store_jobs: list[Any],
    measured: set[str],
    queries: int,
    start: datetime,
    last_queued: datetime,
    end: datetime,
) -> Result:
    tasks = emu.tasks
    out = Result(queries=queries, tasks=len(measured), throttled=provider.throttled)
    log = emu.push_log
    arrived = {d.task_id for d in log if d.outcome == "delivered"}
    for job in store_jobs:
        if job.task_id not in measured:
            continue
        task = tasks[job.task_id]
        assert task.ended_at is not None and job.finished_at is not None  # noqa: S101
        lag = job.finished_at.timestamp() - task.ended_at
        out.lags.append(lag)
        out.durations.append(task.ended_at - task.created)
        if log:
            (out.pushed_lags if job.task_id in arrived else out.lost_lags).append(lag)
    times = sorted(provider.query_times or [])
    lo = 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        out.max_window = max(out.max_window, hi - lo + 1)
    t0, t1, t2 = start.timestamp(), last_queued.timestamp(), end.timestamp()

    def busy(a: float, b: float) -> float:
        return sum(max(0.0, min(b, v.ended_at or b) - max(a, v.created)) for v in tasks.values())

    out.util_queued = busy(t0, t1) / (5 * (t1 - t0)) if t1 > t0 else math.nan
    last_end = max((v.ended_at or t2) for v in tasks.values())
    out.util_total = busy(t0, last_end) / (5 * (last_end - t0)) if last_end > t0 else math.nan
    out.sim_seconds = t2 - t0
    return out


async def run_scenario(tmp: Path, sc: Scenario) -> Result:
    total = Result()
    for seed in range(1, sc.runs + 1):
        total.merge(await run(tmp, sc, seed))
    return total
