"""SIGTERM on the real process (``python -m bot run``) while a result is being posted: the post
finishes before the process exits, and a restart posts nothing again — delivered once.

The job is taken to "downloaded, due for delivery" by the in-process bot first (fake clock, the
emulator), so the real process has exactly one thing to do when it starts: post the video. The
fake Discord answers that post with one 429 whose retry-after keeps the post in flight while the
signal arrives; discord.py waits and sends it again.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from core.domain.jobs import JobStatus
from tests.bot.test_process import bot_env, start_bot
from tests.e2e.harness import World, results_in

#: long enough that the signal lands while discord.py waits to send the post again
RETRY_AFTER = 2.0


def status_of(db: Path, job_id: int) -> str:
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
        return str(conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])


async def test_sigterm_lets_the_post_in_flight_finish_and_a_restart_posts_nothing_again(
    world: World, tmp_path: Path
) -> None:
    db = world.db  # the process runs on the in-process bot's database
    env = bot_env(world, tmp_path) | {
        "DATABASE_PATH": str(db),
        "STOP_GRACE_SECONDS": "20",
        "LOG_LEVEL": "INFO",
    }

    await world.start_bot()
    inter = await world.animate()
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None
    thread = world.thread_of(status)
    assert thread is not None
    assert world.running is not None
    rt = world.running.rt
    for _ in range(40):  # engine passes only: generated and downloaded, never posted here
        world.clock.advance(15)
        await world.poll()
        await rt.engine.drain()
        if status_of(db, 1) == JobStatus.DOWNLOADED.value:
            break
    assert status_of(db, 1) == JobStatus.DOWNLOADED.value
    await world.stop_bot()
    assert results_in(world.fake, thread) == []

    fault = world.fake.fail_next("POST", f"/channels/{thread.id}/messages", status=429)
    fault.retry_after = RETRY_AFTER
    proc = await start_bot(env, tmp_path)
    try:
        await world.fake.wait_for(lambda: fault.count == 0, within=30)  # the 429 was served
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    log = err.decode()
    assert proc.returncode == 0, log
    assert len(results_in(world.fake, thread)) == 1, "posted before the process exited"
    assert "SIGTERM: closing" in log and "stop: work in flight finished" in log
    assert status_of(db, 1) == JobStatus.DELIVERED.value

    again = await start_bot(env, tmp_path)
    seen = b""
    try:
        # the worker logs this once its first whole pass (engine and delivery) is done
        assert again.stderr is not None
        while b"worker running" not in seen:
            line = await asyncio.wait_for(again.stderr.readline(), 30)
            assert line, "the process ended before its first pass: " + seen.decode()
            seen += line
    finally:
        again.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(again.communicate(), 30)
    assert again.returncode == 0, err.decode()
    assert len(results_in(world.fake, thread)) == 1, "delivered once"
