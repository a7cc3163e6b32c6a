"""A click acts on a job only when it comes from that job's own public message in its guild.

The ``custom_id`` names a job by number, and numbers are not forever: after the database is
reset or restored from a backup, ids start again, and buttons on old messages name whatever new
job got that number, possibly in another server. discord.py already drops a click whose
``custom_id`` is not on the clicked message; the bot checks the rest.
"""

from __future__ import annotations

from playground.fakediscord import (
    MANAGE_MESSAGES,
    MEMBER_DEFAULT,
    ChannelType,
    FakeInteraction,
    FakeMessage,
)
from tests.e2e.harness import World, button, results_in

NOT_ITS_MESSAGE = "not on job #"


def status_of(world: World, inter: FakeInteraction) -> FakeMessage:
    msg = world.fake.find_message(inter.original_id or 0)
    assert msg is not None
    return msg


def job_of(msg: FakeMessage) -> int:
    return int(msg.embeds[0]["footer"]["text"].split("#")[1].split()[0])


async def answered(world: World, inter: FakeInteraction) -> str:
    await world.fake.wait_for(lambda: inter.followups)
    msg = world.fake.find_message(inter.followups[-1])
    assert msg is not None and msg.flags & 64, "refusals are private"
    return msg.content


def creates(world: World) -> int:
    return len([r for r in world.emu.request_log if r.method == "POST"])


async def reset_database(world: World) -> None:
    """What an operator does by deleting (or restoring an old copy of) the SQLite file."""
    await world.stop_bot()
    for path in world.db.parent.glob(world.db.name + "*"):
        path.unlink()
    await world.start_bot()


async def test_old_buttons_do_not_act_on_a_new_job_with_the_same_number(world: World) -> None:
    other = world.fake.add_guild("other server")
    there = world.fake.add_channel(other, ChannelType.GUILD_TEXT, "lobby")
    mod = world.fake.user("mod", MEMBER_DEFAULT | MANAGE_MESSAGES)  # a moderator *there*
    await world.start_bot()
    first = status_of(world, await world.animate(channel=there, user=mod))
    thread = world.thread_of(first)
    assert thread is not None
    old_result = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    old_status = status_of(world, await world.animate(channel=there, user=mod))
    assert (job_of(old_result), job_of(old_status)) == (1, 2)

    await reset_database(world)
    alice_jobs = [
        job_of(status_of(world, await world.animate(prompt=f"alice's idea {n}"))) for n in (1, 2)
    ]
    assert alice_jobs == [1, 2], "the numbers on the old buttons now name alice's jobs"
    spent = creates(world)

    cancel = await world.fake.click(old_status, button(old_status, "cancel"), mod)
    assert NOT_ITS_MESSAGE in await answered(world, cancel)
    job = await world.service.get(2)
    assert job is not None and job.status.active, "alice's job was not canceled"

    regen = await world.fake.click(old_result, button(old_result, "regen"), mod)
    assert NOT_ITS_MESSAGE in await answered(world, regen)
    show = await world.fake.click(old_result, button(old_result, "show"), mod)
    assert NOT_ITS_MESSAGE in await answered(world, show)
    assert await world.service.recent(platform="discord", user=str(mod.id)) == []
    assert creates(world) == spent, "nothing was spent on alice's settings"
    shown = [m for m in world.fake.all_messages() if m.channel_id in (there.id, thread.id)]
    assert all("alice's idea" not in str(m.embeds) for m in shown), "nothing leaked there"


async def test_a_custom_id_that_is_not_on_the_clicked_message_is_dropped(world: World) -> None:
    # a modified client can send any custom_id; discord.py matches it against the message's
    # components and drops it, so the bot never even sees such a click
    await world.start_bot()
    first = status_of(world, await world.animate(prompt="first"))
    second = status_of(world, await world.animate(prompt="second"))
    mod = world.fake.user("mod", MEMBER_DEFAULT | MANAGE_MESSAGES)
    forged = await world.fake.click(second, f"animate:cancel:{job_of(first)}", mod)
    real = await world.fake.click(second, button(second, "cancel"), mod)  # handled after it
    assert "canceled" in await answered(world, real)
    assert forged.responses == [] and forged.followups == []
    job = await world.service.get(job_of(first))
    assert job is not None and job.status.active


async def test_private_copies_carry_no_buttons(world: World) -> None:
    # "Show again" and /animate-jobs replies are not the job's public messages: actions live
    # on the status and result messages only, so a copy has no component to click at all
    await world.start_bot()
    thread = world.thread_of(status_of(world, await world.animate()))
    assert thread is not None
    result = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    show = await world.fake.click(result, button(result, "show"), world.alice)
    await world.fake.wait_for(lambda: show.followups)
    copy = world.fake.find_message(show.followups[-1])
    assert copy is not None and copy.flags & 64 and copy.attachments and not copy.components
    listing = await world.run_slash("animate-jobs", job=job_of(result))
    reply = world.fake.find_message(listing.original_id or 0)
    assert reply is not None and reply.flags & 64 and not reply.components


async def test_regenerate_on_a_failure_notice_is_that_jobs_own_message(world: World) -> None:
    await world.start_bot()
    status = status_of(world, await world.animate())
    thread = world.thread_of(status)
    assert thread is not None
    canceled = await world.fake.click(status, button(status, "cancel"), world.alice)
    assert "canceled" in await answered(world, canceled)
    notice = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    regen = await world.fake.click(notice, button(notice, "regen"), world.alice)
    await world.fake.wait_for(lambda: regen.original_id and status_of(world, regen).embeds)
    assert len(await world.service.recent(platform="discord", user=str(world.alice.id))) == 2
