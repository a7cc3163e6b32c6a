"""``DeliveryCog.run_once``: the health heartbeat is touched only after a pass that worked."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from discord.ext import commands

from bot.bot import intents
from cogs.delivery import DeliveryCog
from core.ports import DeliveryPort
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
    loop = (await world.start_bot(heartbeat=beats)).delivery
    assert beats.count == 1, "the first pass worked"
    await world.animate()  # a due job, so the passes have work to read

    rename_jobs_table(world.db, "jobs", "jobs_away")
    for _ in range(3):
        world.clock.advance(15)
        await loop.run_once()
    assert beats.count == 1, "a loop that fails every pass must look stalled to the health check"

    rename_jobs_table(world.db, "jobs_away", "jobs")
    world.clock.advance(15)
    await loop.run_once()
    assert beats.count == 2


class Passes:
    """The two calls ``run_once`` makes, each failing on demand (the rest of Service unused)."""

    def __init__(self, *, engine_fails: bool, delivery_fails: bool) -> None:
        self.engine_fails = engine_fails
        self.delivery_fails = delivery_fails

    async def poll_once(self, now: datetime | None = None) -> object:
        if self.engine_fails:
            raise RuntimeError("engine pass broke")
        return None

    async def deliver_once(self, port: DeliveryPort, now: datetime | None = None) -> int:
        if self.delivery_fails:
            raise RuntimeError("delivery pass broke")
        return 2


@pytest.mark.parametrize(
    ("engine_fails", "delivery_fails", "beats_after"),
    [(False, False, 1), (True, False, 0), (False, True, 0), (True, True, 0)],
)
async def test_heartbeat_only_when_both_passes_worked(
    engine_fails: bool, delivery_fails: bool, beats_after: int
) -> None:
    beats = Beats()
    bot = commands.Bot(command_prefix="!", intents=intents())
    service = Passes(engine_fails=engine_fails, delivery_fails=delivery_fails)
    cog = DeliveryCog(bot, service, heartbeat=beats)  # type: ignore[arg-type]  # two methods used
    actions = await cog.run_once()
    assert beats.count == beats_after
    assert actions == (0 if delivery_fails else 2), "one failing pass does not stop the other"
    await bot.close()
