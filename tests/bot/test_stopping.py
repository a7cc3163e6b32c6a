"""The grace period: work in flight finishes within it, or is cut short when it runs out."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bot.stopping import finish_in_flight
from core.engine.config import PassReport
from core.engine.worker import Worker
from tests.core.fakes import FakeClock


class Pass:
    """An engine pass that waits for ``release`` (a create or a post on the wire)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.finished = 0

    async def poll_once(self, now: datetime) -> PassReport:
        self.entered.set()
        await self.release.wait()
        self.finished += 1
        return PassReport()

    async def deliver_once(self, now: datetime) -> int:
        return 0


async def nothing() -> None:
    return None


def worker(engine: Pass) -> Worker:
    return Worker(engine=engine, deliverer=engine, clock=FakeClock(), recover=nothing)


async def test_the_pass_in_flight_finishes_and_no_new_one_starts() -> None:
    engine = Pass()
    w = worker(engine)
    running = asyncio.create_task(w.run())
    await engine.entered.wait()
    stopping = asyncio.create_task(finish_in_flight(w, running, nothing, grace=30))
    engine.release.set()
    assert await stopping is True
    assert engine.finished == 1 and running.done() and not running.cancelled()


async def test_a_pass_that_outlives_the_grace_is_cut_short(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = Pass()  # never released: a call that hangs
    w = worker(engine)
    running = asyncio.create_task(w.run())
    await engine.entered.wait()
    drained = asyncio.Event()

    async def drain() -> None:
        drained.set()

    assert await finish_in_flight(w, running, drain, grace=0.05) is False
    assert running.cancelled() and engine.finished == 0
    assert drained.is_set(), "background work still gets what is left of the grace (none)"
    assert "did not finish within 0.05 s" in caplog.text


async def test_background_work_that_outlives_the_grace_is_cancelled() -> None:
    engine = Pass()
    engine.release.set()
    w = worker(engine)
    running = asyncio.create_task(w.run())
    await engine.entered.wait()
    forever = asyncio.Event()

    async def drain() -> None:
        await forever.wait()

    assert await finish_in_flight(w, running, drain, grace=0.05) is False
    assert running.done() and not running.cancelled()
