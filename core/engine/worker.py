"""The worker: the one loop that runs the engine, beside whatever front-ends a process has.

``run`` recovers (a restart changes nothing), then ticks until ``stop()``: each ``tick`` runs one
engine pass and one delivery pass, and beats the heartbeat only when both worked (a loop that
runs but fails every pass must look stalled to the health check). Between ticks it waits until
the engine's next scheduled work, at most ``interval`` seconds, or until ``wake()`` (the facade
calls it after a submit, so a new job does not wait for the next tick).

With leases (``core.engine.leases``, several workers on one store), a tick ends by letting go of
every job the worker is not still working on, and ``run`` renews its leases in the background
while it works; ``listen`` (PostgreSQL's LISTEN, see ``core.ports.Listen``) wakes it when another
process records a job.

Tests and the crash runner call ``recover`` and ``tick`` themselves, one pass at a time on a
fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.engine.config import PassReport
from core.engine.leases import Leases
from core.ports import Clock, Listen

log = logging.getLogger(__name__)


class EnginePass(Protocol):
    async def poll_once(self, now: datetime) -> PassReport: ...


class DeliveryPass(Protocol):
    async def deliver_once(self, now: datetime) -> int: ...


@dataclass(frozen=True, slots=True)
class Tick:
    """What one tick did: the engine's report (None: the pass failed) and the deliveries."""

    report: PassReport | None
    delivered: int
    ok: bool


class Worker:
    def __init__(
        self,
        *,
        engine: EnginePass,
        deliverer: DeliveryPass,
        clock: Clock,
        recover: Callable[[], Awaitable[None]],
        heartbeat: Callable[[], None] | None = None,
        interval: float = 5.0,
        min_wait: float = 0.2,
        leases: Leases | None = None,
        listen: Listen | None = None,
    ) -> None:
        self.engine = engine
        self.deliverer = deliverer
        self.clock = clock
        self._recover = recover
        self.heartbeat = heartbeat
        self.interval = interval
        self.min_wait = min(min_wait, interval)
        self.leases = leases
        self.listen = listen
        self._wake = asyncio.Event()
        self._stopping = False
        #: set once recovery and the first tick are done (readiness)
        self.started = asyncio.Event()
        self.last_tick: datetime | None = None

    def wake(self) -> None:
        """Run the next tick now (new work arrived)."""
        self._wake.set()

    async def recover(self) -> None:
        """Pick every unfinished job up again; a failure is logged, never fatal (the ticks
        still take whatever is due)."""
        try:
            await self._recover()
        except Exception:
            log.exception("recovery failed; the worker still takes due jobs")

    async def tick(self, now: datetime | None = None) -> Tick:
        """One engine pass and one delivery pass; the heartbeat only when both worked."""
        report: PassReport | None = None
        delivered = 0
        ok = True
        try:
            report = await self.engine.poll_once(now or self.clock.now())
        except Exception:
            ok = False
            log.exception("engine pass failed")
        try:
            delivered = await self.deliverer.deliver_once(now or self.clock.now())
        except Exception:
            ok = False
            log.exception("delivery pass failed")
        if self.leases is not None:
            try:
                await self.leases.release_idle()
            except Exception:
                ok = False
                log.exception("could not release the leases of finished work")
        self.last_tick = self.clock.now()
        if ok and self.heartbeat is not None:
            try:
                self.heartbeat()
            except OSError:
                log.exception("could not write the heartbeat")
        return Tick(report, delivered, ok)

    def _delay(self, tick: Tick) -> float:
        if self.leases is not None and self.leases.backlog:
            return self.min_wait  # deliveries left for the next pass (or another worker)
        wakeup = tick.report.next_wakeup if tick.report is not None else None
        if wakeup is None:
            return self.interval
        ahead = (wakeup - self.clock.now()).total_seconds()
        return min(self.interval, max(self.min_wait, ahead))

    async def run(self) -> None:
        """Recover, then tick until ``stop()``; renew leases and listen beside the ticks."""
        helpers: list[asyncio.Task[None]] = []
        if self.leases is not None:
            helpers.append(asyncio.create_task(self.leases.keep_alive(), name="lease-keeper"))
        if self.listen is not None:
            helpers.append(asyncio.create_task(self.listen(self.wake), name="work-listener"))
        try:
            await self._loop()
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _loop(self) -> None:
        await self.recover()
        while not self._stopping:
            self._wake.clear()
            tick = await self.tick()
            if not self.started.is_set():
                log.info("worker running (every %.0f s at most)", self.interval)
                self.started.set()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._delay(tick)):
                    await self._wake.wait()
        log.info("worker stopped")

    def stop(self) -> None:
        """End ``run`` after the tick in progress (if any)."""
        self._stopping = True
        self._wake.set()
