"""Where the status and the result go: threads, in place, DMs, missing permissions."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import pytest

from core.domain.jobs import JobStatus
from playground.fakediscord import (
    ATTACH_FILES,
    BOT_DEFAULT,
    CREATE_PUBLIC_THREADS,
    MIB,
    ChannelType,
    FakeInteraction,
    FakeMessage,
)
from tests.e2e.harness import World, results_in


def status_of(world: World, inter: FakeInteraction) -> FakeMessage:
    msg = world.fake.find_message(inter.original_id or 0)
    assert msg is not None and msg.embeds
    return msg


async def test_invoked_inside_a_thread_posts_in_that_thread(world: World) -> None:
    thread = world.fake.add_channel(
        world.guild, ChannelType.PUBLIC_THREAD, "chat", parent=world.text
    )
    await world.start_bot()
    inter = await world.animate(channel=thread)
    status = status_of(world, inter)
    assert world.thread_of(status) is None and not world.fake.requests("POST", "/threads")
    result = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    assert result.attachments


async def test_forum_post_posts_in_place(world: World) -> None:
    forum = world.fake.add_channel(world.guild, ChannelType.GUILD_FORUM, "gallery")
    post = world.fake.add_channel(world.guild, ChannelType.PUBLIC_THREAD, "my post", parent=forum)
    await world.start_bot()
    await world.animate(channel=post)
    assert (await world.drive(lambda: results_in(world.fake, post)))[0].attachments


async def test_dm_invocation(world: World) -> None:
    dm = world.fake.dm_with(world.alice)
    await world.start_bot()
    inter = await world.animate(channel=dm)
    status_of(world, inter)
    assert not world.fake.requests("POST", "/threads")
    result = (await world.drive(lambda: results_in(world.fake, dm)))[0]
    assert result.attachments


async def test_no_thread_permission_posts_in_place(world: World) -> None:
    room = world.fake.add_channel(
        world.guild, name="no-threads", bot_permissions=BOT_DEFAULT & ~CREATE_PUBLIC_THREADS
    )
    await world.start_bot()
    await world.animate(channel=room)
    assert not world.fake.requests("POST", "/threads")
    result = (await world.drive(lambda: results_in(world.fake, room)))[0]
    assert result.attachments


async def test_no_attach_permission_posts_the_link_with_its_expiry(world: World) -> None:
    room = world.fake.add_channel(
        world.guild, name="no-files", bot_permissions=BOT_DEFAULT & ~ATTACH_FILES
    )
    await world.start_bot()
    inter = await world.animate(channel=room)
    assert not status_of(world, inter).attachments, "no thumbnail without Attach Files"
    result = (await world.drive(lambda: results_in(world.fake, room)))[0]
    assert not result.attachments
    note = result.embeds[0]["description"]
    assert "download the video" in note and "expires <t:" in note
    assert not any(r.files for r in world.fake.requests("POST", f"/channels/{room.id}/messages"))


async def test_no_send_permission_is_refused_before_spending(world: World) -> None:
    room = world.fake.add_channel(world.guild, name="read-only", bot_permissions=1 << 10)
    await world.start_bot()
    inter = await world.animate(channel=room)
    text = world.fake.find_message(inter.followups[-1])
    assert text is not None and "can't post" in text.content
    assert not any(r.method == "POST" for r in world.emu.request_log)


@pytest.mark.parametrize("emulator_overrides", [{"pad_video_to_bytes": 11 * MIB}])
async def test_too_large_result_is_re_encoded_to_fit(world: World) -> None:
    await world.start_bot()
    inter = await world.animate()
    thread = world.thread_of(status_of(world, inter))
    assert thread is not None
    result = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    assert len(result.attachments) == 1
    size = len(result.attachments[0].data)
    assert size <= 10 * MIB, "re-encoded under the guild's 10 MiB limit"
    job = (await world.service.recent(platform="discord", user=str(world.alice.id)))[0]
    assert job.video_path is not None
    original = await asyncio.to_thread(lambda: Path(str(job.video_path)).stat().st_size)
    assert original > 10 * MIB, "the original did not fit"
    assert not any(r.status == 413 for r in world.fake.log), "413 never reached"
    with av.open(io.BytesIO(result.attachments[0].data)) as container:
        assert container.streams.video, "still a playable video"


@pytest.mark.parametrize("emulator_overrides", [{"pad_video_to_bytes": 11 * MIB}])
async def test_too_large_result_that_cannot_be_re_encoded_is_posted_as_the_link(
    world: World,
) -> None:
    """Issue 8.3: a VideoError from fitting used to be retried 10 times and end as
    delivery_failed with no message at all, though the 24 h link still worked."""
    await world.start_bot()
    inter = await world.animate()
    thread = world.thread_of(status_of(world, inter))
    assert thread is not None
    user = str(world.alice.id)
    for _ in range(40):  # engine passes only: the video lands on disk, nothing is posted yet
        world.clock.advance(15)
        await world.poll()
        job = (await world.service.recent(platform="discord", user=user))[0]
        if job.status is JobStatus.DOWNLOADED:
            break
    assert job.status is JobStatus.DOWNLOADED and job.video_path is not None
    # the file is unreadable now (a bad download, a failing disk): no re-encode can succeed
    video = Path(job.video_path)
    await asyncio.to_thread(video.write_bytes, b"\0" * (11 * MIB))
    result = (await world.drive(lambda: results_in(world.fake, thread), step=120, passes=60))[0]
    assert not result.attachments
    note = result.embeds[0]["description"]
    assert "download the video" in note and "expires <t:" in note
    done = (await world.service.recent(platform="discord", user=user))[0]
    assert done.status is JobStatus.DELIVERED


async def test_voice_channel_chat_posts_in_place(world: World) -> None:
    voice = world.fake.add_channel(world.guild, ChannelType.GUILD_VOICE, "lounge")
    await world.start_bot()
    await world.animate(channel=voice)
    assert not world.fake.requests("POST", "/threads")
    assert (await world.drive(lambda: results_in(world.fake, voice)))[0].attachments


async def test_thread_name_shows_the_prompt_as_typed(world: World) -> None:
    # thread names render no markdown: escaping would show literal backslashes
    await world.start_bot()
    inter = await world.animate(prompt="my_cat *dances*\non the table")
    thread = world.thread_of(status_of(world, inter))
    assert thread is not None
    assert thread.name.endswith("my_cat *dances* on the table"), thread.name
    assert "\\" not in thread.name and len(thread.name) <= 100
