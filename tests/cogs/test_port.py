"""``DiscordPort`` against the fake: error mapping, exactly-once marker lookup, mentions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cogs.port import DiscordPort
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.ports import DeliveryError
from playground.fakediscord import (
    ATTACH_FILES,
    BOT_DEFAULT,
    MIB,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    pings,
)
from tests.e2e.harness import World

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def failed_job(world: World, channel_id: int, job_id: int = 99) -> JobView:
    return JobView(
        id=job_id,
        status=JobStatus.FAILED,
        spec=JobSpec(
            model="wan2.6-i2v-flash", prompt="@everyone hi", resolution="720P", duration=5
        ),
        chat=ChatRef(
            platform="discord",
            user=str(world.alice.id),
            channel=str(channel_id),
            guild=str(world.guild.id),
            thread=str(channel_id),
        ),
        created_at=T0,
        updated_at=T0,
        error_code="busy",
        error_message="The service is busy.",
    )


async def port(world: World) -> DiscordPort:
    await world.start_bot()
    return DiscordPort(world.bot)


async def test_failure_post_then_find_posted(world: World) -> None:
    delivery = await port(world)
    job = failed_job(world, world.text.id)
    assert await delivery.find_posted(job) is None
    message_id = await delivery.post_failure(job)
    assert await delivery.find_posted(job) == message_id
    assert await delivery.find_posted(replace(job, id=100)) is None
    posted = world.fake.find_message(int(message_id))
    assert posted is not None and pings(posted) == {f"<@{world.alice.id}>"}


async def test_unknown_channel_is_permanent(world: World) -> None:
    delivery = await port(world)
    with pytest.raises(DeliveryError) as info:
        await delivery.post_failure(failed_job(world, 424242))
    assert info.value.permanent


async def test_missing_send_permission_is_permanent(world: World) -> None:
    mute = world.fake.add_channel(
        world.guild, name="mute", bot_permissions=BOT_DEFAULT & ~SEND_MESSAGES
    )
    delivery = await port(world)
    with pytest.raises(DeliveryError) as info:
        await delivery.post_failure(failed_job(world, mute.id))
    assert info.value.permanent and "403" in info.value.reason


async def test_persistent_429_is_transient(world: World) -> None:
    delivery = await port(world)
    world.fake.fail_next("POST", f"/channels/{world.text.id}/messages", status=429, count=10)
    with pytest.raises(DeliveryError) as info:
        await delivery.post_failure(failed_job(world, world.text.id))
    assert not info.value.permanent


async def test_progress_on_a_deleted_status_message_is_ignored(world: World) -> None:
    delivery = await port(world)
    job = replace(
        failed_job(world, world.text.id),
        status=JobStatus.RUNNING,
        chat=replace(failed_job(world, world.text.id).chat, status_message="123"),
    )
    await delivery.post_progress(job)  # 404 Unknown Message: cosmetic, must not raise
    assert world.fake.requests("GET", f"/channels/{world.text.id}/messages/123")[0].status == 404


async def test_progress_without_read_history_still_edits(world: World) -> None:
    blind = world.fake.add_channel(
        world.guild, name="blind", bot_permissions=BOT_DEFAULT & ~READ_MESSAGE_HISTORY
    )
    delivery = await port(world)
    sent = await world.bot.get_partial_messageable(blind.id).send("status")
    base = failed_job(world, blind.id)
    job = replace(
        base, status=JobStatus.RUNNING, chat=replace(base.chat, status_message=str(sent.id))
    )
    await delivery.post_progress(job)
    edited = world.fake.find_message(sent.id)
    assert edited is not None and edited.embeds[0]["title"] == "🎬 Generating"


def result_job(world: World, channel_id: int, video: Path | None) -> JobView:
    return replace(
        failed_job(world, channel_id),
        status=JobStatus.DOWNLOADED,
        error_code=None,
        error_message=None,
        video_path=str(video) if video else None,
        video_url="https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/v.mp4?Expires=1",
        video_url_expires_at=T0 + timedelta(hours=24),
    )


async def test_upload_limit_is_the_guilds_or_zero_where_files_are_not_allowed(
    world: World,
) -> None:
    """Issue 8.5: the port reports its limit; the engine fits the video before post_result."""
    no_files = world.fake.add_channel(
        world.guild, name="no-files", bot_permissions=BOT_DEFAULT & ~ATTACH_FILES
    )
    delivery = await port(world)
    assert await delivery.upload_limit(result_job(world, world.text.id, None)) == 10 * MIB
    assert await delivery.upload_limit(result_job(world, no_files.id, None)) == 0


async def test_a_result_without_a_file_posts_the_link_with_its_expiry(world: World) -> None:
    delivery = await port(world)
    message_id = await delivery.post_result(result_job(world, world.text.id, None))
    posted = world.fake.find_message(int(message_id))
    assert posted is not None and not posted.attachments
    note = posted.embeds[0]["description"]
    assert "download the video" in note and "expires <t:" in note


async def test_a_file_discord_refuses_as_too_large_goes_out_as_the_link(
    world: World, tmp_path: Path
) -> None:
    # the cached limit was stale: Discord answers 413; the link still reaches the user
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (11 * MIB))
    delivery = await port(world)
    message_id = await delivery.post_result(result_job(world, world.text.id, big))
    posted = world.fake.find_message(int(message_id))
    assert posted is not None and not posted.attachments
    assert "download the video" in posted.embeds[0]["description"]
    assert any(r.status == 413 for r in world.fake.log)
