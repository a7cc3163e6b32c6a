"""Issue 14 on Discord: end images, clips, Extend, Wan 3.0's unknown price and Frankfurt.

The real discord.py against the fake Discord, the real client against the emulator: what the
user attaches reaches DashScope as the model's own request (checked on the emulator's wire
log), what the user reads says which model was used and what is billed, refusals come before
anything is spent, and the Extend button works from a message posted by an earlier process.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.domain.catalog import Region
from core.domain.jobs import JobStatus
from core.domain.policy import Member
from playground.fakediscord import FakeChannel, FakeInteraction, FakeMessage
from tests.e2e.harness import World, button, png, results_in
from tests.emulator.helpers import clip_bytes, decoded_seconds

RED, BLUE = (220, 30, 30), (30, 30, 220)
#: simulated generation times (s) of the models these tests use
FAST = {
    "wan2.7-i2v": 20.0,
    "wan2.2-kf2v-flash": 20.0,
    "wanx2.1-kf2v-plus": 20.0,
    "wan3.0-video": 20.0,
}
pytestmark = pytest.mark.parametrize("emulator_overrides", [{"durations": FAST}])


def creates(world: World) -> list[tuple[str, dict[str, Any]]]:
    """The create requests DashScope received: (path, body)."""
    return [
        (r.path, r.json)
        for r in world.emu.request_log
        if r.method == "POST" and r.path.endswith("/video-synthesis")
    ]


def status(world: World, inter: FakeInteraction) -> FakeMessage:
    msg = world.fake.find_message(inter.original_id or 0)
    assert msg is not None
    return msg


def fields(msg: FakeMessage) -> dict[str, str]:
    return {f["name"]: f["value"] for f in msg.embeds[0]["fields"]}


def refusal(world: World, inter: FakeInteraction) -> str:
    assert inter.followups, "the bot answered with a followup"
    msg = world.fake.find_message(inter.followups[-1])
    assert msg is not None and msg.flags & 64, "the refusal is ephemeral"
    return msg.content


def picture(world: World, colour: tuple[int, int, int], name: str) -> Any:
    return world.fake.add_attachment(png(colour=colour), name, "image/png", width=320, height=240)


def job_of(msg: FakeMessage) -> int:
    return int(msg.embeds[0]["footer"]["text"].split("#")[1])


async def delivered(world: World, thread: FakeChannel, count: int = 1) -> list[FakeMessage]:
    return list(
        await world.drive(
            lambda: len(results_in(world.fake, thread)) >= count and results_in(world.fake, thread)
        )
    )


def ids(msg: FakeMessage) -> list[str]:
    return [str(c["custom_id"]) for row in msg.components for c in row.get("components", [])]


async def test_an_end_image_on_wan27_is_its_last_frame_and_the_result_can_be_extended(
    world: World,
) -> None:
    await world.start_bot()
    inter = await world.animate(
        model="wan2.7-i2v",
        resolution="720P",
        duration=3,
        image=picture(world, RED, "first.png"),
        end_image=picture(world, BLUE, "last.png"),
    )
    msg = status(world, inter)
    assert msg.content == "", "wan2.7 takes the end image itself: no model was switched"
    thread = world.thread_of(msg)
    assert thread is not None
    [result] = await delivered(world, thread)
    [(path, body)] = creates(world)
    assert path.endswith("/video-generation/video-synthesis")
    assert [m["type"] for m in body["input"]["media"]] == ["first_frame", "last_frame"]
    assert body["parameters"]["duration"] == 3
    assert any(i.startswith("animate:extend:") for i in ids(result))


async def test_an_end_image_sends_a_first_frame_model_to_its_kf2v_version_and_says_so(
    world: World,
) -> None:
    await world.start_bot()
    inter = await world.animate(
        model="wan2.2-i2v-flash",
        resolution="480P",
        image=picture(world, RED, "first.png"),
        end_image=picture(world, BLUE, "last.png"),
    )
    msg = status(world, inter)
    assert "wan2.2-i2v-flash" in msg.content and "wan2.2-kf2v-flash" in msg.content
    assert "first + last frame" in fields(msg)["Settings"]
    thread = world.thread_of(msg)
    assert thread is not None
    [result] = await delivered(world, thread)
    [(path, body)] = creates(world)
    assert path == "/api/v1/services/aigc/image2video/video-synthesis"
    assert body["model"] == "wan2.2-kf2v-flash"
    assert body["input"]["first_frame_url"].startswith("data:image/")
    assert body["input"]["last_frame_url"].startswith("data:image/")
    assert not any(i.startswith("animate:extend:") for i in ids(result)), "kf2v cannot continue"
    assert status(world, inter).content == msg.content, "the note survives the status edits"
    chen = world.fake.user("chen", locale="zh-CN")
    again = await world.animate(
        user=chen,
        model="wan2.2-i2v-flash",
        image=picture(world, RED, "first.png"),
        end_image=picture(world, BLUE, "last.png"),
    )
    assert status(world, again).content == (
        "wan2.2-i2v-flash 不支持指定尾帧，这个视频改由它的首尾帧版本 wan2.2-kf2v-flash 生成。"
    )


async def test_an_end_image_on_a_model_without_one_is_refused_before_anything(
    world: World,
) -> None:
    await world.start_bot()
    inter = await world.animate(
        model="wan2.6-i2v-flash", end_image=picture(world, BLUE, "last.png")
    )
    text = refusal(world, inter)
    assert "wan2.6-i2v-flash cannot end on a chosen image" in text
    assert "wan2.7-i2v" in text and "wan2.2-kf2v-flash" in text, "it names the models that can"
    assert world.emu.request_log == []
    assert await world.service.store.jobs_with_status(list(JobStatus)) == []


async def test_a_clip_option_is_continued_and_billed_for_the_whole_output(world: World) -> None:
    await world.start_bot()
    clip = world.fake.add_attachment(clip_bytes(3.0), "walk.mp4", "video/mp4")
    inter = await world.run_slash(
        "animate",
        prompt="she keeps walking",
        clip=clip,
        model="wan2.7-i2v",
        resolution="720P",
        duration=6,
    )
    msg = status(world, inter)
    shown = fields(msg)
    assert shown["Billing"] == (
        "DashScope bills the whole output: 6 s, the 3 s clip it continues included."
    )
    assert shown["Estimated cost"] == "¥3.60", "6 s × ¥0.60, the clip included"
    thread = world.thread_of(msg)
    assert thread is not None
    [result] = await delivered(world, thread)
    [(_, body)] = creates(world)
    [media] = body["input"]["media"]
    assert media["type"] == "first_clip" and media["url"].startswith("oss://")
    assert body["parameters"]["duration"] == 6
    job = await world.service.get(job_of(result))
    assert job is not None and job.clip_seconds == pytest.approx(3.0, abs=0.05)
    assert job.usage_seconds == 6.0 and job.cost == pytest.approx(3.6)


async def test_a_clip_with_an_image_is_refused_in_the_readers_language(world: World) -> None:
    await world.start_bot()
    chen = world.fake.user("chen", locale="zh-CN")
    clip = world.fake.add_attachment(clip_bytes(3.0), "walk.mp4", "video/mp4")
    inter = await world.animate(user=chen, model="wan2.7-i2v", clip=clip)
    text = refusal(world, inter)
    assert "图片 + 续写视频" in text, "the combination is named in Chinese"
    assert "续写视频 + 尾帧图片" in text and "image" not in text
    assert world.emu.request_log == []


async def test_extend_works_from_a_message_of_an_earlier_process_and_bills_the_whole(
    world: World,
) -> None:
    await world.start_bot()
    inter = await world.animate(model="wan2.7-i2v", resolution="720P", duration=5)
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    [first] = await delivered(world, thread)
    extend = button(first, "extend")
    await world.stop_bot()
    await world.start_bot()  # a new runtime: the button is rebuilt from its custom_id

    bob = world.fake.user("bob")
    stranger = await world.fake.click(first, extend, bob)
    await world.fake.wait_for(lambda: stranger.responses)
    assert "Only the person who started this job" in str(stranger.responses[-1])

    click = await world.fake.click(first, extend, world.alice)
    await world.fake.wait_for(lambda: click.responses)
    form = click.responses[-1]
    assert form["type"] == 9, "a form opens"
    assert "6-15" in str(form["data"]), "totals longer than the 5 s clip, up to 15 s"
    bad = await world.fake.submit_modal(click, ["the cat jumps", "4"])
    await world.fake.wait_for(lambda: bad.responses)
    assert "6-15" in str(bad.responses[-1]) and len(creates(world)) == 1

    await world.stop_bot()
    await world.start_bot()  # the form was opened by the earlier process: still answered
    sent = await world.fake.submit_modal(click, ["the cat jumps", "8"])
    await world.fake.wait_for(lambda: sent.original_id and status(world, sent).embeds)
    new = status(world, sent)
    assert new.channel_id == thread.id, "the continuation is posted in the same thread"
    assert fields(new)["Billing"] == (
        "DashScope bills the whole output: 8 s, the 5 s clip it continues included."
    )
    assert fields(new)["Estimated cost"] == "¥4.80"
    _, second = await delivered(world, thread, 2)
    (_, body) = creates(world)[-1]
    [media] = body["input"]["media"]
    assert media["type"] == "first_clip" and body["parameters"]["duration"] == 8
    assert body["input"]["prompt"] == "the cat jumps"
    child = await world.service.get(job_of(second))
    assert child is not None and child.parent_job_id == job_of(first)
    assert child.clip_seconds == pytest.approx(5.0, abs=0.1)
    assert child.usage_seconds == 8.0 and child.cost == pytest.approx(4.8)
    assert child.video_path is not None
    video = await asyncio.to_thread(Path(child.video_path).read_bytes)
    assert decoded_seconds(video) == pytest.approx(8.0, abs=0.1)
    # the ledger counts every second DashScope billed: 5 s + the whole 8 s continuation
    chat = child.chat
    usage = await world.service.usage(chat, Member())
    assert usage.personal.today.seconds == 13.0
    assert usage.personal.today.money == pytest.approx(3.0 + 4.8)


async def test_wan30_round_trip_says_its_price_is_unknown(world: World) -> None:
    await world.start_bot()
    inter = await world.animate(model="wan3.0-video", resolution="480P", duration=3)
    msg = status(world, inter)
    unknown = "unknown: DashScope has not published this model's price yet"
    assert fields(msg)["Estimated cost"] == unknown
    thread = world.thread_of(msg)
    assert thread is not None
    [result] = await delivered(world, thread)
    assert fields(result)["Cost"] == unknown, "billed, but nobody knows the price"
    [(path, body)] = creates(world)
    assert path.endswith("/video-generation/video-synthesis") and body["model"] == "wan3.0-video"
    assert body["parameters"]["ratio"] == "adaptive"
    chen = world.fake.user("chen", locale="zh-CN")
    again = await world.animate(user=chen, model="wan3.0-video", resolution="480P", duration=3)
    assert fields(status(world, again))["预估费用"] == "未知：阿里云百炼尚未公布该模型的价格"


async def test_frankfurt_refuses_what_it_cannot_do_naming_what_it_can(world: World) -> None:
    world.region = Region.FRANKFURT
    await world.start_bot()
    lacking = await world.animate(model="wan2.7-i2v")
    text = refusal(world, lacking)
    assert "not available in region eu-central-1" in text
    assert "wan2.6-i2v, wan3.0-video, wan3.0-video-prime" in text
    seven = await world.animate(model="wan2.6-i2v", duration=7)
    assert "5, 10 or 15 s" in refusal(world, seven)
    assert world.emu.request_log == []
    assert await world.service.store.jobs_with_status(list(JobStatus)) == []


async def test_a_first_and_last_frame_effect_runs_on_kf2v(world: World) -> None:
    await world.start_bot()
    inter = await world.run_slash("animate-effect", image=world.image(), effect="solaron")
    msg = status(world, inter)
    assert "Wan 2.1 Plus (first + last frame)" in fields(msg)["Settings"]
    thread = world.thread_of(msg)
    assert thread is not None
    await delivered(world, thread)
    [(path, body)] = creates(world)
    assert path == "/api/v1/services/aigc/image2video/video-synthesis"
    assert body["model"] == "wanx2.1-kf2v-plus" and body["input"]["template"] == "solaron"
    assert "last_frame_url" not in body["input"], "a template takes the first frame alone"


async def test_the_model_list_follows_what_is_attached(world: World) -> None:
    await world.start_bot()

    async def offered(**options: Any) -> list[str]:
        inter = await world.fake.autocomplete(
            "animate", world.text, world.alice, "model", **options
        )
        await world.fake.wait_for(lambda: inter.responses)
        return [c["value"] for c in inter.responses[0]["data"]["choices"]]

    alone = await offered(model="")
    assert "wan2.6-i2v-flash" in alone and not [m for m in alone if "kf2v" in m]
    ending = await offered(model="", end_image=picture(world, BLUE, "last.png"))
    assert {"wan2.7-i2v", "wan2.2-kf2v-flash", "wan2.2-i2v-flash"} <= set(ending)
    assert "wan2.6-i2v-flash" not in ending, "it can end on no image"
    clip = world.fake.add_attachment(clip_bytes(3.0), "walk.mp4", "video/mp4")
    assert await offered(model="", clip=clip) == ["wan2.7-i2v"]


async def test_a_clip_that_cannot_be_continued_is_refused_before_anything(world: World) -> None:
    await world.start_bot()
    long = world.fake.add_attachment(clip_bytes(11.0, fps=5), "long.mp4", "video/mp4")
    inter = await world.run_slash(
        "animate", prompt="more", clip=long, model="wan2.7-i2v", duration=15
    )
    assert "at most 10 s" in refusal(world, inter)
    short = world.fake.add_attachment(clip_bytes(3.0), "walk.mp4", "video/mp4")
    other = await world.run_slash("animate", prompt="more", clip=short, model="wan2.6-i2v-flash")
    text = refusal(world, other)
    assert "wan2.6-i2v-flash cannot continue a video" in text and "wan2.7-i2v" in text
    nothing = await world.run_slash("animate", prompt="more")
    assert "or a video to continue" in refusal(world, nothing)
    assert world.emu.request_log == []
    assert await world.service.store.jobs_with_status(list(JobStatus)) == []


async def test_a_clip_can_end_on_an_end_image(world: World) -> None:
    await world.start_bot()
    clip = world.fake.add_attachment(clip_bytes(3.0), "walk.mp4", "video/mp4")
    inter = await world.run_slash(
        "animate",
        prompt="she walks to the door",
        clip=clip,
        end_image=picture(world, BLUE, "door.png"),
        model="wan2.7-i2v",
        duration=5,
    )
    thread = world.thread_of(status(world, inter))
    assert thread is not None
    await world.drive(lambda: creates(world))
    [(_, body)] = creates(world)
    assert [m["type"] for m in body["input"]["media"]] == ["first_clip", "last_frame"]
