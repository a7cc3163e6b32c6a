"""Community controls on the fake Discord (issue 10): a limit from the environment alone, admin-only
settings with per-role overrides, the usage report, the refund notice and the live queue."""

from __future__ import annotations

from typing import Any

from core.domain.quota import Limits
from core.engine.config import EngineConfig
from playground.fakediscord import MANAGE_GUILD, MEMBER_DEFAULT, ChannelType, FakeMessage
from tests.e2e.harness import World, button, results_in
from tests.e2e.test_inputs import refusal


def fields(message: FakeMessage | None, index: int = 0) -> dict[str, str]:
    assert message is not None and message.embeds
    return {f["name"]: f["value"] for f in message.embeds[index].get("fields", [])}


def reply(world: World, inter: Any) -> FakeMessage:
    """The private answer to a command that deferred ephemerally."""
    assert inter.followups, "answered with a followup"
    msg = world.fake.find_message(inter.followups[-1])
    assert msg is not None and msg.flags & 64
    return msg


async def test_a_daily_allowance_from_the_environment_alone(world: World) -> None:
    """LIMIT_USER_DAILY_SECONDS=5: a user's second 5 s video of the day is refused before any
    DashScope task; another user is unaffected."""
    world.env = {"LIMIT_USER_DAILY_SECONDS": "5"}
    await world.start_bot()
    first = await world.animate(duration=5)
    assert not first.followups
    reads = len(world.fake.requests("GET", "/cdn/"))
    second = await world.animate(duration=5)
    text = refusal(world, second)
    assert "used 5 of your 5 video-seconds today" in text and "resets <t:" in text
    assert len(world.fake.requests("GET", "/cdn/")) == reads  # not even read
    bob = world.fake.user("bob")
    assert not (await world.animate(user=bob, duration=5)).followups
    await world.drive(lambda: _done(world, 2))
    assert len(world.emu.tasks) == 2  # alice's second never reached DashScope


def _done(world: World, n: int) -> bool:
    return sum(len(results_in(world.fake, c)) for c in world.fake.channels.values()) >= n


async def test_settings_are_for_admins_and_roles_can_have_more(world: World) -> None:
    vip = world.fake.add_role(world.guild, "vip")  # the guild's roles come with GUILD_CREATE
    await world.start_bot()
    admin = world.fake.user("admin", MEMBER_DEFAULT | MANAGE_GUILD)
    config = "animate-config"
    inter = await world.run_slash(config, subcommand="limit", limit="daily_seconds", value=2.0)
    assert "Only the server's admins" in refusal(world, inter)  # alice is not one

    inter = await world.run_slash(
        config, user=admin, subcommand="limit", limit="daily_seconds", value=2.0
    )
    saved = reply(world, inter)
    assert saved.content == "Saved."
    assert fields(saved)["Video-seconds per person per day"] == "2 s · *this server*"
    assert fields(saved)["Time between a person's requests"] == "no limit · *built-in default*"

    assert not (await world.animate(duration=2)).followups
    assert "used 2 of your 2 video-seconds" in refusal(world, await world.animate(duration=2))
    usage = reply(world, await world.run_slash("animate-usage"))
    today = fields(usage)["Today (UTC)"]
    assert today.startswith("2 s of 2 s · 0 s left · resets <t:")
    assert "This server this month" not in fields(usage)  # members see only their own

    await world.run_slash(
        config, user=admin, subcommand="limit", limit="daily_seconds", value=0.0, role=vip
    )
    world.alice.roles.append(vip.id)
    assert not (await world.animate(duration=2)).followups  # the role has no daily limit
    shown = reply(world, await world.run_slash(config, user=admin, subcommand="show"))
    assert (
        fields(shown)["Per-role limits"]
        == f"<@&{vip.id}>: Video-seconds per person per day no limit"
    )

    report = reply(world, await world.run_slash("animate-usage", user=admin))
    month = fields(report)["This server this month"]
    assert "spent or reserved (no budget set)" in month and "2 videos" in month
    assert f"<@{world.alice.id}>" in fields(report)["Top users this month"]


async def test_channels_outside_the_list_are_refused_with_the_allowed_ones(world: World) -> None:
    studio = world.fake.add_channel(world.guild, ChannelType.GUILD_TEXT, "studio")
    await world.start_bot()
    admin = world.fake.user("admin", MEMBER_DEFAULT | MANAGE_GUILD)
    inter = await world.run_slash(
        "animate-config", user=admin, subcommand="channel", action="allow"
    )
    assert "Pick what to add or remove" in refusal(world, inter)  # never a silent "clear"
    await world.run_slash(
        "animate-config",
        user=admin,
        subcommand="channel",
        action="allow",
        named={"channel": studio},
    )
    text = refusal(world, await world.animate())
    assert f"<#{studio.id}>" in text and "only in some channels" in text
    assert not (await world.animate(channel=studio)).followups


async def test_a_canceled_job_says_it_was_refunded(world: World) -> None:
    await world.start_bot()
    inter = await world.animate(duration=2)
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None
    assert fields(status)["Estimated cost"] == "¥1.00"  # 2 s at 1080P: reserved
    await world.fake.click(status, button(status, "cancel"), world.alice)
    thread = world.thread_of(status)
    assert thread is not None
    (notice,) = await world.drive(lambda: results_in(world.fake, thread))
    assert (
        "Refunded automatically: the ¥1.00 held for this video" in notice.embeds[0]["description"]
    )
    assert fields(status)["Refunded"] == "¥1.00 returned; nothing was billed"
    assert world.emu.tasks == {}


async def test_the_status_message_shows_the_place_in_the_queue(world: World) -> None:
    world.config = EngineConfig(progress_interval=10.0, concurrency={"wan2.6-i2v-flash": 1})
    world.limits = Limits()
    await world.start_bot()
    users = [world.alice, world.fake.user("bob"), world.fake.user("carol")]
    statuses = []
    for user in users:
        inter = await world.animate(user=user, duration=2)
        statuses.append(world.fake.find_message(inter.original_id or 0))
    last = statuses[-1]
    assert last is not None
    assert fields(last)["Queue"].startswith("#3 · starts <t:")  # as posted

    def places() -> list[str]:
        edits = world.fake.requests("PATCH", f"/messages/{last.id}")
        return [
            f["value"].split(" ")[0]
            for r in edits
            for f in r.json["embeds"][0]["fields"]
            if f["name"] == "Queue"
        ]

    await world.drive(lambda: places()[-1:] == ["#1"], step=5.0, passes=80)
    assert places() == ["#2", "#1"]
