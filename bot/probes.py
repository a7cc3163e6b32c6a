"""``GET /healthz`` (alive) and ``GET /readyz`` (ready) on the bot's HTTP server.

They answer over HTTP the questions ``animate-bot health`` answers from outside the process:
*alive* — the worker completed a pass (engine and delivery both worked) within ``HEALTH_MAX_AGE``
seconds of now (a process that has just started counts from its start); *ready* — the database
answers a query through the store within a few seconds, and every front-end registered in the
delivery router is connected. 200 with ``ok``, or 503 with one line saying why not: load
balancers and orchestrators read the status, people read the line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web

from bot.web import Route
from core.engine.router import DeliveryRouter
from core.ports import JobStore

#: seconds the database may take to answer before the process is reported not ready
DB_TIMEOUT = 3.0


class Pulse:
    """When the worker last completed a good pass (its heartbeat calls ``beat``)."""

    def __init__(
        self, max_age: float, *, engine: bool = True, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        #: False in a front-end-only process: there is no worker whose passes could be late
        self.engine = engine
        self._clock = clock
        # a process that has just started is alive until its first pass is due
        self._last_beat = clock()

    def beat(self) -> None:
        self._last_beat = self._clock()

    def problem(self) -> str | None:
        if self.engine and self._clock() - self._last_beat > self.max_age:
            return f"no engine and delivery pass succeeded in the last {self.max_age:g} s"
        return None


async def readiness_problem(store: JobStore, router: DeliveryRouter) -> str | None:
    """None when the database answers and every registered front-end is connected."""
    try:
        # a real read of the jobs table (id 0 never exists): a database that is gone, locked
        # or corrupt fails it, which ``SELECT 1`` would not notice on SQLite
        async with asyncio.timeout(DB_TIMEOUT):
            await store.get_job(0)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; it is reported
        return f"the database does not answer ({type(exc).__name__})"
    readiness = router.readiness()
    if not readiness:
        return "no front-end is registered"
    waiting = sorted(platform for platform, ok in readiness.items() if not ok)
    if waiting:
        return f"not connected: {', '.join(waiting)}"
    return None


def probe_routes(pulse: Pulse, store: JobStore, router: DeliveryRouter) -> list[Route]:
    async def healthz(_: web.Request) -> web.Response:
        return _answer(pulse.problem())

    async def readyz(_: web.Request) -> web.Response:
        return _answer(await readiness_problem(store, router))

    return [Route("GET", "/healthz", healthz), Route("GET", "/readyz", readyz)]


def _answer(problem: str | None) -> web.Response:
    if problem is None:
        return web.Response(text="ok\n")
    return web.Response(text=problem + "\n", status=503)
