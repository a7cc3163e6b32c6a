"""SIGKILL between submit and result, with the real Bolt app in the killed process.

The engine process (``tests.e2e.crash_runner`` with ``SERVE=1``) runs the Slack front-end and
the worker on the simulated clock the fake Slack and the emulator read; this test plays the
users. The first process kills itself right after Slack accepted the video's upload (the file
message may not even exist yet), the second one finds it instead of sending it again, and the
buttons posted by the first process work in the second."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from emulator import Emulator, EmulatorConfig
from tests.e2e.crash_runner import KEY, FileClock
from tests.e2e.harness import png
from tests.e2e.slack_world import decode, job_of, status_messages, videos_in
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parents[2]
START = 1_772_352_000.0


async def serve(env: dict[str, str], crash: str = "") -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.crash_runner",
        env={**os.environ, **env, "CRASH": crash, "SERVE": "1"},
        cwd=ROOT,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_sigkill_between_submit_and_result_delivers_once_and_buttons_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    clock = FileClock(tmp_path / "clock")
    clock.set(START)
    gate = tmp_path / "gate"
    config = EmulatorConfig(api_key=KEY, clock=clock, seed=3, render_max_side=64, queue_delay=1.0)
    async with FakeSlack(clock=clock) as slack, Emulator(config) as emu:
        alice, mallory = slack.add_user("alice"), slack.add_user("mallory")
        general = slack.add_channel("general", members=[alice, mallory])
        env = {
            "DB_PATH": str(tmp_path / "animate.db"),
            "MEDIA_DIR": str(tmp_path / "media"),
            "POSTS": str(tmp_path / "posts.jsonl"),
            "BASE_URL": emu.base_url,
            "CLOCK_PATH": str(clock.path),
            "GATE": str(gate),
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
        }
        first = await serve(env, "slack:files.completeUploadExternal:1:after")
        try:
            await slack.wait_for(lambda: slack.socket.live, within=60)
            await slack.wait_acked(await slack.command(alice, general, "the cat waves"))
            await slack.wait_for(lambda: slack.open_view(alice))
            picture = slack.upload_file(alice, png(320, 240), "cat.png")
            values = {"image": [picture], "duration.wan2.6-i2v-flash": "2"}
            await slack.wait_acked(await slack.submit_view(alice, values))
            (status,) = await slack.wait_for(lambda: status_messages(slack, general))
            # a stranger's Cancel is refused, and changes nothing
            await slack.wait_acked(await slack.click(mallory, status, "animate:cancel"))
            (refused,) = await slack.wait_for(lambda: slack.ephemerals_for(mallory))
            assert "Only the person who started this job" in refused.text

            gate.touch()  # time may move now: the job runs, its upload kills the process
            assert await asyncio.wait_for(first.wait(), 120) == -signal.SIGKILL
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        assert len(slack.requests("files.completeUploadExternal")) == 1

        second = await serve(env)
        try:
            await slack.wait_for(lambda: slack.socket.live, within=60)
            await slack.wait_for(lambda: "✅" in status.text, within=60)
            (video,) = videos_in(slack, general, status.ts)
            assert decode(video.files[0].data) > 0
            assert len(slack.requests("files.completeUploadExternal")) == 1, "not sent again"

            # buttons posted by the killed process work in this one
            await slack.wait_acked(await slack.click(alice, status, "animate:show"))
            (copy,) = await slack.wait_for(lambda: slack.ephemerals_for(alice))
            assert f"job #{job_of(status)}" in str(copy.blocks)
            await slack.wait_acked(await slack.click(alice, status, "animate:regen"))
            again = await slack.wait_for(
                lambda: s[1] if len(s := status_messages(slack, general)) == 2 else None
            )
            assert job_of(again) != job_of(status)
            await slack.wait_for(lambda: videos_in(slack, general, again.ts), within=60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 60) == 0
        assert len(videos_in(slack, general, status.ts)) == 1, "still exactly one"
