"""``Worker.tick``: the health heartbeat is touched only after a tick whose passes both worked."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from core.engine.config import PassReport
from core.engine.worker import Worker
from tests.core.fakes import FakeClock
from tests.e2e.harness import World


class Beats:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def rename_jobs_table(db: Path, old: str, new: str) -> None:
    """Another connection changes the schema under the running bot: its queries now fail."""
    with sqlite3.connect(db) as conn:
        conn.execute(f"ALTER TABLE {old} RENAME TO {new}")
    conn.close()


async def test_no_heartbeat_while_the_engine_fails_on_a_broken_database(world: World) -> None:
    beats = Beats()
    await world.start_bot(heartbeat=beats)
    assert beats.count == 1, "the first pass worked"
    await world.animate()  # a due job, so the passes have work to read

    rename_jobs_table(world.db, "jobs", "jobs_away")
    for _ in range(3):
        world.clock.advance(15)
        await world.tick()
    assert beats.count == 1, "a loop that fails every pass must look stalled to the health check"

    rename_jobs_table(world.db, "jobs_away", "jobs")
    world.clock.advance(15)
    await world.tick()
    assert beats.count == 2


class Passes:
    """The two passes a tick runs, each failing on demand."""

    def __init__(self, *, engine_fails: bool, delivery_fails: bool) -> None:
        self.engine_fails = engine_fails
        self.delivery_fails = delivery_fails

    async def poll_once(self, now: datetime) -> PassReport:
        if self.engine_fails:
            raise RuntimeError("engine pass broke")
        return PassReport()

    async def deliver_once(self, now: datetime) -> int:
        if self.delivery_fails:
            raise RuntimeError("delivery pass broke")
        return 2


async def nothing_to_recover() -> None:
    return None


@pytest.mark.parametrize(
    ("engine_fails", "delivery_fails", "beats_after"),
    [(False, False, 1), (True, False, 0), (False, True, 0), (True, True, 0)],
)
async def test_heartbeat_only_when_both_passes_worked(
    engine_fails: bool, delivery_fails: bool, beats_after: int
) -> None:
    beats = Beats()
    passes = Passes(engine_fails=engine_fails, delivery_fails=delivery_fails)
    worker = Worker(
        engine=passes,
        deliverer=passes,
        clock=FakeClock(),
        recover=nothing_to_recover,
        heartbeat=beats,
    )
    tick = await worker.tick()
    assert beats.count == beats_after
    assert tick.delivered == (0 if delivery_fails else 2), (
        "one failing pass does not stop the other"
    )
