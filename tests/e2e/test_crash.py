"""Kill the engine (SIGKILL) at many points of a multi-job run, restart it, and check nothing
was lost: every job delivered exactly once, one DashScope task per job, every video playable.
On SQLite (the restarted engine alone on its file) and on PostgreSQL (where it is one worker of
possibly many: it takes the dead one's jobs over only once their leases expire).

The runner and the emulator share a simulated clock through a file that only the runner
advances (a fixed step per tick), so every crash point comes up at the same place of the run
whatever the machine's load: the kills happen on every machine, not only on fast ones."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from bot.builder import build
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.ports import JobStore
from emulator import Emulator, EmulatorConfig
from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore
from tests.core.fakes import decoded_codec, png
from tests.e2e.crash_runner import KEY, FileClock, settings

SIM_START = 1_772_352_000.0
ROOT = Path(__file__).resolve().parents[2]
#: where the runner kills itself on each successive launch
CRASHES = [
    "create:1:after",  # DashScope made the task; the id never reached the database
    "download:1:after",  # the MP4 is on disk, the row still says SUCCEEDED
    "post:1:after",  # posted in the chat, not yet recorded as delivered
    "create:1:before",
    "get:2:after",
    "list:2:after",
    "pass:4:before",
    "progress:2:after",
    "post:1:before",
    "download:1:before",
    "create:1:after",
    "post:1:after",
    "pass:30:before",
]
#: the same points on PostgreSQL, where a restarted engine first waits for the dead one's leases
#: (5 s here) and takes a create cut short as possibly still on the wire (another worker could
#: be alive): the run moves differently, and this order makes every point come up (the second
#: create crash right after the first: two dead creates compete in one reconciliation)
CRASHES_PG = [
    "create:1:after",
    "download:1:after",
    "post:1:after",
    "create:1:before",
    "create:1:after",
    "get:2:after",
    "list:2:after",
    "pass:4:before",
    "progress:2:after",
    "post:1:before",
    "download:1:before",
    "post:1:after",
    "pass:30:before",
]


async def launch(env: dict[str, str], crash: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.crash_runner",
        env={**os.environ, **env, "CRASH": crash},
        cwd=ROOT,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), timeout=120)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    """ "" for SQLite (the file in the run's directory), else a PostgreSQL URL."""
    return "" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


def open_store(env: dict[str, str]) -> AbstractAsyncContextManager[JobStore]:
    if env["DATABASE_URL"]:
        return PostgresJobStore.open(env["DATABASE_URL"])
    return SqliteJobStore.open(env["DB_PATH"])


async def test_sigkill_at_many_points_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, database: str
) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(SIM_START)
    emu = Emulator(
        EmulatorConfig(api_key=KEY, clock=clock, seed=3, render_max_side=64, queue_delay=1.0)
    )
    await emu.start()
    env = {
        "DB_PATH": str(tmp_path / "animate.db"),
        "MEDIA_DIR": str(tmp_path / "media"),
        "POSTS": str(tmp_path / "posts.jsonl"),
        "BASE_URL": emu.base_url,
        "CLOCK_PATH": str(clock.path),
        "DATABASE_URL": database,
        "LEASE_SECONDS": "5",
    }
    crashes = CRASHES_PG if database else CRASHES
    try:
        ids = await submit_jobs(env, clock)
        kills: list[str] = []
        final = -1
        for crash in crashes:
            code = await launch(env, crash)
            if code == 0:  # everything finished before this crash point came up
                final = 0
                break
            assert code == -9
            kills.append(crash)
        for _ in range(3):  # then run to the end
            if final == 0:
                break
            final = await launch(env, "")
    finally:
        await emu.close()

    assert final == 0
    assert kills == crashes, kills  # every crash point came up and killed the engine
    posts = read_posts(Path(env["POSTS"]))
    outcomes = [p for p in posts if p["kind"] in ("result", "failure")]
    # every job's outcome posted exactly once
    assert sorted(p["job"] for p in outcomes) == ids
    # a create killed before it left was proven never made and sent again: every job got its
    # video, none the "could not confirm" notice
    assert [p["job"] for p in outcomes if p["kind"] == "failure"] == []
    # one DashScope task per job at most, never two; every task belongs to exactly one job
    creates = [r for r in emu.request_log if r.method == "POST" and r.path.endswith("synthesis")]
    assert len(emu.tasks) <= len(ids)
    async with open_store(env) as store:
        jobs = await store.jobs_with_status(list(JobStatus))
    assert {j.status for j in jobs} == {JobStatus.DELIVERED}
    task_ids = [j.task_id for j in jobs if j.task_id]
    assert len(task_ids) == len(set(task_ids)) and set(task_ids) == set(emu.tasks)
    assert len(creates) >= len(emu.tasks)  # refused creates (if any) made no task
    # no video lost: every task that succeeded reached its user as a playable MP4
    succeeded = {t for t, v in emu.tasks.items() if v.status == "SUCCEEDED"}
    delivered = {p["task"]: p for p in outcomes if p["kind"] == "result"}
    assert succeeded == set(delivered)
    for post in delivered.values():
        assert decoded_codec(post["video"]) == "h264"


async def submit_jobs(env: dict[str, str], clock: FileClock) -> list[int]:
    ids: list[int] = []
    async with build(settings(env), clock=clock, media_workers=1) as rt:
        for i in range(12):
            model = "wan2.6-i2v-flash" if i % 2 else "wan2.2-i2v-flash"
            spec = JobSpec(model=model, prompt=f"job {i}", resolution="720P", duration=5)
            chat = ChatRef("discord", f"user{i % 3}", "chan", guild=f"g{i % 2}")
            view = await rt.service.submit(spec=spec, image=png(320, 240), chat=chat)
            ids.append(view.id)
    return sorted(ids)


def read_posts(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
