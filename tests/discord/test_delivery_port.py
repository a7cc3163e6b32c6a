"""``DiscordDelivery`` against the fake: error mapping, exactly-once marker lookup, mentions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cogs.delivery import DiscordDelivery
from core.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.ports import DeliveryError
from tests.e2e.harness import World
from tests.fakediscord import BOT_DEFAULT, READ_MESSAGE_HISTORY, SEND_MESSAGES, pings

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


async def port(world: World) -> DiscordDelivery:
    await world.start_bot()
    return DiscordDelivery(world.bot, world.service)


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
