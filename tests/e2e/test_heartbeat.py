"""The health heartbeat of a running bot stops while its passes fail on a broken database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
