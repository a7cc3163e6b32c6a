"""``GET /metrics``: what an operator watches, in Prometheus' text format (``HTTP_PORT``).

Two sources, and the engine knows neither: what *happened* is counted by wrappers the builder
puts around the engine's ports (the DashScope client, each front-end's delivery port, the video
fit, the push endpoint's hand-over); what *is* (jobs by state, the queue, slots, poll lag) is read
from the store when Prometheus scrapes, so it is right after a restart and across processes
sharing one database. One private ``CollectorRegistry`` per runtime: never the global one, so
two runtimes in one process (tests, the playground) never share or collide.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.metered import MeteredPort, MeteredProvider, PortMeters
from bot.web import Route
from core.domain.catalog import models_in
from core.domain.jobs import SLOT_STATUSES, JobStatus
from core.domain.regions import Region
from core.domain.tasks import TaskEvent
from core.engine.fitting import FitFn
from core.ports import DeliveryPort, JobStore, VideoProvider

PATH = "/metrics"
#: posts take from a fraction of a second (a message) to a minute (a large upload)
_POST_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
#: a re-encode takes seconds to minutes
_FIT_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_POLLED = (JobStatus.PENDING, JobStatus.RUNNING)


class BotMetrics:
    """The registry and every metric; ``provider``/``port``/``fit``/``push`` wrap the engine's
    ports, ``refresh`` reads the store, ``route`` serves them."""

    def __init__(self, region: Region) -> None:
        self.region = region
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "animate_dashscope_requests", "DashScope calls", ["operation"], registry=r
        )
        self.errors = Counter(
            "animate_dashscope_errors",
            "DashScope calls that failed, by DashScope error code (or the kind of failure)",
            ["operation", "code"],
            registry=r,
        )
        self.pushes = Counter(
            "animate_push_events",
            "task-finish events received at the push endpoint (new or repeated)",
            ["outcome"],
            registry=r,
        )
        self.posts = Histogram(
            "animate_delivery_seconds",
            "time to post a result or a failure notice",
            ["platform", "kind"],
            buckets=_POST_BUCKETS,
            registry=r,
        )
        self.post_failures = Counter(
            "animate_delivery_failures",
            "posts that failed (permanent: the job is delivery_failed; else retried)",
            ["platform", "permanent"],
            registry=r,
        )
        self.video_seconds = Counter(
            "animate_video_seconds",
            "billed output seconds delivered",
            ["model", "region"],
            registry=r,
        )
        self.cost = Counter(
            "animate_cost",
            "billed cost of delivered videos, in the region's currency",
            ["model", "region", "currency"],
            registry=r,
        )
        self.fits = Histogram(
            "animate_media_fit_seconds",
            "time to re-encode a video under a front-end's upload limit",
            buckets=_FIT_BUCKETS,
            registry=r,
        )
        self._port_meters = PortMeters(
            self.posts, self.post_failures, self.video_seconds, self.cost
        )
        self.jobs = Gauge("animate_jobs", "jobs in the store", ["state", "model"], registry=r)
        self.queue_depth = Gauge(
            "animate_queue_depth", "jobs waiting for a submit slot", registry=r
        )
        self.queue_wait = Gauge(
            "animate_queue_wait_seconds",
            "how long the oldest queued job has waited",
            registry=r,
        )
        self.slots_used = Gauge(
            "animate_slots_in_use",
            "account concurrency slots held, per model",
            ["model"],
            registry=r,
        )
        self.slots = Gauge(
            "animate_slots", "account concurrency slots, per model", ["model"], registry=r
        )
        self.poll_lag = Gauge(
            "animate_poll_lag_seconds",
            "how far behind its planned look the most overdue generating task is",
            registry=r,
        )

    # ---------------------------------------------------------------- what happened
    def provider(self, inner: VideoProvider) -> VideoProvider:
        return MeteredProvider(inner, self.requests, self.errors)

    def port(self, platform: str, inner: DeliveryPort) -> DeliveryPort:
        return MeteredPort(inner, platform, self._port_meters)

    def fit(self, inner: FitFn) -> FitFn:
        async def timed(src: Path, dest: Path, max_bytes: int) -> Path | None:
            start = time.perf_counter()
            try:
                return await inner(src, dest, max_bytes)
            finally:
                self.fits.observe(time.perf_counter() - start)

        return timed

    def push(self, offer: Callable[[TaskEvent], bool]) -> Callable[[TaskEvent], bool]:
        def counted(event: TaskEvent) -> bool:
            new = offer(event)
            self.pushes.labels("new" if new else "repeat").inc()
            return new

        return counted

    # ---------------------------------------------------------------- what is
    async def refresh(self, store: JobStore, now: datetime, slots_of: Callable[[str], int]) -> None:
        """Read the store's state into the gauges (a scrape's worth of small queries)."""
        self.jobs.clear()
        for state in JobStatus:
            for model_id, count in (await store.in_flight_counts([state])).items():
                self.jobs.labels(state.value, model_id).set(count)
        queued = await store.jobs_with_status([JobStatus.QUEUED])
        self.queue_depth.set(len(queued))
        oldest = min((job.created_at for job in queued), default=None)
        self.queue_wait.set(0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
        held = await store.in_flight_counts(SLOT_STATUSES)
        self.slots_used.clear()
        self.slots.clear()
        for offered in models_in(self.region):
            self.slots_used.labels(offered.id).set(held.get(offered.id, 0))
            self.slots.labels(offered.id).set(slots_of(offered.id))
        overdue = await store.due_jobs(now, _POLLED, limit=1)
        planned = overdue[0].next_at if overdue else None
        self.poll_lag.set(0.0 if planned is None else max(0.0, (now - planned).total_seconds()))

    def route(
        self, store: JobStore, now: Callable[[], datetime], slots_of: Callable[[str], int]
    ) -> Route:
        async def metrics(_: web.Request) -> web.Response:
            await self.refresh(store, now(), slots_of)
            body = generate_latest(self.registry)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        return Route("GET", PATH, metrics)
