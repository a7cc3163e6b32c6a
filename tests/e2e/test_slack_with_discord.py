"""One process, one engine, two front-ends: Discord and Slack jobs are both delivered."""

from __future__ import annotations

import pytest

from bot.builder import slack_frontend
from core.domain.jobs import JobStatus
from tests.e2e.harness import World, results_in
from tests.e2e.slack_world import SlackWorld, decode, slack_settings, videos_in
from tests.fakeslack import FakeSlack


async def test_discord_and_slack_jobs_in_one_process_are_both_delivered(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    running = await world.start_bot()
    async with FakeSlack(clock=world.clock) as slack:
        person = slack.add_user("sam")
        general = slack.add_channel("general", members=[person])
        async with slack_frontend(
            running.rt, slack_settings(slack), session=world.session, share_waits=(0.0,)
        ):
            assert running.rt.router.port("slack") is not None
            assert running.rt.router.port("discord") is not None
            user = SlackWorld(
                slack, world.emu, world.clock, world.tmp, world.session, person, general
            )
            on_slack = await user.animate("a cat on Slack")
            inter = await world.animate(prompt="a cat on Discord", duration=2)
            status = world.fake.find_message(inter.original_id or 0)
            assert status is not None
            thread = world.thread_of(status)
            assert thread is not None

            def both() -> bool:
                assert thread is not None
                slack_done = videos_in(slack, general, on_slack.ts)
                return bool(results_in(world.fake, thread) and slack_done)

            await world.drive(both)
            (video,) = videos_in(slack, general, on_slack.ts)
            assert decode(video.files[0].data) > 0
        assert running.rt.router.port("slack") is None, "unregistered when the front-end stops"
    jobs = await running.rt.store.jobs_with_status([JobStatus.DELIVERED])
    assert sorted(j.chat.platform for j in jobs) == ["discord", "slack"]
    assert len(world.emu.tasks) == 2, "one engine, one task per job"
