"""Cancel / Regenerate / Show again, /animate-jobs, and a restart between submit and result."""

from __future__ import annotations

from playground.fakediscord import MANAGE_MESSAGES, MEMBER_DEFAULT, FakeInteraction, FakeMessage
from tests.e2e.harness import World, button, results_in


def status(world: World, inter: FakeInteraction) -> FakeMessage:
    msg = world.fake.find_message(inter.original_id or 0)
    assert msg is not None
    return msg


async def answered(world: World, inter: FakeInteraction) -> str:
    await world.fake.wait_for(lambda: inter.followups)
    msg = world.fake.find_message(inter.followups[-1])
    assert msg is not None
    return msg.content


async def test_cancel_by_requester_and_refusal_for_others(world: World) -> None:
    await world.start_bot()
    inter = await world.animate()
    msg = status(world, inter)
    thread = world.thread_of(msg)
    assert thread is not None
    cancel_id = button(msg, "cancel")

    bob = world.fake.user("bob")
    refused = await world.fake.click(msg, cancel_id, bob)
    assert "Only the person" in await answered(world, refused)

    ok = await world.fake.click(msg, cancel_id, world.alice)
    assert "canceled" in await answered(world, ok)
    notice = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    assert "canceled" in notice.embeds[0]["description"]
    assert not [r for r in world.emu.request_log if r.method == "POST"], "never submitted"


async def test_regenerate_is_for_the_requester_or_a_moderator(world: World) -> None:
    # every video costs the server owner money: a stranger cannot spend it again
    await world.start_bot()
    inter = await world.animate()
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    first = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    creates = len([r for r in world.emu.request_log if r.method == "POST"])
    bob = world.fake.user("bob")
    refused = await world.fake.click(first, button(first, "regen"), bob)
    assert "Only the person" in await answered(world, refused)
    mod = world.fake.user("mod", MEMBER_DEFAULT | MANAGE_MESSAGES)
    allowed = await world.fake.click(first, button(first, "regen"), mod)
    await world.fake.wait_for(lambda: allowed.original_id and status(world, allowed).embeds)
    await world.drive(
        lambda: len([r for r in world.emu.request_log if r.method == "POST"]) > creates
    )
    assert len(await world.service.recent(platform="discord", user=str(mod.id))) == 1


async def test_moderator_may_cancel(world: World) -> None:
    await world.start_bot()
    msg = status(world, await world.animate())
    mod = world.fake.user("mod", MEMBER_DEFAULT | MANAGE_MESSAGES)
    click = await world.fake.click(msg, button(msg, "cancel"), mod)
    assert "canceled" in await answered(world, click)


async def test_regenerate_and_show_again(world: World) -> None:
    await world.start_bot()
    inter = await world.animate(seed=42)
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    first = (await world.drive(lambda: results_in(world.fake, thread)))[0]

    regen = await world.fake.click(first, button(first, "regen"), world.alice)
    await world.fake.wait_for(lambda: regen.original_id and status(world, regen).embeds)
    assert status(world, regen).channel_id == thread.id, "the new status sits in the same thread"
    both = await world.drive(
        lambda: len(results_in(world.fake, thread)) >= 2 and results_in(world.fake, thread)
    )
    second = both[1]
    assert second.embeds[0]["footer"]["text"] != first.embeds[0]["footer"]["text"]
    seed_of = {f["name"]: f["value"] for f in second.embeds[0]["fields"]}["Seed"]
    assert seed_of != "42", "a regeneration uses a new seed"

    show = await world.fake.click(first, button(first, "show"), world.alice)
    await world.fake.wait_for(lambda: show.followups)
    again = world.fake.find_message(show.followups[-1])
    assert again is not None and again.flags & 64 and again.attachments


