"""Kill the engine (SIGKILL) at many points of a multi-job run, restart it, and check nothing
was lost: every job delivered exactly once, one DashScope task per job, every video playable.
On SQLite (the restarted engine alone on its file) and on PostgreSQL (where it is one worker of
possibly many: it takes the dead one's jobs over only once their leases expire).

The runner and the emulator share a simulated clock through a file that only the runner
advances (a fixed step per tick), so every crash point comes up at the same place of the run
whatever the machine's load: the kills happen on every machine, not only on fast ones."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import av
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.builder import build
from core.domain.jobs import ChatRef, JobSpec, JobStatus
from core.ports import JobStore
from emulator import Emulator, EmulatorConfig
from slackapp import kit
from storage.postgres import PostgresJobStore
from storage.sqlite import SqliteJobStore
from tests.core.fakes import decoded_codec, png
from tests.e2e.crash_runner import KEY, FileClock, settings
from tests.fakeslack import FakeSlack

SIM_START = 1_772_352_000.0
ROOT = Path(__file__).resolve().parents[2]
#: where the runner kills itself on each successive launch
CRASHES = [
    "create:1:after",  # DashScope made the task; the id never reached the database
    "download:1:after",  # the MP4 is on disk, the row still says SUCCEEDED
    "post:1:after",  # posted in the chat, not yet recorded as delivered
    "create:1:before",
    # a second lost create while the first ones run (the engine reaches the last creates
    # within a few launches: later in the list there may be none left)
    "create:1:after",
    "get:2:after",
    "list:2:after",
    "pass:4:before",
    "progress:2:after",
    "pass:30:before",
    "post:1:before",
    "download:1:before",
    "post:1:after",
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
    assert kills == crashes, " ".join(kills)  # every crash point came up and killed the engine
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


#: kill points inside Slack deliveries, each on the n-th such request of that launch
SLACK_CRASHES = [
    "slack:files.completeUploadExternal:1:after",  # shared (maybe not shown yet), not recorded
    "slack:conversations.replies:1:after",  # killed again while looking for it
    "slack:upload:1:after",  # bytes sent, upload never completed: must be sent again
    "slack:files.getUploadURLExternal:1:after",  # file id reserved, not yet marked
    "slack:chat.update:1:after",  # a status edit or the upload marker
    "slack:files.completeUploadExternal:1:after",
    "slack:files.info:1:after",
]


async def test_sigkill_inside_slack_deliveries_posts_each_video_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real Slack port, in the engine process, against the fake Slack in this one."""
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    clock = FileClock(tmp_path / "clock")
    clock.set(SIM_START)
    emu = Emulator(
        EmulatorConfig(api_key=KEY, clock=clock, seed=3, render_max_side=64, queue_delay=1.0)
    )
    async with FakeSlack(clock=clock) as slack:
        # file messages appear 2 simulated seconds after their upload is completed, so some
        # kills fall between the completion and the message (the case that duplicates)
        slack.share_delay = 2.0
        alice = slack.add_user("alice")
        general = slack.add_channel("general", members=[alice])
        await emu.start()
        env = {
            "DB_PATH": str(tmp_path / "animate.db"),
            "MEDIA_DIR": str(tmp_path / "media"),
            "POSTS": str(tmp_path / "posts.jsonl"),
            "BASE_URL": emu.base_url,
            "CLOCK_PATH": str(clock.path),
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
        }
        try:
            ids = await submit_slack_jobs(env, clock, slack, alice.id, general.id)
            kills: list[str] = []
            final = -1
            for crash in SLACK_CRASHES:
                code = await launch(env, crash)
                if code == 0:
                    final = 0
                    break
                assert code == -9
                kills.append(crash)
            for _ in range(3):
                if final == 0:
                    break
                final = await launch(env, "")
        finally:
            await emu.close()
        # a file message still due (the run ended before Slack showed it) appears now
        clock.advance(slack.share_delay)
        await slack.tick()

        assert final == 0
        assert kills == SLACK_CRASHES, kills
        async with SqliteJobStore.open(env["DB_PATH"]) as store:
            jobs = await store.jobs_with_status(list(JobStatus))
        assert {j.status for j in jobs} == {JobStatus.DELIVERED}
        for job in jobs:
            assert job.chat.thread is not None
            thread = slack.thread(general, job.chat.thread)
            shared = [m for m in thread if m.files]
            assert [f.name for m in shared for f in m.files] == [f"animate-{job.id}.mp4"], (
                job.id,
                [(m.ts, [f.name for f in m.files]) for m in thread],
            )
            with av.open(io.BytesIO(shared[0].files[0].data), "r") as container:
                assert container.streams.video[0].codec_context.name == "h264"
                assert any(True for _ in container.decode(video=0)), "real frames"
            assert "✅" in thread[0].text, "its status message shows the outcome"
        assert sorted(j.id for j in jobs) == ids


async def submit_slack_jobs(
    env: dict[str, str], clock: FileClock, slack: FakeSlack, user: str, channel: str
) -> list[int]:
    """Jobs as the Slack front-end records them: the job, its status message, attach_chat."""
    ids: list[int] = []
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    async with build(settings(env), clock=clock, media_workers=1) as rt:
        for i in range(3):
            spec = JobSpec(
                model="wan2.6-i2v-flash", prompt=f"slack {i}", resolution="720P", duration=2
            )
            chat = ChatRef("slack", user, channel, guild=slack.team_id)
            view = await rt.service.submit(spec=spec, image=png(320, 240), chat=chat)
            text, blocks = kit.status_message(view, "en-US")
            posted = await client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, metadata=kit.metadata(view.id, "status")
            )
            await rt.service.attach_chat(view.id, thread=posted["ts"], status_message=posted["ts"])
            ids.append(view.id)
    return sorted(ids)
