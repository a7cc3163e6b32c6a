"""Scale-out on a real PostgreSQL: two worker processes and a front-end process share one queue
and one DashScope account; one worker (the one holding the leader role) is SIGKILLed mid-run,
right after a create reached DashScope and before its answer was recorded.

Done when (issue 13): every job delivered exactly once, one DashScope task each, no 429 from
the emulator (which enforces the account's limits), and the survivor finishes the killed
worker's jobs. The processes run in lockstep on one simulated clock the test advances (see
``tests.e2e.scale_runner``): every step, both workers tick at the same simulated time, at once.

The account's limits bind: 22 tasks run at once and, without task-list sweeps, each is polled
on its own near its end, more than DashScope's 20 queries per second allow; with each worker
keeping its own budget the emulator answers 429 (checked once, when this test was written).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from core.domain.catalog import find_model
from core.domain.durations import DurationKey, DurationStats
from core.domain.jobs import JobStatus
from emulator import Emulator, EmulatorConfig
from storage.postgres import PostgresJobStore
from tests.core.fakes import decoded_codec
from tests.e2e.crash_runner import KEY, FileClock
from tests.e2e.scale_runner import MODELS

ROOT = Path(__file__).resolve().parents[2]
SIM_START = 1_772_352_000.0
JOBS = 50
#: B dies mid-run, right after a create returned: the task exists, its id is nowhere …
CRASH = "create:1:after"
#: … once it has posted this many results (so that it worked before it died)
ARM_AFTER_POSTS = 2
STEP = 1.0
MAX_STEPS = 400


class Process:
    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name, self.proc = name, proc
        self.alive = True

    async def line(self) -> str:
        assert self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), 60)).decode().strip()

    async def ask(self, command: str) -> str:
        """Send one command; its answer ("" once the process is gone)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        try:
            await self.proc.stdin.drain()
        except ConnectionResetError:
            self.alive = False
            return ""
        answer = await self.line()
        if not answer:  # end of output: killed
            self.alive = False
        return answer

    async def woken(self) -> int:
        """How many notifications woke it, once one has (they arrive on their own connection)."""
        return int((await self.ask("woken")).split()[1])


async def spawn(role: str, env: dict[str, str], **extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.scale_runner",
        role,
        env={**os.environ, **env, **extra},
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_two_workers_and_a_front_end_one_killed_every_job_delivered_once(
    tmp_path: Path, pg_url: str
) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(SIM_START)
    emu = Emulator(
        EmulatorConfig(
            api_key=KEY,
            clock=clock,
            seed=5,
            render_max_side=32,
            queue_delay=1.0,
            duration_sigma=0.0,
            durations=dict.fromkeys(MODELS, 8.0),
        )
    )
    await emu.start()
    env = {
        "DATABASE_URL": pg_url,
        "DB_PATH": str(tmp_path / "state" / "animate.db"),
        "MEDIA_DIR": str(tmp_path / "media"),  # shared, as the compose file shares its volume
        "POSTS": str(tmp_path / "posts.jsonl"),
        "EVENTS": str(tmp_path / "events.jsonl"),
        "BASE_URL": emu.base_url,
        "CLOCK_PATH": str(clock.path),
        "LEASE_SECONDS": "5",
        "JOBS": str(JOBS),
        "SWEEP": "off",
    }
    # the account has run these before: what the workers learned lives in the database, and
    # every process reads it (tasks of 9 s are looked at around 9 s, not at the catalog's 90)
    async with PostgresJobStore.open(pg_url) as store:
        for name in MODELS:
            model = find_model(name)
            assert model is not None
            key = DurationKey(name, model.default_resolution, model.default_duration)
            await store.save_duration_stats(
                key, DurationStats(20, math.log(9.0), 0.01), clock.now()
            )
    workers: list[Process] = []
    try:
        for name, crash in (("A", ""), ("B", CRASH)):
            extra = {"NAME": name, "CRASH": crash, "ARM_AFTER_POSTS": str(ARM_AFTER_POSTS)}
            workers.append(Process(name, await spawn("worker", env, **extra)))
        for w in workers:
            assert await w.line() == "listening"
        front = await spawn("front", env)
        assert await asyncio.wait_for(front.wait(), 60) == 0
        # both workers were woken by the front-end's inserts (LISTEN/NOTIFY), not by a timer:
        # no tick has run yet
        wakes = await asyncio.wait_for(asyncio.gather(*(w.woken() for w in workers)), 30)
        assert min(wakes) > 0
        b = workers[1]
        assert await b.ask("tick") == "done"  # B ticks first: B holds the leader role
        async with PostgresJobStore.open(pg_url) as store:
            for _ in range(MAX_STEPS):
                await asyncio.gather(*(w.ask("tick") for w in workers if w.alive))
                jobs = await store.jobs_with_status(list(JobStatus))
                if len(jobs) == JOBS and all(j.status.final for j in jobs):
                    break
                clock.advance(STEP)
            jobs = await store.jobs_with_status(list(JobStatus))
        for w in workers:
            if w.alive:
                assert w.proc.stdin is not None
                w.proc.stdin.close()
        codes = [await asyncio.wait_for(w.proc.wait(), 60) for w in workers]
    finally:
        for w in workers:
            if w.proc.returncode is None:
                w.proc.kill()
        await emu.close()

    assert codes == [0, -9]  # A finished the run, B was killed at its crash point
    # every job delivered, its outcome posted exactly once, its video playable
    assert len(jobs) == JOBS and {j.status for j in jobs} == {JobStatus.DELIVERED}
    outcomes = [p for p in lines(Path(env["POSTS"])) if p["kind"] in ("result", "failure")]
    assert sorted(p["job"] for p in outcomes) == sorted(j.id for j in jobs)
    assert all(p["kind"] == "result" and decoded_codec(p["video"]) == "h264" for p in outcomes)
    # one DashScope task per job, all created without one 429
    events = lines(Path(env["EVENTS"]))
    assert [e for e in events if e["event"] == "429"] == []
    created = [e["task"] for e in events if e["event"] == "created"]
    assert len(created) == len(set(created)) == len(emu.tasks) == JOBS
    assert {j.task_id for j in jobs} == set(emu.tasks)
    # the survivor finished what the killed worker left: the task B made and never recorded
    # was reconciled and posted by A, like every other task of B's that was not done yet
    by_b = [e["task"] for e in events if e["event"] == "created" and e["worker"] == "B"]
    posted_by = {p["task"]: p["worker"] for p in outcomes}
    assert len(by_b) > 1 and posted_by[by_b[-1]] == "A"
    # B posted before it died; A finished the rest
    assert {"A", "B"} <= set(posted_by.values())