async def test_jobs_command_lists_and_shows_again(world: World) -> None:
    await world.start_bot()
    inter = await world.animate(prompt="first one")
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    await world.drive(lambda: results_in(world.fake, thread))
    listing = await world.run_slash("animate-jobs")
    msg = world.fake.find_message(listing.original_id or 0)
    assert msg is not None and msg.flags & 64
    assert "first one" in msg.embeds[0]["description"] and "Done" in msg.embeds[0]["description"]
    job_id = int(results_in(world.fake, thread)[0].embeds[0]["footer"]["text"].split("#")[1])
    one = await world.run_slash("animate-jobs", job=job_id)
    shown = world.fake.find_message(one.original_id or 0)
    assert shown is not None and shown.attachments


async def test_restart_between_submit_and_result(world: World) -> None:
    await world.start_bot()
    inter = await world.animate()
    msg = status(world, inter)
    thread = world.thread_of(msg)
    assert thread is not None
    world.clock.advance(5)
    await world.tick()  # submitted to DashScope
    assert [r for r in world.emu.request_log if r.method == "POST"], "the task exists upstream"
    await world.stop_bot()

    world.clock.advance(60)  # the video finishes while the bot is down
    await world.start_bot()  # a NEW bot + service on the same SQLite file and emulator
    posted = await world.drive(lambda: results_in(world.fake, thread))
    for _ in range(3):  # more passes must not post it again
        world.clock.advance(30)
        await world.tick()
    assert len(results_in(world.fake, thread)) == 1 and posted[0].attachments
    creates = [r for r in world.emu.request_log if r.method == "POST"]
    assert len(creates) == 1, "no duplicate DashScope task after the restart"
    syncs = world.fake.requests("PUT", "/commands")
    assert len(syncs) == 1, "commands unchanged: the second start did not sync again"

    show = await world.fake.click(posted[0], button(posted[0], "show"), world.alice)
    await world.fake.wait_for(lambda: show.followups)
    assert world.fake.find_message(show.followups[-1]) is not None


def job_of(msg: FakeMessage) -> int:
    return int(msg.embeds[0]["footer"]["text"].split("#")[1])


async def test_show_again_is_refused_to_strangers_elsewhere(world: World) -> None:
    # job ids are small consecutive numbers: /animate-jobs job:<n> must not reveal other
    # people's prompts and videos outside the place they were posted
    await world.start_bot()
    inter = await world.animate(prompt="alice's secret")
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    first = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    bob = world.fake.user("bob")
    dm = world.fake.dm_with(bob)
    peek = await world.run_slash("animate-jobs", channel=dm, user=bob, job=job_of(first))
    shown = world.fake.find_message(peek.followups[-1] if peek.followups else peek.original_id or 0)
    assert shown is not None and shown.flags & 64
    assert not shown.attachments and "secret" not in str(shown.embeds) + shown.content
    assert "no job" in shown.content.lower()

    here = await world.fake.click(first, button(first, "show"), bob)  # where it was posted: ok
    await world.fake.wait_for(lambda: here.followups)
    again = world.fake.find_message(here.followups[-1])
    assert again is not None and again.flags & 64 and again.attachments


async def test_regenerate_failure_is_private_and_leaves_nothing_public(world: World) -> None:
    await world.start_bot()
    inter = await world.animate()
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    first = (await world.drive(lambda: results_in(world.fake, thread)))[0]
    inputs = list((world.tmp / "data" / "media" / "inputs").iterdir())
    assert inputs
    for path in inputs:  # inputs gone (e.g. removed by hand)
        path.unlink()

    regen = await world.fake.click(first, button(first, "regen"), world.alice)
    text = await answered(world, regen)
    assert "no longer on disk" in text
    msg = world.fake.find_message(regen.followups[-1])
    assert msg is not None and msg.flags & 64, "the refusal is ephemeral"
    public = [m for m in world.fake.messages_in(thread) if not m.flags & 64]
    assert all("no longer on disk" not in m.content for m in public)
    assert world.fake.find_message(regen.original_id or 0) is None or (
        world.fake.find_message(regen.original_id or 0).flags & 64  # type: ignore[union-attr]
    ), "no public 'thinking…' leftover"
