"""Every word in the user's language (issue 10): a zh-CN user sees Chinese from the command list
to the result; other locales get English; the commands carry their translations and a
translation edit re-syncs them."""

from __future__ import annotations

import json
import re
from typing import Any, cast

import pytest

from core import i18n
from playground.fakediscord import FakeMessage
from tests.e2e.harness import World, button, results_in
from tests.e2e.test_inputs import refusal

#: Discord's rule for command and option names (\p{L} and \p{N} in Python's terms)
NAME = re.compile(r"^[-_\w]{1,32}$")


def fields(message: FakeMessage) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields", [])}


def labels(message: FakeMessage) -> list[str]:
    return [str(c["label"]) for row in message.components for c in row.get("components", [])]


async def test_a_chinese_user_sees_chinese_from_command_to_result(world: World) -> None:
    await world.start_bot()
    mei = world.fake.user("mei", locale="zh-CN")
    inter = await world.animate(user=mei, prompt="小猫挥手", duration=2)
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None and status.embeds
    assert status.embeds[0]["title"] == "⏳ 排队中"
    assert {"设置", "排队", "预计完成", "预估费用"} <= set(fields(status))
    assert fields(status)["排队"] == "第 1 位 · 即将开始"  # a free slot: no start in the past
    assert status.embeds[0]["footer"]["text"] == f"任务 #{_job_of(status)}"
    assert labels(status) == ["取消"]

    thread = world.thread_of(status)
    assert thread is not None
    (result,) = await world.drive(lambda: results_in(world.fake, thread))
    assert result.embeds[0]["title"] == "✅ 你的视频做好了"
    got = fields(result)
    assert (got["模型"], got["分辨率"], got["时长"]) == ("Wan 2.6 Flash", "1080P", "2 秒")
    assert got["费用"] == "¥1.00" and got["提示词"] == "小猫挥手"
    assert labels(result) == ["重新生成", "再看一次"]
    titles = [
        r.json["embeds"][0]["title"] for r in world.fake.requests("PATCH", f"/messages/{status.id}")
    ]
    assert titles == ["⏳ 在视频服务排队中", "🎬 生成中", "✅ 完成"]
    assert fields(status)["结果"].startswith("[打开](")

    # a refusal, in Chinese, from its key and parameters
    text = refusal(world, await world.animate(user=mei, model="wan2.2-i2v-flash", duration=7))
    assert text == "wan2.2-i2v-flash 不能生成 7 秒的视频（支持：exactly 5 s）。"
    jobs = await world.run_slash("animate-jobs", user=mei)
    await world.fake.wait_for(lambda: jobs.followups)
    listing = world.fake.find_message(jobs.followups[-1])
    assert listing is not None and listing.embeds[0]["title"] == "你最近的视频"


def _job_of(status: FakeMessage) -> int:
    return int(str(status.embeds[0]["footer"]["text"]).split("#")[-1])


@pytest.mark.parametrize("locale", ["fr", "zh-TW", "en-GB"])
async def test_other_locales_fall_back_to_english(world: World, locale: str) -> None:
    await world.start_bot()
    user = world.fake.user("someone", locale=locale)
    inter = await world.animate(user=user, duration=2)
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None and status.embeds[0]["title"] == "⏳ Queued"
    assert labels(status) == ["Cancel"]
    text = refusal(world, await world.animate(user=user, model="wan2.2-i2v-flash", duration=7))
    assert text == "wan2.2-i2v-flash makes videos of exactly 5 s, not 7 s."
    await world.fake.click(status, button(status, "cancel"), user)
    (notice,) = await world.drive(lambda: results_in(world.fake, world.thread_of(status)))  # type: ignore[arg-type]  # the status has a thread
    assert notice.embeds[0]["title"] == "🚫 Canceled"


def _walk(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every command, subcommand and option of a sync payload."""
    out = []
    for item in commands:
        out.append(item)
        out.extend(_walk(item.get("options", [])))
    return out


async def test_commands_carry_their_translations_and_a_translation_edit_resyncs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.start_bot()
    synced = world.fake.synced["global"]
    by_name = {c["name"]: c for c in synced}
    animate = by_name["animate"]
    assert animate["description"] == "Turn an image into a short video"
    assert animate["description_localizations"] == {"zh-CN": "把一张图片变成短视频"}
    assert animate.get("name_localizations") in ({}, None)  # command names stay English
    options = {o["name"]: o for o in animate["options"]}
    assert options["prompt"]["name_localizations"] == {"zh-CN": "提示词"}
    silent = next(c for c in options["sound"]["choices"] if c["value"] == "silent")
    assert silent == {"name": "silent", "value": "silent", "name_localizations": {"zh-CN": "无声"}}
    config = by_name["animate-config"]
    assert int(config["default_member_permissions"]) == 1 << 5  # Manage Server
    assert config["contexts"] == [0]  # in servers only
    assert {o["name"] for o in config["options"]} == {
        "show", "channel", "role", "model", "limit", "media", "blocklist", "reset",
    }  # fmt: skip
    for item in _walk(synced):
        if "description" in item and item.get("type", 1) in (1, 2):  # commands, subcommands
            assert item.get("description_localizations", {}).get("zh-CN"), item["name"]
        for name in (item.get("name_localizations") or {}).values():
            assert NAME.match(name) and name == name.lower(), name
        for text in (item.get("description_localizations") or {}).values():
            assert len(text) <= 100, text
    await world.stop_bot()

    # an edited translation changes the payload, so the next start syncs again
    chinese = cast(dict[str, str], i18n.catalog(i18n.CHINESE))
    monkeypatch.setitem(chinese, "cmd.animate", "把图片变成视频")
    await world.start_bot()
    assert len(world.fake.requests("PUT", "/commands")) == 2
    again = {c["name"]: c for c in world.fake.synced["global"]}
    assert again["animate"]["description_localizations"] == {"zh-CN": "把图片变成视频"}
    state = json.loads((world.db.parent / "commands.sync.json").read_text())
    assert state["global"] == await world.bot.command_hash(None)
