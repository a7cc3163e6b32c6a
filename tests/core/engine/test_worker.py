"""The worker: its loop runs without any chat library, and its heartbeat means a tick worked."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.engine.config import PassReport
from core.engine.worker import Tick, Worker
from tests.core.fakes import FakeClock, decoded_codec

ROOT = Path(__file__).resolve().parents[3]


async def test_the_worker_runs_a_job_to_its_port_with_discord_never_imported(
    tmp_path: Path,
) -> None:
    """The engine is its own runtime: a process with the worker, the emulator and a port of
    another platform delivers a job, and ``discord`` is not in ``sys.modules`` at the end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.core.engine.worker_alone",
        str(tmp_path),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["discord_imported"] is False
    assert seen["status"] == "delivered" and seen["posted"] == seen["job"]
    assert seen["tasks"] == 1
    assert "running" in seen["progress"] or "pending" in seen["progress"]
    assert decoded_codec(seen["video"]) == "h264"


class Beats:
    def __init__(self) -> None:
        self.count = 0
        self.second = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        if self.count == 2:
            self.second.set()


class Passes:
    """The two passes a tick runs, each failing on demand."""

    def __init__(self, *, engine_fails: bool, delivery_fails: bool) -> None:
        self.engine_fails = engine_fails
        self.delivery_fails = delivery_fails
        self.ticks = 0

    async def poll_once(self, now: datetime) -> PassReport:
        self.ticks += 1
        if self.engine_fails:
            raise RuntimeError("engine pass broke")
        return PassReport()

    async def deliver_once(self, now: datetime) -> int:
        if self.delivery_fails:
            raise RuntimeError("delivery pass broke")
        return 2


async def nothing_to_recover() -> None:
    return None


def worker_of(passes: Passes, beats: Beats, interval: float = 5.0) -> Worker:
    return Worker(
        engine=passes,
        deliverer=passes,
        clock=FakeClock(),
        recover=nothing_to_recover,
        heartbeat=beats,
        interval=interval,
    )


@pytest.mark.parametrize(
    ("engine_fails", "delivery_fails", "beats_after"),
    [(False, False, 1), (True, False, 0), (False, True, 0), (True, True, 0)],
)
async def test_heartbeat_only_when_both_passes_worked(
    engine_fails: bool, delivery_fails: bool, beats_after: int
) -> None:
    beats = Beats()
    worker = worker_of(Passes(engine_fails=engine_fails, delivery_fails=delivery_fails), beats)
    tick = await worker.tick()
    assert beats.count == beats_after
    assert tick.ok is (beats_after == 1)
    # one failing pass does not stop the other
    assert tick.delivered == (0 if delivery_fails else 2)


async def test_run_recovers_ticks_until_stopped_and_wakes_on_demand() -> None:
    passes = Passes(engine_fails=False, delivery_fails=False)
    beats = Beats()
    # an hour between ticks: only wake() can bring the second one
    worker = worker_of(passes, beats, interval=3600.0)
    loop = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.started.wait(), 5)
    assert passes.ticks == 1
    worker.wake()
    await asyncio.wait_for(beats.second.wait(), 5)  # the second tick, long before the hour
    assert passes.ticks == 2
    worker.stop()
    await asyncio.wait_for(loop, 5)
    assert loop.done() and passes.ticks == 2


@pytest.mark.parametrize(
    ("ahead", "expected"),
    [(None, 5.0), (1.3, 1.3), (0.01, 0.2), (-4.0, 0.2), (60.0, 5.0)],
    ids=["nothing-scheduled", "a-look-soon", "floor", "overdue", "capped"],
)
def test_the_worker_sleeps_until_the_next_look_not_a_fixed_tick(
    ahead: float | None, expected: float
) -> None:
    """Issue 12: looks are placed to the second; a fixed 5 s loop would miss them."""
    worker = worker_of(Passes(engine_fails=False, delivery_fails=False), Beats(), interval=5.0)
    now = worker.clock.now()
    wakeup = None if ahead is None else now + timedelta(seconds=ahead)
    tick = Tick(PassReport(next_wakeup=wakeup), delivered=0, ok=True)
    assert worker._delay(tick) == pytest.approx(expected)
